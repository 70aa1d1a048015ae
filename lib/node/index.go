package node

import (
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/txindex"
)

// The transfer index (package txindex) is brought to the tip by whoever
// writes: at the end of each Write that moved the tip, under the
// directory's lock, once the blocks are durable. The blocks the write
// connected or disconnected are handed over from memory (a sync's batch
// would otherwise be read and parsed twice); any other block is read
// through the chain. Failing to update it does not fail the write, whose
// blocks are stored: the index lags until the next write, and its readers
// know how far it goes (txindex.View.Agree).
//
// A catch-up sync writes batch after batch, and bringing the index along
// after each costs three times what a few large steps do: each database
// transaction rewrites the newest pages of every txid bucket and of the
// addresses it touches, however few entries it adds (on the 1,000,000-
// transfer chain of the sync benchmark, 64 updates of 15,600 transfers
// took 5-6 s, 10 of 100,000 took 2 s). So a sync indexes in steps
// (IndexInSteps): its writes leave the index behind until it lags by a
// step, keeping the blocks in memory for it, and the index reaches the tip
// when the sync ends. Meanwhile readers answer from the blocks above the
// index as far as they are allowed to read (explore.Lookup.MaxLag).

// DefaultIndexStep is the step of a catch-up sync (IndexInSteps), in
// transactions: about 1,000 blocks of 100 transfers, whose parsed blocks
// are held (the sync benchmark's peak resident set rose by 50-170 MB, to
// 733-848 MB at a million transfers). A step of 50,000 would hold half
// as much for about 0.5 s more of indexing there.
const DefaultIndexStep = 100_000

// took keeps the blocks a chain result connected and disconnected, while
// a write runs, for the index.
func (n *Node) took(res *chain.Result) {
	if !keepIndex || !n.writing {
		return
	}
	if n.taken == nil {
		n.taken = map[[32]byte]*block.Block{}
	}
	for _, b := range res.Connected {
		n.taken[b.Hash] = b
		n.takenTxs += 1 + len(b.Txs)
	}
	for _, b := range res.Disconnected {
		n.taken[b.Hash] = b
	}
}

// indexBlock reads a block for the index: from the writes', or through
// the chain.
func (n *Node) indexBlock(nd *chain.BlockNode) (*block.Block, error) {
	if b := n.taken[nd.Hash]; b != nil {
		return b, nil
	}
	return n.ch.Block(nd)
}

// index brings the transfer index to the chain's tip, when this node has
// not already (it remembers the tip it last did), unless it indexes in
// steps and the writes since the last update connected less than a step.
func (n *Node) index() {
	tip := n.ch.Tip().Hash
	if !keepIndex || tip == n.indexedAt {
		return
	}
	o := n.o.Index
	if n.step > 0 {
		if n.takenTxs < n.step {
			n.held = true
			return
		}
		// One database transaction for the step (see above).
		o.CommitTxs = max(o.CommitTxs, n.takenTxs)
	}
	res, err := txindex.Update(n.dir, n.ch, n.indexBlock, o)
	n.indexErr = err
	n.held = err != nil || res.Behind
	if !n.held {
		n.indexedAt = tip
	}
	// Whatever happened, the blocks kept go: memory stays bounded by a
	// step, and an update that failed reads them through the chain next
	// time.
	n.taken, n.takenTxs = nil, 0
}

// IndexInSteps makes the writes that follow bring the transfer index
// along only once they have connected step transactions (blocks'
// transfers and rewards) since it was last brought along, keeping their
// blocks in memory meanwhile: a catch-up sync's batches (package
// chainsync). A step of 0 or less is DefaultIndexStep. The function
// returned ends the steps and brings the index to the tip, in a write of
// its own if the last write left it behind; its error is that write's
// (the index's own failure is IndexError's, as for any write). Close ends
// the steps too.
func (n *Node) IndexInSteps(step int) (end func() error) {
	if step <= 0 {
		step = DefaultIndexStep
	}
	n.step = step
	return n.endSteps
}

// endSteps ends IndexInSteps.
func (n *Node) endSteps() error {
	if n.step == 0 {
		return nil
	}
	n.step = 0
	if !n.held || n.ch == nil || n.ch.Tip().Hash == n.indexedAt {
		n.taken, n.takenTxs, n.held = nil, 0, false
		return nil
	}
	return n.Write(func(*Writer) error { return nil })
}

// IndexError says why the last update of the transfer index failed (nil
// when it did not): the blocks were stored all the same, and the next
// write tries again.
func (n *Node) IndexError() error { return n.indexErr }
