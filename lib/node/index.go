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

// took keeps the blocks a chain result connected and disconnected, while
// a write runs, for the index.
func (n *Node) took(res *chain.Result) {
	if !n.writing {
		return
	}
	if n.taken == nil {
		n.taken = map[[32]byte]*block.Block{}
	}
	for _, b := range res.Connected {
		n.taken[b.Hash] = b
	}
	for _, b := range res.Disconnected {
		n.taken[b.Hash] = b
	}
}

// indexBlock reads a block for the index: from this write's, or through
// the chain.
func (n *Node) indexBlock(nd *chain.BlockNode) (*block.Block, error) {
	if b := n.taken[nd.Hash]; b != nil {
		return b, nil
	}
	return n.ch.Block(nd)
}

// index brings the transfer index to the chain's tip, when this node has
// not already (it remembers the tip it last did).
func (n *Node) index() {
	tip := n.ch.Tip().Hash
	if !keepIndex || tip == n.indexedAt {
		return
	}
	res, err := txindex.Update(n.dir, n.ch, n.indexBlock, n.o.Index)
	n.indexErr = err
	if err == nil && !res.Behind {
		n.indexedAt = tip
	}
}

// IndexError says why the last write could not bring the transfer index
// to its tip (nil when it did): the blocks were stored all the same, and
// the next write tries again.
func (n *Node) IndexError() error { return n.indexErr }
