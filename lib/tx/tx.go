// Package tx holds the two kinds of transaction, the signed transfer (Tx) and
// the block reward (Reward): their JSON lines, their one canonical binary
// encoding, the hash a transfer's signature covers, and signing.
//
// The canonical encodings (cnj-format(5)) are the only input to hashes; JSON
// is never hashed. Decoding is strict (package jsonl) and returns rule codes.
// Whether a transfer is valid (signature, addresses, amounts, funds) is
// decided by package consensus and package ledger, not here.
package tx

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/rule"
)

// MaxTimestamp bounds every timestamp field (year 36812): far beyond any
// clock, small enough that no arithmetic on it overflows an int64.
const MaxTimestamp = 1 << 40

// Tx is a signed transfer.
type Tx struct {
	ID        [16]byte
	Sender    string // address of PubKey
	PubKey    [32]byte
	Receiver  string
	Amount    uint64
	Fee       uint64
	Timestamp int64
	Hash      [32]byte // SHA-256 of the signing preimage
	Signature [64]byte // Ed25519 over Hash
}

// Reward is a block's first transaction: the subsidy and fees to the miner.
type Reward struct {
	Receiver string
	Amount   uint64
	Index    uint64 // the block's index, so that no two rewards hash alike
}

func appendStr(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }

// Preimage returns the bytes the hash covers: every field but hash and
// signature, domain-separated and bound to the network's genesis hash.
func (t *Tx) Preimage(genesis [32]byte) []byte {
	b := make([]byte, 0, 8+32+16+32+2+len(t.Sender)+len(t.Receiver)+24+64)
	b = append(b, "CNJ-TX-1"...)
	b = append(b, genesis[:]...)
	b = append(b, t.ID[:]...)
	b = append(b, t.PubKey[:]...)
	b = appendStr(b, t.Sender)
	b = appendStr(b, t.Receiver)
	b = binary.BigEndian.AppendUint64(b, t.Amount)
	b = binary.BigEndian.AppendUint64(b, t.Fee)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Timestamp))
	return b
}

// ComputeHash returns SHA-256 of the preimage.
func (t *Tx) ComputeHash(genesis [32]byte) [32]byte { return sha256.Sum256(t.Preimage(genesis)) }

// Canonical returns the full canonical bytes, signature included: what the
// block's merkle root commits to.
func (t *Tx) Canonical(genesis [32]byte) []byte {
	return append(t.Preimage(genesis), t.Signature[:]...)
}

// Sign fills PubKey from priv, Hash and Signature. Sender must already be the
// address of priv's public key (the caller knows the network's prefix).
func (t *Tx) Sign(genesis [32]byte, priv ed25519.PrivateKey) {
	copy(t.PubKey[:], priv.Public().(ed25519.PublicKey))
	t.Hash = t.ComputeHash(genesis)
	copy(t.Signature[:], ed25519.Sign(priv, t.Hash[:]))
}

// Canonical returns the reward's canonical bytes.
func (r *Reward) Canonical() []byte {
	b := make([]byte, 0, 8+8+1+len(r.Receiver)+8)
	b = append(b, "CNJ-RW-1"...)
	b = binary.BigEndian.AppendUint64(b, r.Index)
	b = appendStr(b, r.Receiver)
	return binary.BigEndian.AppendUint64(b, r.Amount)
}

// AppendJSON appends the transfer's JSON line (no newline) in field order.
func (t *Tx) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":"tx","id":"`...)
	b = hex.AppendEncode(b, t.ID[:])
	b = append(b, `","sender":"`...)
	b = append(b, t.Sender...)
	b = append(b, `","pubkey":"`...)
	b = hex.AppendEncode(b, t.PubKey[:])
	b = append(b, `","receiver":"`...)
	b = append(b, t.Receiver...)
	b = append(b, `","amount":`...)
	b = strconv.AppendUint(b, t.Amount, 10)
	b = append(b, `,"fee":`...)
	b = strconv.AppendUint(b, t.Fee, 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, t.Timestamp, 10)
	b = append(b, `,"hash":"`...)
	b = hex.AppendEncode(b, t.Hash[:])
	b = append(b, `","signature":"`...)
	b = hex.AppendEncode(b, t.Signature[:])
	return append(b, `"}`...)
}

// AppendJSON appends the reward's JSON object.
func (r *Reward) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":"reward","receiver":"`...)
	b = append(b, r.Receiver...)
	b = append(b, `","amount":`...)
	b = strconv.AppendUint(b, r.Amount, 10)
	b = append(b, `,"index":`...)
	b = strconv.AppendUint(b, r.Index, 10)
	return append(b, '}')
}

// Type returns the "type" of a decoded record, or a rule error.
func Type(o *jsonl.Obj) (string, error) {
	typ, err := o.String("type")
	if err != nil {
		return "", err
	}
	return typ, knownType(typ)
}

// Typed returns v as an object and its type, one that a record of
// cnj-format(5) has, or a rule error.
func Typed(v jsonl.Value) (*jsonl.Obj, string, error) {
	o, typ, err := v.Typed()
	if err == nil {
		err = knownType(typ)
	}
	return o, typ, err
}

// knownType refuses a type that no record of cnj-format(5) has.
func knownType(typ string) error {
	switch typ {
	case "tx", "reward", "block", "genesis":
		return nil
	}
	return rule.Errorf(rule.BadType, "unknown type %q", typ)
}

// Parse decodes one transfer line strictly.
func Parse(line []byte) (*Tx, error) {
	v, err := jsonl.Parse(line)
	if err != nil {
		return nil, err
	}
	return FromValue(v)
}

// FromValue decodes a transfer from a parsed JSON value.
func FromValue(v jsonl.Value) (*Tx, error) {
	o, typ, err := Typed(v)
	if err != nil {
		return nil, err
	}
	if typ != "tx" {
		return nil, rule.Errorf(rule.BadType, "type %q where a tx was expected", typ)
	}
	t := &Tx{}
	f := jsonl.NewFields(o)
	f.Hex("id", t.ID[:])
	t.Sender = f.Str("sender")
	f.Hex("pubkey", t.PubKey[:])
	t.Receiver = f.Str("receiver")
	t.Amount = f.Uint("amount")
	t.Fee = f.Uint("fee")
	t.Timestamp = timestamp(f, "timestamp")
	f.Hex("hash", t.Hash[:])
	f.Hex("signature", t.Signature[:])
	if err := f.Done(); err != nil {
		return nil, err
	}
	return t, nil
}

// RewardFromValue decodes a reward from a parsed JSON value.
func RewardFromValue(v jsonl.Value) (*Reward, error) {
	o, typ, err := Typed(v)
	if err != nil {
		return nil, err
	}
	if typ != "reward" {
		return nil, rule.Errorf(rule.NoReward, "first transaction is a %s, not a reward", typ)
	}
	r := &Reward{}
	f := jsonl.NewFields(o)
	r.Receiver = f.Str("receiver")
	r.Amount = f.Uint("amount")
	r.Index = f.Uint("index")
	if err := f.Done(); err != nil {
		return nil, err
	}
	return r, nil
}

// timestamp reads a timestamp field: a number no larger than MaxTimestamp.
func timestamp(f *jsonl.Fields, key string) int64 {
	n := f.Uint(key)
	if n > MaxTimestamp {
		f.Keep(rule.Errorf(rule.BadField, "%s %d out of range", key, n))
		return 0
	}
	return int64(n)
}

// Timestamp is the timestamp reader shared with package block.
func Timestamp(f *jsonl.Fields, key string) int64 { return timestamp(f, key) }
