package webclient

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strconv"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// Answer size caps.
const (
	maxTipAnswer     = 4 << 10  // {"height","hash","work"} and a few more fields
	maxHashAnswer    = 128      // 64 hex digits and a newline
	maxPeersAnswer   = 64 << 10 // a JSON array of HOST:PORT
	maxGenesisAnswer = params.MaxGenesisLine + 1
	maxBlockAnswer   = 32<<20 + 1 // a block line: the largest max_block_bytes a network may set, and a newline
	maxLineAnswer    = 64 << 10   // a transaction object, an address object
	maxPageAnswer    = 1 << 20    // a page of transaction objects (25, or 50 of the mempool)
	maxHistory       = 64 << 20   // an address's history, all its pages
	maxWorkDigits    = 80         // cumulative work in hex: 2^256 per block at most
)

// Tip is a chain's last block as a node's /api/tip reports it.
type Tip struct {
	Height uint64
	Hash   chainhash.Hash
	Work   *big.Int // cumulative work of the chain up to the tip
}

func (t Tip) String() string { return fmt.Sprintf("height %d (%x)", t.Height, t.Hash[:8]) }

// Tip reads /api/tip: {"height":N,"hash":HEX64,"work":HEX}. Other fields
// (cnj-chain tip's timestamp, target, mempool) are allowed and ignored.
func (c *Client) Tip(ctx context.Context, addr string) (Tip, error) {
	t, _, err := c.tip(ctx, addr)
	return t, err
}

// TipLine returns the /api/tip line, newline included, once it reads as
// Tip does.
func (c *Client) TipLine(ctx context.Context, addr string) ([]byte, error) {
	_, line, err := c.tip(ctx, addr)
	return line, err
}

func (c *Client) tip(ctx context.Context, addr string) (Tip, []byte, error) {
	const path = "/api/tip"
	b, err := c.Get(ctx, addr, path, maxTipAnswer)
	if err != nil {
		return Tip{}, nil, err
	}
	line := bytes.TrimSuffix(b, []byte("\n"))
	t, err := parseTip(line)
	if err != nil {
		return Tip{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, append(line, '\n'), nil
}

func parseTip(line []byte) (Tip, error) {
	v, err := jsonl.Parse(line)
	if err != nil {
		return Tip{}, err
	}
	o, err := v.Object()
	if err != nil {
		return Tip{}, err
	}
	var t Tip
	if t.Height, err = o.Uint("height"); err != nil {
		return Tip{}, err
	}
	if err = o.HexTo("hash", t.Hash[:]); err != nil {
		return Tip{}, err
	}
	w, err := o.String("work")
	if err != nil {
		return Tip{}, err
	}
	if t.Work, err = parseWork(w); err != nil {
		return Tip{}, err
	}
	return t, nil
}

// parseWork reads cumulative work as cnj-chain prints it: lowercase hex
// without leading zeros. Work is a number, not a fixed-size field, so it
// is not chainhash's to read.
func parseWork(s string) (*big.Int, error) {
	if s == "" || len(s) > maxWorkDigits || len(s) > 1 && s[0] == '0' {
		return nil, fmt.Errorf(`"work": %q is not hex without leading zeros`, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, fmt.Errorf(`"work": %q is not lowercase hex`, s)
		}
	}
	w, _ := new(big.Int).SetString(s, 16)
	return w, nil
}

// BlockHash reads /api/block-height/H: the hash of the node's main-chain
// block at height h, as text.
func (c *Client) BlockHash(ctx context.Context, addr string, h uint64) (chainhash.Hash, error) {
	path := "/api/block-height/" + strconv.FormatUint(h, 10)
	b, err := c.Get(ctx, addr, path, maxHashAnswer)
	if err != nil {
		return chainhash.Hash{}, err
	}
	hash, err := chainhash.ParseHash(string(bytes.TrimSuffix(b, []byte("\n"))))
	if err != nil {
		return hash, fmt.Errorf("%s: answer is not 64 lowercase hex digits", path)
	}
	return hash, nil
}

// Genesis reads /api/genesis: the network's genesis line.
func (c *Client) Genesis(ctx context.Context, addr string) (*params.Params, error) {
	p, _, err := c.genesis(ctx, addr)
	return p, err
}

// GenesisLine returns the /api/genesis line, newline included, once it
// reads as a genesis (params.Parse).
func (c *Client) GenesisLine(ctx context.Context, addr string) ([]byte, error) {
	_, line, err := c.genesis(ctx, addr)
	return line, err
}

func (c *Client) genesis(ctx context.Context, addr string) (*params.Params, []byte, error) {
	const path = "/api/genesis"
	b, err := c.Get(ctx, addr, path, maxGenesisAnswer)
	if err != nil {
		return nil, nil, err
	}
	line := bytes.TrimSuffix(b, []byte("\n"))
	p, err := params.Parse(line)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, append(line, '\n'), nil
}

// Peers reads /api/peers: a JSON array of strings, which the caller checks
// (they should be HOST:PORT of relays).
func (c *Client) Peers(ctx context.Context, addr string) ([]string, error) {
	const path = "/api/peers"
	b, err := c.Get(ctx, addr, path, maxPeersAnswer)
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: not a JSON array of strings: %v", path, err)
	}
	return list, nil
}

// BlockLine returns the line of the block with this hash, as stored
// (/api/block/H/raw): its block line, or the genesis line for block 0.
func (c *Client) BlockLine(ctx context.Context, addr string, hash chainhash.Hash) ([]byte, error) {
	return c.line(ctx, addr, "/api/block/"+hash.String()+"/raw", maxBlockAnswer)
}

// line fetches a one-line answer and returns it as one JSON object line,
// newline included. The web app's lines are compact, so they come back
// byte for byte.
func (c *Client) line(ctx context.Context, addr, path string, limit int64) ([]byte, error) {
	b, err := c.Get(ctx, addr, path, limit)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, fmt.Errorf("%s: not a JSON line: %v", path, err)
	}
	if out.Len() == 0 || out.Bytes()[0] != '{' {
		return nil, fmt.Errorf("%s: not a JSON object", path)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// TipHeight reads /api/blocks/tip/height: the height of the node's tip,
// as text.
func (c *Client) TipHeight(ctx context.Context, addr string) (uint64, error) {
	const path = "/api/blocks/tip/height"
	b, err := c.Get(ctx, addr, path, maxHashAnswer)
	if err != nil {
		return 0, err
	}
	s := string(bytes.TrimSuffix(b, []byte("\n")))
	h, err := strconv.ParseUint(s, 10, 64)
	if err != nil || s != strconv.FormatUint(h, 10) {
		return 0, fmt.Errorf("%s: answer is not a height", path)
	}
	return h, nil
}

// TxAt is a transaction as a node's web app reports it (Esplora's
// transaction object): a transfer or a reward, with its block when it is
// in one.
type TxAt struct {
	Transfer  *tx.Tx     // nil for a reward
	Reward    *tx.Reward // nil for a transfer
	Confirmed bool
	Height    uint64         // when Confirmed
	Block     chainhash.Hash // when Confirmed
	TxID      []byte         // a transfer's id, a reward's merkle leaf
}

// esploraTx is what the client reads of Esplora's transaction object.
type esploraTx struct {
	TxID string `json:"txid"`
	Vin  []struct {
		IsCoinbase bool `json:"is_coinbase"`
	} `json:"vin"`
	Status struct {
		Confirmed   bool   `json:"confirmed"`
		BlockHeight uint64 `json:"block_height"`
		BlockHash   string `json:"block_hash"`
	} `json:"status"`
	Tx json.RawMessage `json:"tx"`
}

// txAt reads one transaction object: cnj's "tx" field is the transfer's
// or the reward's own JSON, decoded strictly, and must agree with the
// object's txid and input.
func txAt(o *esploraTx) (TxAt, error) {
	at := TxAt{Confirmed: o.Status.Confirmed, Height: o.Status.BlockHeight}
	if at.Confirmed {
		h, err := chainhash.ParseHash(o.Status.BlockHash)
		if err != nil {
			return at, fmt.Errorf("status.block_hash: %v", err)
		}
		at.Block = h
	}
	if len(o.Vin) != 1 {
		return at, fmt.Errorf("%d inputs, not one", len(o.Vin))
	}
	v, err := jsonl.Parse(o.Tx)
	if err != nil {
		return at, fmt.Errorf("tx: %w", err)
	}
	if o.Vin[0].IsCoinbase {
		if at.Reward, err = tx.RewardFromValue(v); err != nil {
			return at, fmt.Errorf("tx: %w", err)
		}
		leaf := block.Leaf(at.Reward.Canonical())
		at.TxID = leaf[:]
	} else {
		if at.Transfer, err = tx.FromValue(v); err != nil {
			return at, fmt.Errorf("tx: %w", err)
		}
		at.TxID = at.Transfer.ID[:]
	}
	if o.TxID != hex.EncodeToString(at.TxID) {
		return at, fmt.Errorf("txid %q is not the transaction's", o.TxID)
	}
	return at, nil
}

// Tx reads /api/tx/TXID: the transaction with this txid (a transfer's id
// or a reward's leaf) and where it is.
func (c *Client) Tx(ctx context.Context, addr string, txid []byte) (TxAt, error) {
	path := "/api/tx/" + hex.EncodeToString(txid)
	b, err := c.Get(ctx, addr, path, maxLineAnswer)
	if err != nil {
		return TxAt{}, err
	}
	var o esploraTx
	if err := json.Unmarshal(b, &o); err != nil {
		return TxAt{}, fmt.Errorf("%s: not a transaction object: %v", path, err)
	}
	at, err := txAt(&o)
	if err != nil {
		return at, fmt.Errorf("%s: %w", path, err)
	}
	if !bytes.Equal(at.TxID, txid) {
		return at, fmt.Errorf("%s: answered another transaction", path)
	}
	return at, nil
}

// Balance is an address's balance as cnj's fields of /api/address/A give
// it.
type Balance struct {
	Confirmed, Immature uint64
	Pending             int64
	Height              uint64
}

// Balance reads /api/address/A: cnj's confirmed, immature, pending and
// height beside Esplora's totals.
func (c *Client) Balance(ctx context.Context, addr, address string) (Balance, error) {
	path := "/api/address/" + url.PathEscape(address)
	b, err := c.Get(ctx, addr, path, maxLineAnswer)
	if err != nil {
		return Balance{}, err
	}
	var o struct {
		Address   string  `json:"address"`
		Confirmed *uint64 `json:"confirmed"`
		Immature  *uint64 `json:"immature"`
		Pending   *int64  `json:"pending"`
		Height    *uint64 `json:"height"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return Balance{}, fmt.Errorf("%s: not an address object: %v", path, err)
	}
	if o.Address != address || o.Confirmed == nil || o.Immature == nil || o.Pending == nil || o.Height == nil {
		return Balance{}, fmt.Errorf("%s: not the address's balance", path)
	}
	return Balance{*o.Confirmed, *o.Immature, *o.Pending, *o.Height}, nil
}

// pageSize is how many confirmed transactions a page of an address's
// history holds (Esplora's 25): a shorter page is the last.
const pageSize = 25

// History reads an address's transactions: on the main chain, oldest
// first, page by page (/api/address/A/txs/chain, then
// /txs/chain/LAST_SEEN_TXID), then in the mempool, oldest first
// (/api/address/A/txs/mempool: its newest 50 at most). A history that
// changes between pages (a new block, a reorganization) may come back
// with a transaction twice or without one; at most maxHistory bytes are
// read in all.
func (c *Client) History(ctx context.Context, addr, address string) (chain, pending []TxAt, err error) {
	base := "/api/address/" + url.PathEscape(address) + "/txs"
	read := int64(0)
	page := func(path string) ([]TxAt, error) {
		b, err := c.Get(ctx, addr, path, min(maxPageAnswer, maxHistory-read))
		if err != nil {
			return nil, err
		}
		read += int64(len(b))
		var objs []esploraTx
		if err := json.Unmarshal(b, &objs); err != nil {
			return nil, fmt.Errorf("%s: not an array of transactions: %v", path, err)
		}
		out := make([]TxAt, len(objs))
		for i := range objs {
			if out[i], err = txAt(&objs[i]); err != nil {
				return nil, fmt.Errorf("%s: transaction %d: %w", path, i+1, err)
			}
		}
		return out, nil
	}
	path := base + "/chain"
	for {
		txs, err := page(path)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, txs...)
		if len(txs) < pageSize {
			break
		}
		path = base + "/chain/" + hex.EncodeToString(txs[len(txs)-1].TxID)
	}
	if pending, err = page(base + "/mempool"); err != nil {
		return nil, nil, err
	}
	slices.Reverse(chain)
	slices.Reverse(pending)
	return chain, pending, nil
}
