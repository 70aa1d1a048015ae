// Package block holds the block: its header and canonical 200-byte header
// encoding, the merkle root over its transactions, and its JSON line.
//
// The header is laid out so that everything but the proof fills exactly three
// SHA-256 blocks (192 bytes); the 8-byte proof is the whole variable tail, so a
// miner hashes the prefix once and each try costs one compression from the
// saved midstate (package pow/midstate). The hash covers the merkle root and
// so every byte of every transaction: unlike the whitepaper's
// sha256(x^2+PH^2), a proof cannot be reused with other transactions.
//
// Whether a block is valid is decided by package consensus; decoding here is
// strict and returns rule codes.
package block

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// PrefixSize is the length of the header before the proof; HeaderSize the whole.
const (
	PrefixSize = 192
	HeaderSize = 200
	// MaxMinerLen is the longest miner address the prefix can hold.
	MaxMinerLen = PrefixSize - 121
)

// Header is everything the block hash covers.
type Header struct {
	Index      uint64
	Timestamp  int64
	Miner      string
	Proof      uint64
	PrevHash   [32]byte
	Target     [32]byte
	MerkleRoot [32]byte
}

// Block is a header with its hash and transactions.
type Block struct {
	Header
	Hash   [32]byte // as carried in the line; consensus checks it
	Reward tx.Reward
	Txs    []*tx.Tx
	// Size is the length of the block's canonical line (AppendJSON), the
	// size max_block_bytes limits, once known: JSON sets it, and
	// CanonicalSize computes it when it is zero. It does not depend on
	// the line the block was decoded from: blanks between tokens are not
	// part of the block, so a padded copy of a line has the same size.
	Size int

	bodyChecked any // the *params.Params a consensus.Precheck passed for
	bodyFees    uint64
}

// MarkBodyChecked records that consensus.CheckBody just passed on b for
// the network of params (a *params.Params; any, as this package does not
// import params) with the given fees, so that a later CheckBody for the
// same network returns at once (cnj-sync checks a batch of blocks on every
// core before handing them to the node one by one). Only consensus.Precheck
// calls it, on a block decoded from a line: nothing of b may change
// afterwards.
func (b *Block) MarkBodyChecked(params any, fees uint64) { b.bodyChecked, b.bodyFees = params, fees }

// BodyChecked returns the fees MarkBodyChecked recorded for params.
func (b *Block) BodyChecked(params any) (fees uint64, ok bool) {
	if b.bodyChecked == nil || b.bodyChecked != params {
		return 0, false
	}
	return b.bodyFees, true
}

// Prefix returns the first 192 header bytes: all fields but the proof.
func (h *Header) Prefix() (p [PrefixSize]byte) {
	copy(p[0:8], "CNJ-BK-1")
	binary.BigEndian.PutUint64(p[8:16], h.Index)
	binary.BigEndian.PutUint64(p[16:24], uint64(h.Timestamp))
	copy(p[24:56], h.PrevHash[:])
	copy(p[56:88], h.Target[:])
	copy(p[88:120], h.MerkleRoot[:])
	p[120] = byte(len(h.Miner))
	copy(p[121:], h.Miner) // length checked by consensus; Decode refuses longer
	return p
}

// Bytes returns the canonical 200-byte header.
func (h *Header) Bytes() (b [HeaderSize]byte) {
	p := h.Prefix()
	copy(b[:], p[:])
	binary.BigEndian.PutUint64(b[PrefixSize:], h.Proof)
	return b
}

// DecodeHeader reads a canonical 200-byte header (Bytes), as a wallet
// that keeps only headers receives them. It refuses, with bad-field, any
// bytes that Bytes would not give back: another length or magic, a miner
// longer than MaxMinerLen, non-zero padding, a timestamp above int64.
// Whether the header is valid is consensus's to decide.
func DecodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) != HeaderSize {
		return h, rule.Errorf(rule.BadField, "header of %d bytes, not %d", len(b), HeaderSize)
	}
	if string(b[0:8]) != "CNJ-BK-1" {
		return h, rule.Errorf(rule.BadField, "header does not begin with CNJ-BK-1")
	}
	h.Index = binary.BigEndian.Uint64(b[8:16])
	ts := binary.BigEndian.Uint64(b[16:24])
	if ts > 1<<63-1 {
		return h, rule.Errorf(rule.BadField, "header timestamp %d above the largest", ts)
	}
	h.Timestamp = int64(ts)
	copy(h.PrevHash[:], b[24:56])
	copy(h.Target[:], b[56:88])
	copy(h.MerkleRoot[:], b[88:120])
	n := int(b[120])
	if n > MaxMinerLen {
		return h, rule.Errorf(rule.BadField, "header miner of %d bytes, above %d", n, MaxMinerLen)
	}
	h.Miner = string(b[121 : 121+n])
	for _, c := range b[121+n : PrefixSize] {
		if c != 0 {
			return h, rule.Errorf(rule.BadField, "header padding after the miner is not zero")
		}
	}
	h.Proof = binary.BigEndian.Uint64(b[PrefixSize:])
	return h, nil
}

// ComputeHash returns SHA-256 of the canonical header.
func (h *Header) ComputeHash() [32]byte {
	b := h.Bytes()
	return sha256.Sum256(b[:])
}

// MerkleRoot computes the root over the reward and the transfers, in order:
// leaf = SHA-256(0x00 || canonical bytes), node = SHA-256(0x01 || l || r),
// splitting n > 1 leaves at the largest power of two below n (RFC 6962).
func MerkleRoot(genesis [32]byte, r *tx.Reward, txs []*tx.Tx) [32]byte {
	return merkle(Leaves(genesis, r, txs))
}

// Leaves returns the merkle leaves of a block's transactions: the
// reward's first, then each transfer's, in order.
func Leaves(genesis [32]byte, r *tx.Reward, txs []*tx.Tx) [][32]byte {
	leaves := make([][32]byte, 0, 1+len(txs))
	leaves = append(leaves, Leaf(r.Canonical()))
	for _, t := range txs {
		leaves = append(leaves, Leaf(t.Canonical(genesis)))
	}
	return leaves
}

// Leaf returns the merkle leaf of a transaction's canonical bytes:
// SHA-256(0x00 || canonical). A reward's leaf is also its txid in the web
// API, since a reward has no id of its own.
func Leaf(canonical []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(canonical)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func merkle(l [][32]byte) [32]byte {
	if len(l) == 1 {
		return l[0]
	}
	k := split(len(l))
	return node(merkle(l[:k]), merkle(l[k:]))
}

// split is where n > 1 leaves divide: the largest power of two below n.
func split(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func node(a, b [32]byte) [32]byte {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], a[:])
	copy(buf[33:], b[:])
	return sha256.Sum256(buf[:])
}

// MerkleProof returns the audit path of leaf pos among leaves (RFC 9162,
// 2.1.3.1): the sibling hashes from the leaf up to the root. It returns
// nil when pos is out of range, and an empty path for a single leaf.
func MerkleProof(leaves [][32]byte, pos int) [][32]byte {
	steps := MerklePath(leaves, pos)
	if steps == nil {
		return nil
	}
	path := make([][32]byte, len(steps))
	for i, s := range steps {
		path[i] = s.Sibling
	}
	return path
}

// PathStep is one level of an audit path: the sibling's hash, and whether
// it is the left child (the parent is SHA-256(0x01 || sibling || node))
// or the right one (SHA-256(0x01 || node || sibling)).
type PathStep struct {
	Sibling [32]byte
	Left    bool
}

// MerklePath returns MerkleProof's audit path with the side of each
// sibling, from the leaf up: what a reader needs to recompute the root by
// hand. It returns nil when pos is out of range.
func MerklePath(leaves [][32]byte, pos int) []PathStep {
	if pos < 0 || pos >= len(leaves) {
		return nil
	}
	path := []PathStep{}
	for len(leaves) > 1 {
		k := split(len(leaves))
		if pos < k {
			path = append(path, PathStep{merkle(leaves[k:]), false})
			leaves = leaves[:k]
		} else {
			path = append(path, PathStep{merkle(leaves[:k]), true})
			leaves, pos = leaves[k:], pos-k
		}
	}
	// Collected from the root down: the proof reads from the leaf up.
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}

// MerkleParent returns the inner node over left and right:
// SHA-256(0x01 || left || right).
func MerkleParent(left, right [32]byte) [32]byte { return node(left, right) }

// VerifyProof reports whether path proves that leaf is leaf pos of a tree
// of n leaves whose root is root (RFC 9162, 2.1.3.2): what a wallet that
// keeps only headers checks a transaction against.
func VerifyProof(leaf [32]byte, pos, n uint64, path [][32]byte, root [32]byte) bool {
	if pos >= n {
		return false
	}
	fn, sn, r := pos, n-1, leaf
	for _, p := range path {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = node(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = node(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && r == root
}

// AppendJSON appends the block line (no newline).
func (b *Block) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"block","index":`...)
	dst = strconv.AppendUint(dst, b.Index, 10)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, b.Timestamp, 10)
	dst = append(dst, `,"miner":"`...)
	dst = append(dst, b.Miner...)
	dst = append(dst, `","proof":`...)
	dst = strconv.AppendUint(dst, b.Proof, 10)
	for _, f := range []struct {
		k string
		v *[32]byte
	}{{"previous_hash", &b.PrevHash}, {"target", &b.Target}, {"merkle_root", &b.MerkleRoot}, {"hash", &b.Hash}} {
		dst = append(dst, `,"`...)
		dst = append(dst, f.k...)
		dst = append(dst, `":"`...)
		dst = hex.AppendEncode(dst, f.v[:])
		dst = append(dst, '"')
	}
	dst = append(dst, `,"transactions":[`...)
	dst = b.Reward.AppendJSON(dst)
	for _, t := range b.Txs {
		dst = append(dst, ',')
		dst = t.AppendJSON(dst)
	}
	return append(dst, "]}"...)
}

// JSON returns the block line and sets Size to its length.
func (b *Block) JSON() []byte {
	line := b.AppendJSON(make([]byte, 0, 512+len(b.Txs)*480))
	b.Size = len(line)
	return line
}

// CanonicalSize returns Size, computing it first when it is zero: the
// length of AppendJSON's line, counted one transaction at a time so that
// the line is never held whole. b must not change afterwards (or call JSON
// again).
func (b *Block) CanonicalSize() int {
	if b.Size > 0 {
		return b.Size
	}
	buf := make([]byte, 0, 1024)
	head := Block{Header: b.Header, Hash: b.Hash, Reward: b.Reward}
	n := len(head.AppendJSON(buf)) // the header, the reward and "]}"
	for _, t := range b.Txs {
		n += 1 + len(t.AppendJSON(buf[:0])) // a comma and the transfer
	}
	b.Size = n
	return n
}

// Parse decodes one block line strictly. The reward must be the first
// transaction; a reward anywhere else is extra-reward, none is no-reward.
func Parse(line []byte) (*Block, error) {
	v, err := jsonl.Parse(line)
	if err != nil {
		return nil, err
	}
	return FromValue(v)
}

// ParseHeader decodes the header fields of a block line. It checks the
// line as Parse does but for what the transactions hold: their JSON is
// checked (a line that is not JSON gets Parse's error) and not decoded. The
// block has no reward and no transactions, and so no Size.
// cnj-sync reads a download with it, checking links and proofs of work
// before the blocks are decoded in full.
func ParseHeader(line []byte) (*Block, error) {
	v, err := jsonl.ParseSkipping(line, "transactions")
	if err != nil {
		return nil, err
	}
	b, _, err := header(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// FromValue decodes a block from a parsed JSON value.
func FromValue(v jsonl.Value) (*Block, error) {
	b, arr, err := header(v)
	if err != nil {
		return nil, err
	}
	if len(arr) == 0 {
		return nil, rule.Errorf(rule.NoReward, "block has no transactions, not even its reward")
	}
	r, err := tx.RewardFromValue(arr[0])
	if err != nil {
		return nil, err
	}
	b.Reward = *r
	b.Txs = make([]*tx.Tx, 0, len(arr)-1)
	for i, v := range arr[1:] {
		t, err := tx.FromValue(v)
		if err != nil {
			if o, oerr := v.Object(); oerr == nil {
				if typ, _ := tx.Type(o); typ == "reward" {
					return nil, rule.Errorf(rule.ExtraReward, "transaction %d is a second reward", i+1)
				}
			}
			return nil, fmt.Errorf("transaction %d: %w", i+1, err)
		}
		b.Txs = append(b.Txs, t)
	}
	return b, nil
}

// header decodes a block's fields but for its transactions, and returns
// their values.
func header(v jsonl.Value) (*Block, []jsonl.Value, error) {
	o, typ, err := tx.Typed(v)
	if err != nil {
		return nil, nil, err
	}
	if typ != "block" {
		return nil, nil, rule.Errorf(rule.BadType, "type %q where a block was expected", typ)
	}
	b := &Block{}
	f := jsonl.NewFields(o)
	b.Index = f.Uint("index")
	b.Timestamp = tx.Timestamp(f, "timestamp")
	b.Miner = f.Str("miner")
	if len(b.Miner) > MaxMinerLen {
		f.Keep(rule.Errorf(rule.BadAddress, "miner address of %d bytes", len(b.Miner)))
	}
	b.Proof = f.Uint("proof")
	f.Hex("previous_hash", b.PrevHash[:])
	f.Hex("target", b.Target[:])
	f.Hex("merkle_root", b.MerkleRoot[:])
	f.Hex("hash", b.Hash[:])
	arr := f.Array("transactions")
	if err := f.Done(); err != nil {
		return nil, nil, err
	}
	return b, arr, nil
}
