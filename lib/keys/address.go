package keys

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/rule"
)

const (
	// PubKeySize is the size of an Ed25519 public key in bytes.
	PubKeySize = ed25519.PublicKeySize

	// PayloadSize is the size of an address payload: the first 20 bytes of
	// SHA-256("CNJ-ADDR" || pubkey).
	PayloadSize = 20

	// ChecksumSize is the size of an address checksum: the first 4 bytes of
	// SHA-256(hrp || "1" || payload).
	ChecksumSize = 4

	// MaxHRPLen is the longest address prefix (hrp) allowed.
	MaxHRPLen = 10

	// dataLen is the number of hex characters after the separator.
	dataLen = 2 * (PayloadSize + ChecksumSize)

	// MaxAddressLen is the length of the longest valid address.
	MaxAddressLen = MaxHRPLen + 1 + dataLen
)

// Network address prefixes built into the toolkit.
const (
	MainHRP   = "cnj"
	DevnetHRP = "dcnj"
)

// payloadDomain separates address hashing from every other use of SHA-256.
const payloadDomain = "CNJ-ADDR"

// ValidHRP reports whether hrp can be an address prefix: 1 to 10 lowercase
// ASCII letters.
func ValidHRP(hrp string) bool {
	if len(hrp) == 0 || len(hrp) > MaxHRPLen {
		return false
	}
	for i := 0; i < len(hrp); i++ {
		if hrp[i] < 'a' || hrp[i] > 'z' {
			return false
		}
	}
	return true
}

// Address returns the wallet address of pub for the network whose address
// prefix is hrp: hrp + "1" + hex(payload || checksum), where
// payload = SHA-256("CNJ-ADDR" || pub)[:20] and
// checksum = SHA-256(hrp || "1" || payload)[:4].
//
// Address panics if pub is not PubKeySize bytes or hrp is not a valid prefix
// (see ValidHRP): both are programming errors, and an address that
// ParseAddress would refuse must never be handed out.
func Address(hrp string, pub ed25519.PublicKey) string {
	if len(pub) != PubKeySize {
		panic(fmt.Sprintf("keys: Address: public key is %d bytes, want %d", len(pub), PubKeySize))
	}
	if !ValidHRP(hrp) {
		panic(fmt.Sprintf("keys: Address: invalid address prefix %q", hrp))
	}
	h := sha256.New()
	h.Write([]byte(payloadDomain))
	h.Write(pub)
	var payload [PayloadSize]byte
	copy(payload[:], h.Sum(nil))
	sum := checksum(hrp, payload)

	var data [PayloadSize + ChecksumSize]byte
	copy(data[:], payload[:])
	copy(data[PayloadSize:], sum[:])
	return hrp + "1" + hex.EncodeToString(data[:])
}

func checksum(hrp string, payload [PayloadSize]byte) [ChecksumSize]byte {
	h := sha256.New()
	h.Write([]byte(hrp))
	h.Write([]byte{'1'})
	h.Write(payload[:])
	var sum [ChecksumSize]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// ParseAddress checks the format and checksum of s and returns its prefix
// and payload. It splits s at the first '1'. Every error carries the rule
// code bad-address and a short reason; none repeats the input, which may be
// long or contain control characters.
//
// ParseAddress does not know which network the caller is on: use
// CheckAddress for that.
func ParseAddress(s string) (hrp string, payload [PayloadSize]byte, err error) {
	hrp, data, ok := strings.Cut(s, "1")
	if !ok {
		return "", payload, rule.Errorf(rule.BadAddress, "no '1' separator after the prefix")
	}
	if hrp == "" {
		return "", payload, rule.Errorf(rule.BadAddress, "empty prefix before '1'")
	}
	if len(hrp) > MaxHRPLen {
		return "", payload, rule.Errorf(rule.BadAddress, "prefix is %d characters, want at most %d", len(hrp), MaxHRPLen)
	}
	if !ValidHRP(hrp) {
		return "", payload, rule.Errorf(rule.BadAddress, "prefix must be lowercase letters a-z")
	}
	if len(data) != dataLen {
		return "", payload, rule.Errorf(rule.BadAddress, "%d characters after the prefix, want %d", len(data), dataLen)
	}
	var raw [PayloadSize + ChecksumSize]byte
	if chainhash.Decode(raw[:], data) != nil {
		if strings.ContainsAny(data, "ABCDEF") && chainhash.Decode(raw[:], strings.ToLower(data)) == nil {
			return "", payload, rule.Errorf(rule.BadAddress, "uppercase hex: addresses are lowercase")
		}
		return "", payload, rule.Errorf(rule.BadAddress, "not hex after the prefix")
	}
	copy(payload[:], raw[:PayloadSize])
	want := checksum(hrp, payload)
	if [ChecksumSize]byte(raw[PayloadSize:]) != want {
		return "", [PayloadSize]byte{}, rule.Errorf(rule.BadAddress, "checksum mismatch: mistyped address?")
	}
	return hrp, payload, nil
}

// Payload returns the payload of an address that was already checked
// (CheckAddress): the 20 bytes between the prefix and the checksum, read
// without checking the checksum again. Within one network the payload is
// the address: two addresses with the same payload are the same. ok is
// false when s does not have an address's shape.
func Payload(s string) (payload [PayloadSize]byte, ok bool) {
	i := len(s) - dataLen
	if i < 2 || s[i-1] != '1' {
		return payload, false
	}
	return payload, chainhash.Decode(payload[:], s[i:i+2*PayloadSize]) == nil
}

// CheckAddress parses s and checks that it belongs to the network whose
// address prefix is hrp. A malformed address is refused with bad-address;
// a well-formed address of another network with wrong-network and a message
// such as "address is for devnet, this chain is main".
func CheckAddress(s, hrp string) error {
	got, _, err := ParseAddress(s)
	if err != nil {
		return err
	}
	if got != hrp {
		return rule.Errorf(rule.WrongNetwork, "address is for %s, this chain is %s", NetworkName(got), NetworkName(hrp))
	}
	return nil
}

// NetworkName returns the name people use for the network whose address
// prefix is hrp: "main" for "cnj", "devnet" for "dcnj", and the prefix
// itself for any other network.
func NetworkName(hrp string) string {
	switch hrp {
	case MainHRP:
		return "main"
	case DevnetHRP:
		return "devnet"
	}
	return hrp
}
