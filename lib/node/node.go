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
	"github.com/coniunctum/cnj/lib/consensus"
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
	// MaxForkDepth is the side-branch policy's limit on blocks that
	// arrive on their own (Item.Relayed): see chain.Limits. Zero takes
	// chain.DefaultMaxForkDepth of the network.
	MaxForkDepth uint64
	// Index are the transfer index's settings (package txindex).
	Index txindex.Options
	// NoLedger opens the directory without decoding the ledger snapshot of
	// the state file (most of the time an open takes on a large chain)
	// when that gives the very node a full open gives: the state file is
	// at the best valid block of the index, or below it with undo data for
	// each block above (chain.LoadTree), no block lies beyond the index,
	// and mempool.bin holds the whole pool at that tip. Otherwise the node
	// opens in full. Without its ledger, the node's Chain().Ledger() is nil
	// and Template must not be called; Refresh, Write, Submit and Check
	// first open the directory again in full. For a process that reads
	// blocks, transactions and the pool but no balance (cnj-chain tip,
	// tx, history).
	NoLedger bool
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
	binTip   [32]byte // the tip of the mempool.bin this process last wrote or loaded
	binTail  int      // lines appended to mempool.jsonl since that mempool.bin

	// The transfer index (index.go).
	writing   bool                      // inside Write: keep the blocks taken
	taken     map[[32]byte]*block.Block // blocks connected or disconnected since the index was brought along
	takenTxs  int                       // transactions of the connected blocks taken
	step      int                       // IndexInSteps: transactions a write may leave the index behind by
	held      bool                      // IndexInSteps: a write left the index behind, or its update failed
	indexedAt [32]byte                  // the tip the index was last brought to
	indexErr  error                     // why the last update of the index failed
}

// MempoolBinTail is how many transfer lines a writer appends to
// mempool.jsonl after it last wrote mempool.bin before it writes it again:
// a command that starts judges at most that many lines in full, the rest
// of the pool coming from mempool.bin.
const MempoolBinTail = 1000

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
	n := &Node{dir: d, p: p, o: o, mem: d.Mempool(), Now: func() int64 { return time.Now().Unix() }}
	if o.NoLedger && n.openTree() {
		return n, nil
	}
	if err := n.openFull(); err != nil {
		return nil, err
	}
	return n, nil
}

// openFull opens the block store, builds the chain with its ledger and
// the pool. On a node already open without its ledger (Options.NoLedger)
// it replaces the store and the chain, or leaves them as they were on an
// error.
func (n *Node) openFull() error {
	st, err := blockstore.Open(n.dir, n.p.Hash(), n.o.Store)
	if err != nil {
		return err
	}
	oldStore, oldChain := n.store, n.ch
	n.store = st
	if err := n.load(); err != nil {
		st.Close()
		n.store, n.ch = oldStore, oldChain
		return err
	}
	if oldStore != nil {
		oldStore.Close()
	}
	n.reloadPool()
	return nil
}

// openTree opens the node without its ledger (Options.NoLedger) and
// reports whether that gave the node a full open gives; when it did not
// (or on any error, which the full open meets again and reports), nothing
// is left open.
func (n *Node) openTree() bool {
	so := n.o.Store
	so.StateHeader = true
	st, err := blockstore.Open(n.dir, n.p.Hash(), so)
	if err != nil {
		return false
	}
	n.store = st
	if ok, err := n.loadTree(); !ok || err != nil {
		st.Close()
		n.store, n.ch, n.Pool = nil, nil, nil
		return false
	}
	return true
}

// needLedger opens the directory again in full when the node was opened
// without its ledger (Options.NoLedger).
func (n *Node) needLedger() error {
	if n.ch.Ledger() != nil {
		return nil
	}
	return n.openFull()
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

// Chain returns the block tree and the ledger at its best tip (a nil
// ledger on a node opened without it: Options.NoLedger). Refresh and Write
// may replace it: fetch it again after them.
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
// file first (under the lock), so that the next Open connects no block,
// and one indexing in steps (IndexInSteps) brings the transfer index to
// its tip.
func (n *Node) Close() error {
	var err error
	if n.step > 0 {
		err = n.endSteps()
	}
	if err == nil && n.wrote && n.store.StateStale() {
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
	n.Pool = mempool.New(n.p, n.o.MaxPool)
	if tail, ok := n.poolFromBin(n.Pool); ok {
		n.Pool.Load(tail, n.Chain().Ledger(), n.NextTime())
		n.binTip, n.binTail = n.Chain().Tip().Hash, len(tail)
	} else {
		n.Pool = mempool.New(n.p, n.o.MaxPool)
		n.Pool.Load(n.mem.Lines(), n.Chain().Ledger(), n.NextTime())
		n.binTip = [32]byte{} // the next write writes one
	}
	n.markPoolSynced()
}

// poolFromBin fills the empty pool from mempool.bin when it fits: this
// network, the tip, and the first bytes of mempool.jsonl. It returns the
// lines of mempool.jsonl after those, to be judged in full.
func (n *Node) poolFromBin(pool *mempool.Pool) ([][]byte, bool) {
	data, err := n.dir.ReadMempoolBin()
	if err != nil || data == nil {
		return nil, false
	}
	bin, ok := chaindir.DecodeMempoolBin(data, n.p.Hash())
	tip := n.Chain().Tip().Hash
	if !ok || bin.Tip != tip {
		return nil, false
	}
	tail, ok := n.mem.After(bin.FileSize, bin.FileSum)
	if !ok {
		// This process appended last and kept no copy of the bytes.
		if _, err := n.mem.Refresh(true); err != nil {
			return nil, false
		}
		if tail, ok = n.mem.After(bin.FileSize, bin.FileSum); !ok {
			return nil, false
		}
	}
	if _, err := pool.LoadBinary(bin.Pool, n.NextTime()); err != nil {
		return nil, false
	}
	return tail, true
}

// saveBin writes mempool.bin, when due, after a write that left
// mempool.jsonl holding the pool: when the file was rewritten, the tip
// moved, or more than MempoolBinTail lines were appended since the last.
func (n *Node) saveBin(rewrote bool, appended int) error {
	tip := n.Chain().Tip().Hash
	n.binTail += appended
	if !rewrote && tip == n.binTip && n.binTail <= MempoolBinTail {
		return nil
	}
	size, sum, ok := n.mem.Sum()
	if !ok {
		return nil // the file's bytes are not known here: a reader judges them all
	}
	bin := chaindir.MempoolBin{Tip: tip, FileSize: size, FileSum: sum, Pool: n.Pool.AppendBinary(nil)}
	if err := n.dir.WriteMempoolBin(bin.Encode(n.p.Hash())); err != nil {
		return err
	}
	n.binTip, n.binTail = tip, 0
	return nil
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
	// Relayed says the line arrived on its own from a peer (cnj-verify's
	// input tagged with the peer's address by the relay): the side-branch
	// policy applies to a block (chain.Limits). A block of a downloaded
	// branch that has more work than the tip (cnj-sync), a block the node
	// mined, and a line the operator gave cnj-verify untagged are not
	// Relayed.
	Relayed bool
}

// Verdict is Submit's answer for one item.
type Verdict struct {
	Known bool  // already had it: pass over quietly
	Err   error // a rule error (refused) or nil (accepted)
	// Tip says that the item moved the main chain's tip.
	Tip bool
	// Held: a relayed block kept on a side branch far behind the tip in
	// work (chain.Result.Behind): accepted, but not worth passing on.
	Held bool
}

// Submit judges items in order under one lock: blocks go to the chain
// (unless dryRun), transfers to the mempool. Items with Err set are passed
// through as refused. I/O errors stop everything and are returned.
//
// After the write mempool.jsonl holds exactly the pool: accepted transfers
// are appended, and the file is rewritten whole when transfers left the
// pool (mined, put back, dropped, evicted) or when it held lines the pool
// did not take. A transfer evicted from the full pool is logged in
// rejects.log with reason evicted. What the tip moves do to the pool goes
// to mempool-events.jsonl in the same write (chaindir.LogPoolEvents): the
// transfers of disconnected blocks that went back into the pool
// (returned, for cnj-relay send to announce again) and those the pool
// dropped unmined, evictions included, with their reasons.
func (n *Node) Submit(items []Item, dryRun bool) ([]Verdict, error) {
	out := make([]Verdict, len(items))
	if dryRun {
		if err := n.Refresh(); err != nil {
			return nil, err
		}
		for i, it := range items {
			out[i] = n.judgeDry(it)
		}
		n.Pool.TakeEvicted() // this process's pool only: nothing left
		return out, nil
	}
	var evicted []mempool.Eviction
	err := n.Write(func(w *Writer) error {
		n.syncPool()
		var appendLines [][]byte
		var events []chaindir.PoolEvent
		rewrite := false
		for i, it := range items {
			if it.Err != nil {
				out[i].Err = it.Err
				continue
			}
			switch {
			case it.Line.Block != nil:
				v, changed, evs, err := n.addBlock(w, it)
				if err != nil {
					return err
				}
				out[i] = v
				events = append(events, evs...)
				rewrite = rewrite || changed
			case it.Line.Tx != nil:
				v := n.judgeTx(it.Line.Tx, it.SigDone)
				out[i] = v
				if !v.Known && v.Err == nil && !rewrite {
					appendLines = append(appendLines, it.Line.Tx.AppendJSON(nil))
				}
			}
		}
		evicted = n.Pool.TakeEvicted()
		for _, e := range evicted {
			events = append(events, n.dropEvent(e.Tx, rule.Evicted))
		}
		// The file must hold the pool line for line: an eviction, or lines
		// the pool did not take when it loaded, mean a rewrite.
		if len(evicted) > 0 || len(n.mem.Lines())+len(appendLines) != n.Pool.Len() {
			rewrite = true
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
		if err := n.dir.LogPoolEvents(events); err != nil {
			return err
		}
		n.markPoolSynced()
		return n.saveBin(rewrite, len(appendLines))
	})
	if err != nil {
		return out, err
	}
	for _, e := range evicted {
		if err := n.logEvicted(e); err != nil {
			return out, err
		}
	}
	return out, nil
}

// logEvicted writes the rejects.log entry of a transfer evicted from the
// pool.
func (n *Node) logEvicted(e mempool.Eviction) error {
	return n.dir.LogReject(chaindir.Reject{Time: n.Now(), Reason: rule.Evicted, ID: e.Tx.ID[:],
		Msg: fmt.Sprintf("the mempool is full: %s's transfer at fee %d left it for transfer %x at fee %d", e.Tx.Sender, e.Tx.Fee, e.By.ID, e.By.Fee)})
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

// addBlock stores the block of it through the writer, under the
// side-branch policy when it was relayed, and brings the pool to the new
// tip. changed reports that the tip move changed the pool (a pooled
// transfer mined, one put back or dropped): mempool.jsonl must be
// rewritten. A block that touches none of the pool, as most blocks of a
// quiet network, costs no rendering of the whole pool. events are what
// the move did to the pool: the transfers of disconnected blocks it took
// back, and those it dropped.
func (n *Node) addBlock(w *Writer, it Item) (v Verdict, changed bool, events []chaindir.PoolEvent, err error) {
	res, err := w.addBlock(it.Line.Block, it.Line.Raw, n.Now(), n.limits(it))
	if err != nil {
		if rule.CodeOf(err) == "" {
			return Verdict{}, false, nil, err
		}
		return Verdict{Err: err}, false, nil, nil
	}
	if res.Duplicate {
		return Verdict{Known: true}, false, nil, nil
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
		now := n.Now()
		for _, b := range res.Disconnected {
			for _, t := range b.Txs {
				if n.Pool.Has(t.Hash) {
					events = append(events, chaindir.PoolEvent{Time: now, Event: chaindir.EventReturned, Block: b.Hash, Tx: t.AppendJSON(nil)})
				}
			}
		}
		for _, d := range dropped {
			events = append(events, n.dropEvent(d.Tx, rule.CodeOf(d.Err)))
		}
		return Verdict{Tip: true}, changed, events, nil
	}
	return Verdict{Held: res.Behind && it.Relayed}, false, nil, nil
}

// dropEvent is the mempool-events.jsonl event of a transfer the pool let
// go unmined, for the reason why.
func (n *Node) dropEvent(t *tx.Tx, why rule.Code) chaindir.PoolEvent {
	return chaindir.PoolEvent{Time: n.Now(), Event: chaindir.EventDropped, Reason: why, Tx: t.AppendJSON(nil)}
}

// limits returns the side-branch policy for an item: the node's for a
// relayed line, none otherwise.
func (n *Node) limits(it Item) chain.Limits {
	if !it.Relayed {
		return chain.Limits{}
	}
	d := n.o.MaxForkDepth
	if d == 0 {
		d = chain.DefaultMaxForkDepth(n.p)
	}
	return chain.Limits{MaxForkDepth: d}
}

// judgeTx admits a transfer to the pool. A transfer already in the pool,
// or the very same transfer already on the chain, is known. sigDone says
// its signature was already verified (in a batch).
//
// Whatever the line, the verdict costs O(1) ledger and pool work and at
// most one signature check: a transfer on the chain is recognised from the
// recent-id set alone (ledger.Recent), never by reading blocks.
func (n *Node) judgeTx(t *tx.Tx, sigDone bool) Verdict {
	led := n.ch.Ledger()
	// A line repeating a transfer on the chain (its sender, id and hash)
	// is known once it is that transfer: its hash is the hash of what it
	// says and its signature verifies. Anything less is refused, as any
	// other line (the pool, likewise, answers ErrKnown only for a
	// byte-identical transfer: a line that merely claims a pooled
	// transfer's hash is judged in full).
	if _, same := led.Recent(t); same {
		if !sigDone {
			if err := consensus.CheckTx(t, n.p); err != nil {
				return Verdict{Err: err}
			}
		}
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

// judgeDry checks an item without writing anything: a block through the
// chain's own order of checks (chain.Try), a transfer into this process's
// pool only, so that later lines of the same input see it.
func (n *Node) judgeDry(it Item) Verdict {
	if it.Err != nil {
		return Verdict{Err: it.Err}
	}
	if b := it.Line.Block; b != nil {
		res, err := n.ch.TryWith(b, it.Line.Raw, n.Now(), n.limits(it))
		if err != nil {
			return Verdict{Err: err}
		}
		return Verdict{Known: res.Duplicate, Held: res.Behind && it.Relayed}
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
