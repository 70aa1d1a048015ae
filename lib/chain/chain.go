package chain

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
)

// UndoDepth is how many main-chain blocks below the tip keep their undo data
// in memory. Below them, and for blocks this process did not connect, the
// undo data comes from the store (Store.GetUndo); a reorganization through
// a block whose undo data neither holds replays from genesis.
const UndoDepth = 2000

// Store keeps blocks durably: package blockstore implements it on disk,
// MemStore in memory for tests.
type Store interface {
	// Put stores b and returns where it is. The chain calls it once for
	// every block it keeps (main or side branch). The block must be
	// durable (fsync) before the caller reports it accepted: at once, or
	// for a batch (package blockstore: when its write ends). line is b's
	// JSON line.
	Put(b *block.Block, line []byte) (blockstore.Loc, error)
	// Get reads back the block stored at loc.
	Get(loc blockstore.Loc) (*block.Block, error)
	// PutUndo keeps the undo data of a block that Add connected on the
	// main chain (ledger.Undo's bytes), durable with the blocks of the
	// same write, so that another process, or this one after a restart,
	// can disconnect the block without a replay from genesis.
	PutUndo(hash [32]byte, height uint64, undo []byte)
	// GetUndo returns the undo data PutUndo kept for the block, or nil
	// when there is none; only I/O errors are errors.
	GetUndo(hash [32]byte, height uint64) ([]byte, error)
}

// BlockNode is one block of the tree. Nodes are owned by the Chain: read them,
// never change them.
type BlockNode struct {
	Hash      [32]byte
	Parent    *BlockNode // nil for genesis
	Height    uint64
	Timestamp int64
	Target    [32]byte
	Work      *big.Int // cumulative, this block included
	Loc       blockstore.Loc
	Seq       uint64 // arrival order; genesis is 0
	Invalid   bool   // broke a ledger rule, or descends from a block that did
	TxCount   int    // transfers in the block, reward excluded

	// The blocks whose parent this is, as a list: a slice would be an
	// allocation a block, and a large chain's open makes one node a block.
	firstChild, nextSibling *BlockNode
}

// PrevHash is the hash of n's parent (zero for the genesis).
func (n *BlockNode) PrevHash() [32]byte {
	if n.Parent == nil {
		return [32]byte{}
	}
	return n.Parent.Hash
}

// Record returns what the store's index keeps of n.
func (n *BlockNode) Record() blockstore.Record {
	return blockstore.Record{Hash: n.Hash, PrevHash: n.PrevHash(), Height: n.Height, Timestamp: n.Timestamp,
		Target: n.Target, Loc: n.Loc, TxCount: n.TxCount, Invalid: n.Invalid}
}

// Result says what Add or Apply did with a block.
type Result struct {
	// Duplicate: the block was already known; nothing else is set but Record.
	Duplicate bool
	// Side: the block is kept on a side branch, not on the main chain.
	Side bool
	// TipChanged: the main chain's tip moved.
	TipChanged bool
	// Disconnected lists the blocks taken off the main chain, tip first;
	// Connected the blocks put on it, lowest first (the block itself last
	// when it became the tip).
	Disconnected, Connected []*block.Block
	// Record is the block's record for the store's index.
	Record blockstore.Record
	// Invalidated lists the blocks marked invalid by this call: first the
	// block that broke a rule, then its descendants. Their index records
	// must be rewritten with Invalid set.
	Invalidated [][32]byte
	// Behind: Side, and the block's branch has less work than the tip by
	// more than the tip block's own: node policy keeps such a block but
	// does not pass it on to peers (a competitor of the tip, or a branch
	// one block from overtaking it, is passed on).
	Behind bool
}

// Chain is the block tree with its best tip and the ledger at that tip.
type Chain struct {
	p       *params.Params
	s       Store
	nodes   map[[32]byte]*BlockNode
	genesis *BlockNode
	tip     *BlockNode
	main    []*BlockNode // main[h] is the main-chain block at height h
	led     *ledger.Ledger
	undo    map[[32]byte]*ledger.Undo
	seq     uint64
	span    int    // points a Context holds: max(pow.Needed, MedianSpan)
	depth   uint64 // UndoDepth; tests lower it
	persist bool   // during Add: undo data of the blocks connected goes to the store
}

// New returns a chain holding only genesis, with the ledger at genesis.
func New(p *params.Params, s Store) *Chain {
	g := &BlockNode{Hash: p.Hash(), Timestamp: p.Timestamp, Target: p.InitialTarget}
	g.Work = pow.Work(&g.Target)
	span := max(pow.Needed(consensus.PowParams(p)), params.MedianSpan)
	return &Chain{
		p:       p,
		s:       s,
		nodes:   map[[32]byte]*BlockNode{g.Hash: g},
		genesis: g,
		tip:     g,
		main:    []*BlockNode{g},
		led:     ledger.New(p),
		undo:    make(map[[32]byte]*ledger.Undo),
		span:    span,
		depth:   UndoDepth,
	}
}

// Params returns the network's parameters.
func (c *Chain) Params() *params.Params { return c.p }

// Tip returns the best valid block.
func (c *Chain) Tip() *BlockNode { return c.tip }

// Genesis returns block 0.
func (c *Chain) Genesis() *BlockNode { return c.genesis }

// Ledger returns the state at Tip. It belongs to the chain: Clone it to
// keep or change it.
func (c *Chain) Ledger() *ledger.Ledger { return c.led }

// Node returns the block with the given hash, or nil.
func (c *Chain) Node(hash [32]byte) *BlockNode { return c.nodes[hash] }

// Len returns the number of blocks in the tree, genesis included.
func (c *Chain) Len() int { return len(c.nodes) }

// AtHeight returns the main-chain block at height h, or nil above the tip.
func (c *Chain) AtHeight(h uint64) *BlockNode {
	if h >= uint64(len(c.main)) {
		return nil
	}
	return c.main[h]
}

// Context returns what a child of parent is checked against: the last
// max(pow.Needed, 11) blocks of parent's branch (fewer near genesis).
func (c *Chain) Context(parent *BlockNode, now int64) *consensus.Context {
	n := c.span
	if parent.Height+1 < uint64(n) {
		n = int(parent.Height + 1)
	}
	pts := make([]pow.Point, n)
	x := parent
	for i := n - 1; i >= 0; i-- {
		pts[i] = pow.Point{Timestamp: x.Timestamp, Target: x.Target}
		x = x.Parent
	}
	return &consensus.Context{Branch: pts, ParentIndex: parent.Height, Now: now}
}

// NextTarget is the target a block on the tip must carry.
func (c *Chain) NextTarget(now int64) [32]byte {
	return consensus.NextTarget(c.p, c.Context(c.tip, now))
}

// MedianTime returns the median time past of n: the median timestamp of the
// last up to 11 blocks ending at n, genesis included.
func (c *Chain) MedianTime(n *BlockNode) int64 {
	var buf [params.MedianSpan]int64
	ts := buf[:0]
	for x := n; x != nil && len(ts) < params.MedianSpan; x = x.Parent {
		ts = append(ts, x.Timestamp)
	}
	return pow.MedianTime(ts)
}

// Block reads the block of n from the store. Genesis has no block.
func (c *Chain) Block(n *BlockNode) (*block.Block, error) { return c.blockOf(n, nil) }

func (c *Chain) blockOf(n *BlockNode, have *block.Block) (*block.Block, error) {
	if have != nil && have.Hash == n.Hash {
		return have, nil
	}
	if n.Parent == nil {
		return nil, errors.New("chain: genesis has no block")
	}
	b, err := c.s.Get(n.Loc)
	if err != nil {
		return nil, fmt.Errorf("chain: reading block %d (%x): %w", n.Height, n.Hash[:8], err)
	}
	if b.Hash != n.Hash {
		return nil, fmt.Errorf("chain: the store holds block %x where %x should be", b.Hash[:8], n.Hash[:8])
	}
	return b, nil
}

// Add takes a new block: see the package documentation. A known block is
// Result{Duplicate: true} and no error. line is b's JSON line (encoded from
// b when nil); now is the node's clock. When a reorganization fails on a
// block of the new branch, Add returns both a Result (Side, Invalidated)
// and that block's rule error; the tip is unchanged.
func (c *Chain) Add(b *block.Block, line []byte, now int64) (*Result, error) {
	return c.add(b, line, now, false, Limits{})
}

// AddWith is Add for a block that arrived on its own from a peer: lim, the
// node's side-branch policy, applies to it (fork-too-deep).
func (c *Chain) AddWith(b *block.Block, line []byte, now int64, lim Limits) (*Result, error) {
	return c.add(b, line, now, false, lim)
}

// Try judges b as Add does, through the same checks in the same order, but
// stores nothing and changes nothing: the dry run of cnj-verify. A block on
// the tip is connected to a copy of the ledger (Result.TipChanged); a
// block for a side branch is judged on its header and body only
// (Result.Side), since trying the reorganization it might cause would
// mean storing it.
func (c *Chain) Try(b *block.Block, line []byte, now int64) (*Result, error) {
	return c.add(b, line, now, true, Limits{})
}

// TryWith is Try under the node's side-branch policy, as AddWith.
func (c *Chain) TryWith(b *block.Block, line []byte, now int64, lim Limits) (*Result, error) {
	return c.add(b, line, now, true, lim)
}

// add is Add, or Try when dry.
func (c *Chain) add(b *block.Block, line []byte, now int64, dry bool, lim Limits) (*Result, error) {
	// The two checks that need nothing but the line come before the
	// parent is looked up: a block with an impossible target or without
	// its work costs no more than that.
	if err := consensus.CheckTargetLimit(b, c.p); err != nil {
		return nil, err
	}
	if err := consensus.CheckProof(b); err != nil {
		return nil, err
	}
	if n := c.nodes[b.Hash]; n != nil {
		// The header is known, but a line can carry other transactions
		// under it: only one that the header commits to is the same block.
		if err := consensus.CheckMerkle(b, c.p); err != nil {
			return nil, err
		}
		return &Result{Duplicate: true, Record: n.Record()}, nil
	}
	parent := c.nodes[b.PrevHash]
	if parent == nil {
		return nil, rule.Errorf(rule.UnknownParent, "block %x: previous block %x is unknown", b.Hash[:8], b.PrevHash[:8])
	}
	if parent.Invalid {
		return nil, rule.Errorf(rule.InvalidAncestor, "block %x builds on invalid block %x", b.Hash[:8], parent.Hash[:8])
	}
	// Policy before the costly checks: a deep fork is refused for what
	// its header claims.
	if err := c.checkFork(b, parent, lim); err != nil {
		return nil, err
	}
	if err := consensus.CheckHeader(b, c.Context(parent, now), c.p); err != nil {
		return nil, err
	}
	if _, err := consensus.CheckBody(b, c.p); err != nil {
		return nil, err
	}
	// The store keeps the canonical line: a line padded with blanks is the
	// same block, and kept longer it could pass max_block_bytes on disk
	// and in the chain download.
	if line == nil || len(line) != b.CanonicalSize() {
		line = b.JSON()
	}
	if dry {
		if parent != c.tip {
			w := pow.Work(&b.Target)
			w.Add(w, parent.Work)
			if w.Cmp(c.tip.Work) > 0 {
				// It would reorganize: trying that means storing it.
				return &Result{Side: true}, nil
			}
			return &Result{Side: true, Behind: c.behind(w)}, nil
		}
		if _, err := c.led.Clone().Connect(b, c.MedianTime(parent)); err != nil {
			return nil, err
		}
		return &Result{TipChanged: true}, nil
	}
	c.persist = true
	defer func() { c.persist = false }()
	return c.attach(b, parent, false, func() (blockstore.Loc, error) { return c.s.Put(b, line) })
}

// keepUndo holds the undo data of main-chain block n, which was just
// connected, and gives it to the store when Add connected it.
func (c *Chain) keepUndo(n *BlockNode, u *ledger.Undo) {
	c.undo[n.Hash] = u
	if c.persist {
		if data, err := u.MarshalBinary(); err == nil {
			c.s.PutUndo(n.Hash, n.Height, data)
		}
	}
}

// loadUndo makes sure the undo data of main-chain block n is held, reading
// it from the store when it is not; false when neither has it.
func (c *Chain) loadUndo(n *BlockNode) (bool, error) {
	if c.undo[n.Hash] != nil {
		return true, nil
	}
	data, err := c.s.GetUndo(n.Hash, n.Height)
	if err != nil || data == nil {
		return false, err
	}
	u := new(ledger.Undo)
	if u.UnmarshalBinary(data) != nil || u.Block() != n.Hash {
		return false, nil // damaged: replay instead (cnj-chain check reports it)
	}
	c.undo[n.Hash] = u
	return true, nil
}

// Undo returns the bytes of the undo data held for main-chain block n, or
// nil when none is held: what cnj-chain reindex writes to the undo file
// and cnj-chain check compares it with.
func (c *Chain) Undo(n *BlockNode) []byte {
	u := c.undo[n.Hash]
	if u == nil {
		return nil
	}
	data, err := u.MarshalBinary()
	if err != nil {
		return nil
	}
	return data
}

// Apply takes a block that another process already validated and stored
// (refreshing from the chain directory): no body or signature checks, and
// Store.Put is not called; rec must carry the block's Loc. b may be nil, in
// which case it is read from the store. A record marked invalid, or one
// whose parent is invalid, is kept in the tree as invalid and never chosen.
func (c *Chain) Apply(rec blockstore.Record, b *block.Block) (*Result, error) {
	if n := c.nodes[rec.Hash]; n != nil {
		return &Result{Duplicate: true, Record: n.Record()}, nil
	}
	parent := c.nodes[rec.PrevHash]
	if parent == nil {
		return nil, rule.Errorf(rule.UnknownParent, "block %x: previous block %x is unknown", rec.Hash[:8], rec.PrevHash[:8])
	}
	if rec.Height != parent.Height+1 {
		return nil, rule.Errorf(rule.Corrupt, "record of block %x at height %d on a parent at %d", rec.Hash[:8], rec.Height, parent.Height)
	}
	if rec.Invalid || parent.Invalid {
		n := c.addRecord(parent, rec)
		return &Result{Side: true, Record: n.Record()}, nil
	}
	if b == nil {
		var err error
		if b, err = c.s.Get(rec.Loc); err != nil {
			return nil, fmt.Errorf("chain: reading block %x: %w", rec.Hash[:8], err)
		}
	}
	if b.Hash != rec.Hash || b.PrevHash != rec.PrevHash || b.Index != rec.Height {
		return nil, rule.Errorf(rule.Corrupt, "block %x does not match its record %x", b.Hash[:8], rec.Hash[:8])
	}
	return c.attach(b, parent, true, func() (blockstore.Loc, error) { return rec.Loc, nil })
}

// attach puts a checked block b under parent: connected on the tip, or kept
// on a side branch and reorganized to when its branch has more work. put
// stores it. stored means it is already in the store (Apply), so that a
// block that fails to connect is kept as invalid rather than forgotten.
func (c *Chain) attach(b *block.Block, parent *BlockNode, stored bool, put func() (blockstore.Loc, error)) (*Result, error) {
	if parent == c.tip {
		u, err := c.led.Connect(b, c.MedianTime(parent))
		if err != nil {
			if stored && rule.CodeOf(err) != "" {
				loc, _ := put()
				n := c.addBlock(parent, b, loc)
				res := &Result{Side: true, Invalidated: c.invalidate(n)}
				res.Record = n.Record()
				return res, err
			}
			return nil, err
		}
		loc, err := put()
		if err != nil {
			if derr := c.led.Disconnect(b, u); derr != nil {
				return nil, fmt.Errorf("chain: %w (and taking the block back: %v)", err, derr)
			}
			return nil, err
		}
		n := c.addBlock(parent, b, loc)
		c.keepUndo(n, u)
		c.main = append(c.main, n)
		c.tip = n
		c.pruneUndo()
		return &Result{TipChanged: true, Connected: []*block.Block{b}, Record: n.Record()}, nil
	}
	loc, err := put()
	if err != nil {
		return nil, err
	}
	n := c.addBlock(parent, b, loc)
	res := &Result{Side: true}
	if n.Work.Cmp(c.tip.Work) > 0 {
		var bad *BlockNode
		res.Disconnected, res.Connected, bad, err = c.reorg(n, b)
		if err != nil {
			if bad != nil {
				res.Invalidated = c.invalidate(bad)
			}
			res.Record = n.Record()
			return res, err
		}
		res.Side, res.TipChanged = false, true
	} else {
		res.Behind = c.behind(n.Work)
	}
	res.Record = n.Record()
	return res, nil
}

func (c *Chain) addBlock(parent *BlockNode, b *block.Block, loc blockstore.Loc) *BlockNode {
	return c.addRecord(parent, blockstore.Record{Hash: b.Hash, PrevHash: b.PrevHash, Height: b.Index,
		Timestamp: b.Timestamp, Target: b.Target, Loc: loc, TxCount: len(b.Txs)})
}

// addRecord links a new node under parent; it inherits parent's invalidity.
func (c *Chain) addRecord(parent *BlockNode, r blockstore.Record) *BlockNode {
	return c.addRecordWork(parent, r, pow.Work(&r.Target))
}

// addRecordWork is addRecord given the work of r's target (pow.Work),
// which it does not change.
func (c *Chain) addRecordWork(parent *BlockNode, r blockstore.Record, work *big.Int) *BlockNode {
	return c.addRecordIn(new(BlockNode), new(big.Int), parent, r, work)
}

// addRecordIn is addRecordWork building the node in n and its work in w
// (loadTree gives them from slabs).
func (c *Chain) addRecordIn(n *BlockNode, w *big.Int, parent *BlockNode, r blockstore.Record, work *big.Int) *BlockNode {
	c.seq++
	*n = BlockNode{Hash: r.Hash, Parent: parent, Height: parent.Height + 1,
		Timestamp: r.Timestamp, Target: r.Target, Loc: r.Loc, Seq: c.seq,
		Invalid: r.Invalid || parent.Invalid, TxCount: r.TxCount,
		nextSibling: parent.firstChild}
	n.Work = w.Add(work, parent.Work)
	parent.firstChild = n
	c.nodes[n.Hash] = n
	return n
}

// invalidate marks n and its descendants invalid and returns their hashes,
// n first.
func (c *Chain) invalidate(n *BlockNode) [][32]byte {
	var out [][32]byte
	stack := []*BlockNode{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !x.Invalid || x == n {
			out = append(out, x.Hash)
		}
		x.Invalid = true
		for ch := x.firstChild; ch != nil; ch = ch.nextSibling {
			stack = append(stack, ch)
		}
	}
	return out
}

// fork returns the last common block of a's and b's branches.
func fork(a, b *BlockNode) *BlockNode {
	for a.Height > b.Height {
		a = a.Parent
	}
	for b.Height > a.Height {
		b = b.Parent
	}
	for a != b {
		a, b = a.Parent, b.Parent
	}
	return a
}

// path returns the blocks after from up to to, lowest first; from must be an
// ancestor of to.
func path(from, to *BlockNode) []*BlockNode {
	p := make([]*BlockNode, to.Height-from.Height)
	for x := to; x != from; x = x.Parent {
		p[x.Height-from.Height-1] = x
	}
	return p
}

// reorg makes to the tip: disconnect the main chain down to the fork, then
// connect to's branch. have is to's block when the caller holds it. When a
// block of the new branch breaks a rule, reorg puts the old branch back and
// returns that block as bad with its rule error; the caller marks it
// invalid. Other errors (the store) also leave the old tip in place.
func (c *Chain) reorg(to *BlockNode, have *block.Block) (disc, conn []*block.Block, bad *BlockNode, err error) {
	old := c.tip
	f := fork(old, to)
	for x := old; x != f; x = x.Parent {
		ok, err := c.loadUndo(x)
		if err != nil {
			return nil, nil, nil, err
		}
		if !ok {
			return c.rebuild(to, have)
		}
	}
	var discNodes []*BlockNode
	restore := func(connNodes []*BlockNode) error {
		for i := len(conn) - 1; i >= 0; i-- {
			n := connNodes[i]
			if err := c.led.Disconnect(conn[i], c.undo[n.Hash]); err != nil {
				return err
			}
			delete(c.undo, n.Hash)
		}
		// The ledger is now where the disconnecting stopped.
		base := old
		if len(discNodes) > 0 {
			base = discNodes[len(discNodes)-1].Parent
		}
		c.main, c.tip = c.main[:base.Height+1], base
		for i := len(disc) - 1; i >= 0; i-- {
			n := discNodes[i]
			u, err := c.led.Connect(disc[i], c.MedianTime(n.Parent))
			if err != nil {
				return err
			}
			c.undo[n.Hash] = u
			c.main, c.tip = append(c.main, n), n
		}
		return nil
	}
	// fail puts the old branch back after an error; should that fail too
	// (a bug: it only replays blocks held in memory), replay from genesis.
	fail := func(connNodes []*BlockNode, err error) error {
		if rerr := restore(connNodes); rerr != nil {
			if _, _, _, rerr = c.rebuild(old, nil); rerr != nil {
				return fmt.Errorf("chain: %w; restoring the old tip failed: %v", err, rerr)
			}
		}
		return err
	}

	for x := old; x != f; x = x.Parent {
		b, err := c.blockOf(x, nil)
		if err == nil {
			err = c.led.Disconnect(b, c.undo[x.Hash])
		}
		if err != nil {
			return nil, nil, nil, fail(nil, err)
		}
		delete(c.undo, x.Hash)
		disc = append(disc, b)
		discNodes = append(discNodes, x)
		c.main, c.tip = c.main[:x.Height], x.Parent
	}
	newNodes := path(f, to)
	for i, x := range newNodes {
		b, err := c.blockOf(x, have)
		if err != nil {
			return nil, nil, nil, fail(newNodes[:i], err)
		}
		u, err := c.led.Connect(b, c.MedianTime(x.Parent))
		if err != nil {
			if rule.CodeOf(err) != "" {
				bad = x
			}
			return nil, nil, bad, fail(newNodes[:i], err)
		}
		c.keepUndo(x, u)
		conn = append(conn, b)
		c.main, c.tip = append(c.main, x), x
	}
	c.pruneUndo()
	return disc, conn, nil, nil
}

// rebuild makes to the tip by replaying the ledger from genesis, for a
// reorganization below the oldest undo data. The current state is only
// replaced on success; a block of to's branch that breaks a rule is
// returned as bad, as by reorg.
func (c *Chain) rebuild(to *BlockNode, have *block.Block) (disc, conn []*block.Block, bad *BlockNode, err error) {
	old := c.tip
	f := fork(old, to)
	for x := old; x != f; x = x.Parent {
		b, err := c.blockOf(x, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		disc = append(disc, b)
	}
	led := ledger.New(c.p)
	undo := make(map[[32]byte]*ledger.Undo)
	keep := func(x *BlockNode, u *ledger.Undo) {
		if x.Height+c.depth > to.Height {
			undo[x.Hash] = u
		}
	}
	for _, x := range path(c.genesis, f) {
		b, err := c.blockOf(x, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		u, err := led.Connect(b, c.MedianTime(x.Parent))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("chain: replaying main-chain block %d (%x): %w", x.Height, x.Hash[:8], err)
		}
		keep(x, u)
	}
	newNodes := path(f, to)
	for _, x := range newNodes {
		b, err := c.blockOf(x, have)
		if err != nil {
			return nil, nil, nil, err
		}
		u, err := led.Connect(b, c.MedianTime(x.Parent))
		if err != nil {
			if rule.CodeOf(err) != "" {
				return nil, nil, x, err
			}
			return nil, nil, nil, err
		}
		keep(x, u)
		conn = append(conn, b)
	}
	c.led, c.undo, c.tip = led, undo, to
	c.main = append(c.main[:f.Height+1], newNodes...)
	// The replay's undo data is what the store lacked: keep it.
	for _, x := range path(c.genesis, to) {
		if u := undo[x.Hash]; u != nil {
			c.keepUndo(x, u)
		}
	}
	return disc, conn, nil, nil
}

// pruneUndo drops the undo data of main-chain blocks more than depth below
// the tip. Undo data is held for a contiguous run of main-chain blocks
// ending at the tip, so the walk stops at the first block without it.
func (c *Chain) pruneUndo() {
	if c.tip.Height <= c.depth {
		return
	}
	for h := c.tip.Height - c.depth; h >= 1; h-- {
		hash := c.main[h].Hash
		if c.undo[hash] == nil {
			return
		}
		delete(c.undo, hash)
	}
}

// best returns the valid block with the most work, the first seen among
// equals.
func (c *Chain) best() *BlockNode {
	b := c.genesis
	for _, n := range c.nodes {
		if n.Invalid {
			continue
		}
		if d := n.Work.Cmp(b.Work); d > 0 || (d == 0 && n.Seq < b.Seq) {
			b = n
		}
	}
	return b
}

// Load rebuilds the tree from the store's index, records in arrival order
// (parents before children), without validating them, then brings led to
// the best valid tip: by connecting forward when led's tip is an ancestor of
// it, otherwise by replaying from genesis. led is a ledger snapshot at any
// known block, or nil for genesis; the chain keeps it. A block that breaks
// a ledger rule on the way is marked invalid and the next best tip is
// taken. Load must be called on a chain fresh from New. A record whose
// parent is unknown, or whose height does not follow its parent's, is
// corrupt; a record repeated is skipped.
func (c *Chain) Load(recs []blockstore.Record, led *ledger.Ledger) error {
	if err := c.loadTree(recs); err != nil {
		return err
	}
	start := c.genesis
	if led != nil {
		n := c.nodes[led.Tip()]
		if n != nil && !n.Invalid && n.Height == led.Height() {
			start = n
		} else {
			led = nil
		}
	}
	if led == nil {
		led = ledger.New(c.p)
	}
	c.led, c.tip = led, start
	c.main = append([]*BlockNode{c.genesis}, path(c.genesis, start)...)
	for {
		best := c.best()
		if best == c.tip {
			return nil
		}
		if _, _, bad, err := c.reorg(best, nil); err != nil {
			if bad == nil {
				return err
			}
			c.invalidate(bad)
		}
	}
}

// LoadTree rebuilds the tree from the store's index as Load does and
// takes the best valid block as the tip without a ledger, when that is the
// chain Load builds from a ledger snapshot at the block tip at height:
// the best valid block is tip (Load connects nothing), or descends from it
// through blocks that each have undo data in the store (Store.GetUndo),
// which only a block a writer connected has, so that Load connects them
// all. It reports false otherwise (tip not in the tree, on another branch,
// a block above it without undo data): the chain must then be thrown away
// and one loaded with Load. A chain loaded this way is for reading blocks:
// Ledger returns nil, and Add, Try and Apply must not be called.
func (c *Chain) LoadTree(recs []blockstore.Record, tip [32]byte, height uint64) (bool, error) {
	if err := c.loadTree(recs); err != nil {
		return false, err
	}
	n := c.nodes[tip]
	if n == nil || n.Invalid || n.Height != height {
		return false, nil
	}
	best := c.best()
	for x := best; x != n; x = x.Parent {
		if x.Height <= n.Height {
			return false, nil // n is not below best
		}
		u, err := c.s.GetUndo(x.Hash, x.Height)
		if u == nil || err != nil {
			return false, err
		}
	}
	c.led, c.tip = nil, best
	c.main = append([]*BlockNode{c.genesis}, path(c.genesis, best)...)
	return true, nil
}

// loadTree adds the index records recs to a chain fresh from New (see
// Load).
func (c *Chain) loadTree(recs []blockstore.Record) error {
	if len(c.nodes) != 1 {
		return errors.New("chain: Load on a chain that already holds blocks")
	}
	c.nodes = make(map[[32]byte]*BlockNode, len(recs)+1)
	c.nodes[c.genesis.Hash] = c.genesis
	// A block's work is a division; most blocks carry their parent's target.
	var target [32]byte
	var work *big.Int
	// The nodes, their works and the works' words come from three slabs,
	// not three allocations a block: fresh memory is most of what opening
	// a large chain costs a short-lived reader (cnj-chain tx). A total
	// that outgrows its words allocates its own.
	const words = 4
	nodes := make([]BlockNode, len(recs))
	works := make([]big.Int, len(recs))
	ws := make([]big.Word, len(recs)*words)
	for i, r := range recs {
		if c.nodes[r.Hash] != nil {
			continue
		}
		parent := c.nodes[r.PrevHash]
		if parent == nil {
			return rule.Errorf(rule.Corrupt, "index record %d (block %x): parent %x not found before it", i, r.Hash[:8], r.PrevHash[:8])
		}
		if r.Height != parent.Height+1 {
			return rule.Errorf(rule.Corrupt, "index record %d (block %x): height %d on a parent at %d", i, r.Hash[:8], r.Height, parent.Height)
		}
		if work == nil || r.Target != target {
			target, work = r.Target, pow.Work(&r.Target)
		}
		w := works[i].SetBits(ws[i*words : i*words : (i+1)*words])
		c.addRecordIn(&nodes[i], w, parent, r, work)
	}
	return nil
}
