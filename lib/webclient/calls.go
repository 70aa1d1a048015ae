package webclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strconv"

	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/params"
)

// Answer size caps.
const (
	maxTipAnswer     = 4 << 10  // {"height","hash","work"} and a few more fields
	maxHashAnswer    = 128      // 64 hex digits and a newline
	maxPeersAnswer   = 64 << 10 // a JSON array of HOST:PORT
	maxGenesisAnswer = params.MaxGenesisLine + 1
	maxBlockAnswer   = 32<<20 + 1 // a block line: the largest max_block_bytes a network may set, and a newline
	maxLineAnswer    = 64 << 10   // a transfer with where it is, a balance
	maxHistory       = 64 << 20   // an address's events, a JSON array
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

// BlockLine returns the line of the block with this hash (/api/block/H):
// its block line, or the genesis line for block 0.
func (c *Client) BlockLine(ctx context.Context, addr string, hash chainhash.Hash) ([]byte, error) {
	return c.line(ctx, addr, "/api/block/"+hash.String(), maxBlockAnswer)
}

// TxLine returns the line of a transfer with where it is (/api/tx/ID).
func (c *Client) TxLine(ctx context.Context, addr string, id chainhash.ID) ([]byte, error) {
	return c.line(ctx, addr, "/api/tx/"+id.String(), maxLineAnswer)
}

// BalanceLine returns the balance line of an address (/api/address/A).
func (c *Client) BalanceLine(ctx context.Context, addr, address string) ([]byte, error) {
	return c.line(ctx, addr, "/api/address/"+url.PathEscape(address), maxLineAnswer)
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

// HistoryLines returns an address's events (/api/address/A/txs, a JSON
// array), one JSON line each, as cnj-chain history prints them.
func (c *Client) HistoryLines(ctx context.Context, addr, address string) ([]byte, error) {
	path := "/api/address/" + url.PathEscape(address) + "/txs"
	b, err := c.Get(ctx, addr, path, maxHistory)
	if err != nil {
		return nil, err
	}
	var events []json.RawMessage
	if err := json.Unmarshal(b, &events); err != nil {
		return nil, fmt.Errorf("%s: not a JSON array: %v", path, err)
	}
	var out bytes.Buffer
	for _, e := range events {
		if len(e) == 0 || e[0] != '{' {
			return nil, fmt.Errorf("%s: an event is not a JSON object", path)
		}
		json.Compact(&out, e) // valid: Unmarshal checked it
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}
