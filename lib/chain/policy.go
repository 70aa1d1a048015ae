package chain

import (
	"math/big"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
)

// Limits are the node's policy on the side branches a block may start or
// extend, applied to blocks that arrive one at a time from peers (the
// lines the relay hands cnj-verify, tagged with the peer's address): DESIGN.md, "what a peer can make a node store ... is
// bounded per unit of the peer's work". They are not consensus: a block
// refused by them is valid, and is taken when it comes in a branch that
// has more work than the tip (cnj-sync downloads only such a branch, and
// adds it with zero Limits). The zero Limits apply none.
type Limits struct {
	// MaxForkDepth, when not zero, refuses (fork-too-deep) a block whose
	// branch leaves the main chain more than this many blocks below the
	// tip, unless the block gives its branch more work than the tip has.
	MaxForkDepth uint64
}

// The depth of DefaultMaxForkDepth: two hours of blocks at the network's
// spacing, and never fewer than MinForkDepth blocks.
const (
	ForkWindow   = 2 * 60 * 60
	MinForkDepth = 6
)

// DefaultMaxForkDepth is the fork depth limit of network p: 12 blocks on
// main (10-minute spacing), 3600 on a devnet (2-second spacing).
//
// Why this bounds storage per unit of work: a side block within the depth
// forks at most two hours below the tip, so its target, which the retarget
// rule derives from the branch it shares with the main chain, costs about
// what a block on the tip costs. A deeper fork point is refused at once,
// before the block is checked further or stored, and so is every block
// after it: a branch cannot be grown there one block at a time. An honest
// branch that deep is a partition healing, and comes from cnj-sync, which
// downloads a branch only when it has more work than the tip.
func DefaultMaxForkDepth(p *params.Params) uint64 {
	return max(MinForkDepth, uint64((ForkWindow+p.Spacing-1)/p.Spacing))
}

// checkFork applies lim to b, a block on parent that is not the tip.
func (c *Chain) checkFork(b *block.Block, parent *BlockNode, lim Limits) error {
	if lim.MaxForkDepth == 0 || parent == c.tip {
		return nil
	}
	f := parent
	for c.AtHeight(f.Height) != f {
		f = f.Parent
	}
	depth := c.tip.Height - f.Height
	if depth <= lim.MaxForkDepth {
		return nil
	}
	// The block's claimed target; CheckHeader holds it to the rule after.
	w := pow.Work(&b.Target)
	if w.Add(w, parent.Work).Cmp(c.tip.Work) > 0 {
		return nil
	}
	return rule.Errorf(rule.ForkTooDeep, "block %x leaves the main chain at height %d, %d blocks below the tip (limit %d), with less work than the tip",
		b.Hash[:8], f.Height, depth, lim.MaxForkDepth)
}

// behind reports whether a side block whose branch has work branchWork is
// far behind the tip: more than the work of the tip block itself. Such a
// block is kept but not worth passing on to peers (Result.Behind): a
// competitor of the tip, or a branch one block from overtaking it, is.
func (c *Chain) behind(branchWork *big.Int) bool {
	w := pow.Work(&c.tip.Target)
	return w.Add(w, branchWork).Cmp(c.tip.Work) < 0
}
