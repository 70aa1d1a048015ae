package node

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/mempool"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/txindex"
	"github.com/coniunctum/cnj/lib/wire"
)

// Options are a Node's settings; a zero field takes its default.
type Options struct {
	// MaxPool bounds the mempool (DefaultMaxPool transfers).
	MaxPool int
	// Store are the block store's settings.
	Store blockstore.Options
	// Index are the transfer index's settings (package txindex).
	Index txindex.Options
}

// DefaultMaxPool is the mempool's bound when Options.MaxPool is zero.
const DefaultMaxPool = 50_000

// Node is an open chain directory: the block store, the block tree and
// ledger built from it (package chain), and the mempool, kept up to date
// with what every process writes (Refresh), and the way to write (Write,
// Submit).
//
// A Node is not safe for concurrent use: Refresh, Write, Submit, Check and
// Close need it to themselves. Between them, read-only use of Chain()
// (which reads blocks through the store) and Pool may run in several
// goroutines.
type Node struct {
	Pool *mempool.Pool
	// Now is the clock, replaceable in tests.
	Now func() int64

	dir   chaindir.Dir
	p     *params.Params
	o     Options
	store *blockstore.Store
	ch    *chain.Chain
	mem   *chaindir.Mempool
	w     *Writer // during Write
	wrote bool    // a Write stored blocks: Close writes the state

	memFirst []byte // identity of the mempool lines the pool was built from
	memLen   int
	tip      [32]byte

	// The transfer index (index.go).
	writing   bool                      // inside Write: keep the blocks taken
	taken     map[[32]byte]*block.Block // blocks connected or disconnected in this write
	indexedAt [32]byte                  // the tip the index was last brought to
	indexErr  error                     // why the last update of the index failed
}

// Create makes a new chain directory at dir for the network p, with the
// block store's empty index (chaindir.Create).
func Create(dir string, p *params.Params) error {
	return CreateWith(dir, p, chaindir.CreateOptions{})
}

// CreateWith is Create with what o records besides: the source and first
// peers of a directory that joins a network.
func CreateWith(dir string, p *params.Params, o chaindir.CreateOptions) error {
	o.Init = blockstore.Init(p.Hash())
	return chaindir.Create(dir, p, o)
}

// Open opens the chain directory at dir with the default Options.
func Open(dir string) (*Node, error) { return OpenWith(dir, Options{}) }

// OpenWith opens the chain directory at dir for reading, without the lock:
// it reads the genesis, the index and the state, recovers in memory from a
// crash of a writer (package blockstore), brings the chain to its best
// tip and builds the mempool. Damage that the derived files cannot explain
// is a *chaindir.CorruptError naming the file and line.
func OpenWith(dir string, o Options) (*Node, error) {
	if o.MaxPool <= 0 {
		o.MaxPool = DefaultMaxPool
	}
	d := chaindir.Dir(dir)
	p, err := d.ReadGenesis()
	if err != nil {
		return nil, err
	}
	st, err := blockstore.Open(d, p.Hash(), o.Store)
	if err != nil {
		return nil, err
	}
	n := &Node{dir: d, p: p, o: o, store: st, mem: d.Mempool(), Now: func() int64 { return time.Now().Unix() }}
	if err := n.load(); err != nil {
		st.Close()
		return nil, err
	}
	n.reloadPool()
	return n, nil
}

// NextTime is the earliest time the next block can carry: the clock, or
// just above the tip's median time past when blocks stamped ahead of the
// clock moved it there. The mempool judges transfers' time windows against
// it, so that it never holds a transfer no next block could include (and a
// mined transfer whose id left the recent-id window is refused as too old).
func (n *Node) NextTime() int64 {
	c := n.Chain()
	return max(n.Now(), c.MedianTime(c.Tip())+1)
}

// Params returns the network's parameters.
func (n *Node) Params() *params.Params { return n.p }

// Chain returns the block tree and the ledger at its best tip. Refresh
// and Write may replace it: fetch it again after them.
func (n *Node) Chain() *chain.Chain { return n.ch }

// Dir returns the chain directory.
func (n *Node) Dir() chaindir.Dir { return n.dir }

// Store returns the block store (the records of every stored block, their
// lines, sealed segments).
func (n *Node) Store() *blockstore.Store { return n.store }

// Line returns the stored line of block nd of the chain, as it was
// accepted (blockstore's Line): for passing blocks on to a peer.
func (n *Node) Line(nd *chain.BlockNode) ([]byte, error) {
	if nd.Parent == nil {
		return nil, errors.New("node: genesis has no block line")
	}
	return n.store.Line(nd.Loc)
}

// MempoolChanged reports, with one stat call, whether mempool.jsonl
// changed since the node last read it.
func (n *Node) MempoolChanged() bool { return n.mem.Changed() }

// TipChanged reports, with two stat calls, whether another process stored
// blocks since the node last read the directory (blockstore's
// TipChanged); it does not notice mempool changes.
func (n *Node) TipChanged() bool { return n.store.TipChanged() }

// Close releases the node. A node that stored blocks writes the state
// file first (under the lock), so that the next Open connects no block.
func (n *Node) Close() error {
	var err error
	if n.wrote && n.store.StateStale() {
		err = n.Write(func(*Writer) error { n.store.ForceState(); return nil })
	}
	if cerr := n.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// Refresh catches up with what other processes wrote: blocks, a replaced
// index (cnj-chain reindex: everything is read again), mempool.jsonl.
func (n *Node) Refresh() error {
	if n.w != nil {
		return errors.New("node: Refresh called inside Write")
	}
	if _, err := n.refresh(); err != nil {
		return err
	}
	n.syncPool()
	return nil
}

// syncPool rebuilds the pool when mempool.jsonl or the tip changed since it
// was built.
func (n *Node) syncPool() {
	lines := n.mem.Lines()
	var first []byte
	if len(lines) > 0 {
		first = lines[0]
	}
	tip := n.Chain().Tip().Hash
	if n.Pool != nil && tip == n.tip && len(lines) == n.memLen && sameSlice(first, n.memFirst) {
		return
	}
	n.reloadPool()
}

func sameSlice(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}

func (n *Node) reloadPool() {
	lines := n.mem.Lines()
	n.Pool = mempool.New(n.p, n.o.MaxPool)
	n.Pool.Load(lines, n.Chain().Ledger(), n.NextTime())
	n.memLen = len(lines)
	n.memFirst = nil
	if len(lines) > 0 {
		n.memFirst = lines[0]
	}
	n.tip = n.Chain().Tip().Hash
}

// poolLines renders the pool as mempool.jsonl lines.
func (n *Node) poolLines() [][]byte {
	txs := n.Pool.Txs()
	out := make([][]byte, len(txs))
	for i, t := range txs {
		out[i] = t.AppendJSON(nil)
	}
	return out
}

// Item is one input line for Submit.
type Item struct {
	Line    *wire.Line // nil when decoding failed
	Err     error      // the decoding verdict
	Number  int        // 1-based input line number
	From    netip.Addr // the sender's IP when the line carried one
	SigDone bool       // the transfer's signature was already verified
}

// Verdict is Submit's answer for one item.
type Verdict struct {
	Known bool  // already had it: pass over quietly
	Err   error // a rule error (refused) or nil (accepted)
	// Tip says that the item moved the main chain's tip.
	Tip bool
}

// Submit judges items in order under one lock: blocks go to the chain
// (unless dryRun), transfers to the mempool. Items with Err set are passed
// through as refused. I/O errors stop everything and are returned.
func (n *Node) Submit(items []Item, dryRun bool) ([]Verdict, error) {
	out := make([]Verdict, len(items))
	if dryRun {
		if err := n.Refresh(); err != nil {
			return nil, err
		}
		for i, it := range items {
			out[i] = n.judgeDry(it)
		}
		return out, nil
	}
	err := n.Write(func(w *Writer) error {
		n.syncPool()
		var appendLines [][]byte
		rewrite := false
		for i, it := range items {
			if it.Err != nil {
				out[i].Err = it.Err
				continue
			}
			switch {
			case it.Line.Block != nil:
				v, changed, err := n.addBlock(w, it.Line.Block, it.Line.Raw)
				if err != nil {
					return err
				}
				out[i] = v
				rewrite = rewrite || changed
			case it.Line.Tx != nil:
				v := n.judgeTx(it.Line.Tx, it.SigDone)
				out[i] = v
				if !v.Known && v.Err == nil && !rewrite {
					appendLines = append(appendLines, it.Line.Tx.AppendJSON(nil))
				}
			}
		}
		var err error
		switch {
		case rewrite:
			err = w.SetMempool(n.poolLines())
		case len(appendLines) > 0:
			err = w.AddMempool(appendLines...)
		}
		if err != nil {
			return err
		}
		n.markPoolSynced()
		return nil
	})
	return out, err
}

// markPoolSynced records that the pool equals mempool.jsonl as just written.
func (n *Node) markPoolSynced() {
	lines := n.mem.Lines()
	n.memLen = len(lines)
	n.memFirst = nil
	if len(lines) > 0 {
		n.memFirst = lines[0]
	}
	n.tip = n.Chain().Tip().Hash
}

// addBlock stores a block through the writer and brings the pool to the
// new tip. changed reports that the tip move changed the pool (a pooled
// transfer mined, one put back or dropped): mempool.jsonl must be
// rewritten. A block that touches none of the pool, as most blocks of a
// quiet network, costs no rendering of the whole pool.
func (n *Node) addBlock(w *Writer, b *block.Block, raw []byte) (v Verdict, changed bool, err error) {
	res, err := w.AddBlock(b, raw, n.Now())
	if err != nil {
		if rule.CodeOf(err) == "" {
			return Verdict{}, false, err
		}
		return Verdict{Err: err}, false, nil
	}
	if res.Duplicate {
		return Verdict{Known: true}, false, nil
	}
	if res.TipChanged {
		// Update only removes (mined or dropped transfers) and puts back
		// (those of disconnected blocks): the pool is the same when it
		// dropped nothing, kept its size and nothing was disconnected. The
		// file is rewritten too when it does not hold the pool line for
		// line (lines that did not load, transfers not yet appended).
		before := n.Pool.Len()
		stale := len(n.mem.Lines()) != before
		dropped := n.Pool.Update(res.Connected, res.Disconnected, n.Chain().Ledger(), n.NextTime())
		changed = stale || len(res.Disconnected) > 0 || len(dropped) > 0 || n.Pool.Len() != before
		return Verdict{Tip: true}, changed, nil
	}
	return Verdict{}, false, nil
}

// judgeTx admits a transfer to the pool. A transfer already in the pool,
// or the very same transfer already on the chain, is known. sigDone says
// its signature was already verified (in a batch).
func (n *Node) judgeTx(t *tx.Tx, sigDone bool) Verdict {
	led := n.ch.Ledger()
	// The pool itself answers ErrKnown only for a byte-identical transfer:
	// a line that merely claims a pooled transfer's hash is judged in full.
	if led.HasID(t.ID) && n.onChain(t) {
		return Verdict{Known: true}
	}
	var err error
	if sigDone {
		err = n.Pool.AddVerified(t, led, n.NextTime())
	} else {
		err = n.Pool.Add(t, led, n.NextTime())
	}
	if errors.Is(err, mempool.ErrKnown) {
		return Verdict{Known: true}
	}
	return Verdict{Err: err}
}

// onChainSearch bounds how far back onChain looks for a resent transfer.
const onChainSearch = 2000

// onChain reports whether the very transfer t (same hash) is in one of the
// last blocks of the main chain: an honest peer resending it.
func (n *Node) onChain(t *tx.Tx) bool {
	c := n.Chain()
	for nd, i := c.Tip(), 0; nd != nil && nd.Height > 0 && i < onChainSearch; nd, i = nd.Parent, i+1 {
		b, err := c.Block(nd)
		if err != nil {
			return false
		}
		for _, bt := range b.Txs {
			if bt.ID == t.ID {
				return *bt == *t
			}
		}
	}
	return false
}

// judgeDry checks an item without writing anything: a block through the
// chain's own order of checks (chain.Try), a transfer into this process's
// pool only, so that later lines of the same input see it.
func (n *Node) judgeDry(it Item) Verdict {
	if it.Err != nil {
		return Verdict{Err: it.Err}
	}
	if b := it.Line.Block; b != nil {
		res, err := n.ch.Try(b, it.Line.Raw, n.Now())
		if err != nil {
			return Verdict{Err: err}
		}
		return Verdict{Known: res.Duplicate}
	}
	return n.judgeTx(it.Line.Tx, it.SigDone)
}

// Describe names an item for logs: its id or hash.
func Describe(l *wire.Line) (id, hash []byte) {
	switch {
	case l == nil:
		return nil, nil
	case l.Tx != nil:
		return l.Tx.ID[:], nil
	case l.Block != nil:
		return nil, l.Block.Hash[:]
	}
	return nil, nil
}

// LogReject writes one rejects.log entry for a refused item.
func (n *Node) LogReject(it Item, err error) error {
	code := rule.CodeOf(err)
	r := chaindir.Reject{Time: n.Now(), Reason: code, Line: it.Number,
		Msg: strings.Replace(err.Error(), string(code)+": ", "", 1)}
	if it.From.IsValid() {
		r.From = it.From.String()
	}
	if it.Line != nil {
		r.ID, r.Hash = Describe(it.Line)
	}
	if r.Reason == "" {
		return fmt.Errorf("logging a reject without a reason: %w", err)
	}
	return n.dir.LogReject(r)
}
