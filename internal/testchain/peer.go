package testchain

// The fake peer for tests of cnj-sync: an http.Handler serving a chain
// through the paths of cnj-serve that package chainsync reads (/api/tip,
// /api/block-height/:h, /api/chain, /api/genesis, /api/peers,
// /api/mempool/txids, /api/mempool/txs), from a list
// of block lines that a test may take from a chain directory and then
// change, and with a hook to make any answer lie.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
)

// Peer serves one chain. Set its fields before serving, or under Lock.
type Peer struct {
	mu     sync.Mutex
	p      *params.Params
	lines  [][]byte // lines[i] is the block at height i+1
	hashes [][32]byte
	works  []*big.Int // works[h]: cumulative work at height h

	// Peers is the answer of /api/peers.
	Peers []string
	// Pool are the transfer lines of the peer's pool, for
	// /api/mempool/txids and /api/mempool/txs?ids=.
	Pool [][]byte
	// Hook, when set, sees every request first; it returns true when it
	// answered. It is how a test makes the peer lie.
	Hook func(w http.ResponseWriter, r *http.Request) bool
	// NoZstd serves /api/chain uncompressed even when asked for zstd.
	NoZstd bool
	// Requests counts the requests served.
	Requests atomic.Int64
}

// New returns a peer of network p serving the chain of lines (block lines
// from height 1, each on the one before).
func New(p *params.Params, lines [][]byte) (*Peer, error) {
	fp := &Peer{p: p}
	return fp, fp.SetLines(lines)
}

// FromDir returns a peer serving the main chain of the chain directory dir.
func FromDir(dir string) (*Peer, error) {
	n, err := node.Open(dir)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	lines, err := MainLines(n)
	if err != nil {
		return nil, err
	}
	return New(n.Params(), lines)
}

// MainLines returns the block lines of n's main chain, from height 1.
func MainLines(n *node.Node) ([][]byte, error) {
	c := n.Chain()
	var lines [][]byte
	for h := uint64(1); h <= c.Tip().Height; h++ {
		b, err := c.Block(c.AtHeight(h))
		if err != nil {
			return nil, err
		}
		lines = append(lines, b.JSON())
	}
	return lines, nil
}

// SetLines replaces the chain. Lines must parse as blocks; whether they
// are valid is not checked (a lying peer serves invalid ones).
func (fp *Peer) SetLines(lines [][]byte) error {
	g := fp.p.Hash()
	hashes := [][32]byte{g}
	works := []*big.Int{pow.Work(&fp.p.InitialTarget)}
	for i, l := range lines {
		b, err := block.Parse(l)
		if err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
		hashes = append(hashes, b.Hash)
		works = append(works, new(big.Int).Add(works[i], pow.Work(&b.Target)))
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.lines, fp.hashes, fp.works = lines, hashes, works
	return nil
}

// Lines returns the chain served.
func (fp *Peer) Lines() [][]byte {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return fp.lines
}

// TipLine returns the honest /api/tip answer.
func (fp *Peer) TipLine() []byte {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	h := len(fp.lines)
	return fmt.Appendf(nil, `{"height":%d,"hash":"%x","timestamp":0,"work":"%x"}`+"\n", h, fp.hashes[h], fp.works[h])
}

// ServeHTTP answers the sync API.
func (fp *Peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fp.Requests.Add(1)
	if fp.Hook != nil && fp.Hook(w, r) {
		return
	}
	fp.mu.Lock()
	lines, hashes := fp.lines, fp.hashes
	fp.mu.Unlock()
	path := r.URL.Path
	switch {
	case path == "/api/tip":
		w.Header().Set("Content-Type", "application/json")
		w.Write(fp.TipLine())
	case strings.HasPrefix(path, "/api/block-height/"):
		h, err := strconv.ParseUint(strings.TrimPrefix(path, "/api/block-height/"), 10, 64)
		if err != nil || h >= uint64(len(hashes)) {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "%x", hashes[h])
	case path == "/api/genesis":
		w.Write(append(fp.p.JSON(), '\n'))
	case path == "/api/peers":
		b, _ := json.Marshal(append([]string{}, fp.Peers...))
		w.Write(b)
	case path == "/api/mempool/txids":
		fp.mu.Lock()
		pool := fp.Pool
		fp.mu.Unlock()
		ids := []string{}
		for _, l := range pool {
			var t struct{ ID string }
			json.Unmarshal(l, &t)
			ids = append(ids, t.ID)
		}
		b, _ := json.Marshal(ids)
		w.Write(b)
	case path == "/api/mempool/txs":
		fp.mu.Lock()
		pool := fp.Pool
		fp.mu.Unlock()
		want := map[string]bool{}
		for _, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
			want[id] = true
		}
		for _, l := range pool {
			var t struct{ ID string }
			if json.Unmarshal(l, &t) == nil && want[t.ID] {
				w.Write(append(l, '\n'))
			}
		}
	case path == "/api/chain":
		from, to, ok := Range(r, uint64(len(lines)))
		if !ok {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		var out [][]byte
		if from <= to {
			out = lines[from-1 : to]
		}
		WriteChain(w, r, out, !fp.NoZstd)
	default:
		http.NotFound(w, r)
	}
}

// Range reads from and to of /api/chain: from at least 1, to (default the
// tip) clamped to the tip. A range past the tip is empty (from > to).
func Range(r *http.Request, tip uint64) (from, to uint64, ok bool) {
	q := r.URL.Query()
	from, err := strconv.ParseUint(q.Get("from"), 10, 64)
	if err != nil || from < 1 {
		return 0, 0, false
	}
	to = tip
	if s := q.Get("to"); s != "" {
		if to, err = strconv.ParseUint(s, 10, 64); err != nil {
			return 0, 0, false
		}
		to = min(to, tip)
	}
	return from, to, true
}

// WriteChain writes lines as a /api/chain body, one a line, zstd-compressed
// when the request accepts it and compress is true.
func WriteChain(w http.ResponseWriter, r *http.Request, lines [][]byte, compress bool) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	var out io.Writer = w
	if compress && strings.Contains(r.Header.Get("Accept-Encoding"), "zstd") {
		w.Header().Set("Content-Encoding", "zstd")
		zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			panic(err)
		}
		defer zw.Close()
		out = zw
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	for _, l := range lines {
		bw.Write(l)
		if bw.WriteByte('\n') != nil {
			return // the client went away
		}
	}
	bw.Flush()
}
