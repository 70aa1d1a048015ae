package webclient

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chainhash"
)

// MaxHeaders is the most headers a Headers call asks for: cnj-serve's
// cap of one answer.
const MaxHeaders = 2000

// maxProofAnswer caps a merkle proof: 64 hashes of 64 hex digits and a
// few numbers.
const maxProofAnswer = 8 << 10

// Headers reads /api/headers/START?count=N: the canonical 200-byte headers
// of the node's main chain from height start, at most count (1 to
// MaxHeaders), fewer at its tip. They are decoded (block.DecodeHeader) and
// their heights checked; their work and links are the caller's to judge.
func (c *Client) Headers(ctx context.Context, addr string, start uint64, count int) ([]block.Header, error) {
	if count < 1 || count > MaxHeaders {
		return nil, fmt.Errorf("webclient: %d headers asked for, not 1 to %d", count, MaxHeaders)
	}
	path := "/api/headers/" + strconv.FormatUint(start, 10) + "?count=" + strconv.Itoa(count)
	b, err := c.Get(ctx, addr, path, int64(count)*block.HeaderSize)
	if err != nil {
		return nil, err
	}
	if len(b)%block.HeaderSize != 0 {
		return nil, fmt.Errorf("%s: %d bytes, not whole headers of %d", path, len(b), block.HeaderSize)
	}
	out := make([]block.Header, len(b)/block.HeaderSize)
	for i := range out {
		h, err := block.DecodeHeader(b[i*block.HeaderSize : (i+1)*block.HeaderSize])
		if err != nil {
			return nil, fmt.Errorf("%s: header %d: %w", path, i+1, err)
		}
		if h.Index != start+uint64(i) {
			return nil, fmt.Errorf("%s: header %d is of height %d", path, i+1, h.Index)
		}
		out[i] = h
	}
	return out, nil
}

// Proof is a merkle proof as /api/tx/TXID/merkle-proof gives it: the
// audit path of the transaction's leaf Pos among Count leaves of the
// block at Height.
type Proof struct {
	Height uint64
	Path   [][32]byte
	Pos    uint64
	Count  uint64
}

// MerkleProof reads /api/tx/TXID/merkle-proof. Whether it proves anything
// is block.VerifyProof's to say, against a header the caller trusts.
func (c *Client) MerkleProof(ctx context.Context, addr string, txid []byte) (Proof, error) {
	path := "/api/tx/" + hex.EncodeToString(txid) + "/merkle-proof"
	b, err := c.Get(ctx, addr, path, maxProofAnswer)
	if err != nil {
		return Proof{}, err
	}
	var o struct {
		Height *uint64  `json:"block_height"`
		Merkle []string `json:"merkle"`
		Pos    *uint64  `json:"pos"`
		Count  *uint64  `json:"tx_count"`
	}
	if err := json.Unmarshal(b, &o); err != nil || o.Height == nil || o.Pos == nil || o.Count == nil || o.Merkle == nil {
		return Proof{}, fmt.Errorf("%s: not a merkle proof", path)
	}
	p := Proof{Height: *o.Height, Pos: *o.Pos, Count: *o.Count, Path: make([][32]byte, len(o.Merkle))}
	for i, s := range o.Merkle {
		h, err := chainhash.ParseHash(s)
		if err != nil {
			return Proof{}, fmt.Errorf("%s: merkle %d: %v", path, i, err)
		}
		p.Path[i] = h
	}
	return p, nil
}

// Fate is what became of a transfer, as /api/tx/ID/fate says.
type Fate struct {
	State         string // "confirmed", "pending", "refused", "dropped" or "unknown"
	Height        uint64 // confirmed: its block's height, hash and depth
	Block         chainhash.Hash
	Confirmations uint64
	Reason, Msg   string // refused: the node's reason code and message; dropped: the code
	// Returned counts the times a reorganization put it back into the
	// source's pool (confirmed, then pending again).
	Returned uint64
}

// Fate reads /api/tx/ID/fate for a transfer's id.
func (c *Client) Fate(ctx context.Context, addr string, id chainhash.ID) (Fate, error) {
	path := "/api/tx/" + id.String() + "/fate"
	b, err := c.Get(ctx, addr, path, maxLineAnswer)
	if err != nil {
		return Fate{}, err
	}
	var o struct {
		TxID          string `json:"txid"`
		State         string `json:"state"`
		Height        uint64 `json:"block_height"`
		Hash          string `json:"block_hash"`
		Confirmations uint64 `json:"confirmations"`
		Reason        string `json:"reason"`
		Msg           string `json:"msg"`
		Returned      uint64 `json:"returned"`
	}
	if err := json.Unmarshal(b, &o); err != nil || o.TxID != id.String() {
		return Fate{}, fmt.Errorf("%s: not the transfer's fate", path)
	}
	f := Fate{State: o.State, Height: o.Height, Confirmations: o.Confirmations, Returned: o.Returned}
	switch o.State {
	case "confirmed":
		if f.Block, err = chainhash.ParseHash(o.Hash); err != nil {
			return Fate{}, fmt.Errorf("%s: block_hash: %v", path, err)
		}
	case "refused", "dropped":
		if !isCode(o.Reason) {
			return Fate{}, fmt.Errorf("%s: %s without a reason code", path, o.State)
		}
		f.Reason, f.Msg = o.Reason, printable(o.Msg)
	case "pending", "unknown":
	default:
		return Fate{}, fmt.Errorf("%s: state %q", path, printable(o.State))
	}
	return f, nil
}
