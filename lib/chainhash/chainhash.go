package chainhash

import (
	"encoding/hex"

	"github.com/coniunctum/cnj/lib/rule"
)

// Sizes in bytes.
const (
	HashSize = 32
	IDSize   = 16
)

// Hash is a 32-byte hash, printed as 64 lowercase hex digits.
type Hash [HashSize]byte

// ID is a transfer's 16-byte id, printed as 32 lowercase hex digits.
type ID [IDSize]byte

// ParseHash reads a hash: exactly 64 lowercase hex digits. On error the
// hash is zero.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if err := Decode(h[:], s); err != nil {
		return Hash{}, err
	}
	return h, nil
}

// ParseID reads a transfer id: exactly 32 lowercase hex digits. On error
// the id is zero.
func ParseID(s string) (ID, error) {
	var id ID
	if err := Decode(id[:], s); err != nil {
		return ID{}, err
	}
	return id, nil
}

// String returns h as 64 lowercase hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// AppendHex appends h as 64 lowercase hex digits to dst.
func (h Hash) AppendHex(dst []byte) []byte { return hex.AppendEncode(dst, h[:]) }

// String returns id as 32 lowercase hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// AppendHex appends id as 32 lowercase hex digits to dst.
func (id ID) AppendHex(dst []byte) []byte { return hex.AppendEncode(dst, id[:]) }

// Decode fills dst from src, which must be exactly 2*len(dst) lowercase hex
// digits. Its error is a *rule.Error with code bad-hex whose message does
// not quote src; dst is then left partly written.
func Decode(dst []byte, src string) error {
	if len(src) != 2*len(dst) {
		return rule.Errorf(rule.BadHex, "want %d hex digits, got %d", 2*len(dst), len(src))
	}
	for i := range dst {
		hi, lo := unhex[src[2*i]], unhex[src[2*i+1]]
		if hi|lo == 0xff {
			return rule.Errorf(rule.BadHex, "not lowercase hex")
		}
		dst[i] = hi<<4 | lo
	}
	return nil
}

// unhex maps '0'-'9' and 'a'-'f' to their values and every other byte to
// 0xff, which no pair of digits can OR to.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()
