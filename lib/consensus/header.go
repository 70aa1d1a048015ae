package consensus

import (
	"fmt"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
)

// Context is what a header is checked against: the branch it extends.
type Context struct {
	// Branch holds the blocks ending at the parent, oldest first: at least
	// pow.Needed points, or every block from genesis when fewer exist.
	Branch      []pow.Point
	ParentIndex uint64
	// Now is the node's clock, Unix seconds.
	Now int64
}

// PowParams returns the retarget parameters of a network.
func PowParams(p *params.Params) pow.Params {
	return pow.Params{Spacing: p.Spacing, Window: p.RetargetWindow, Limit: p.InitialTarget}
}

// NextTarget is the target a child of the branch's last block must carry.
func NextTarget(p *params.Params, c *Context) [32]byte {
	return pow.Next(PowParams(p), c.Branch)
}

// CheckProof checks that the hash field is the header's hash and meets the
// block's own target. It needs no context, so it runs first: a block without
// work is refused before anything else is spent on it.
func CheckProof(b *block.Block) error {
	if h := b.ComputeHash(); h != b.Hash {
		return rule.Errorf(rule.BadBlockHash, "hash %x is not the header's hash %x", b.Hash[:8], h[:8])
	}
	if !pow.Meets(&b.Hash, &b.Target) {
		return rule.Errorf(rule.HighHash, "hash %x above target %x", b.Hash[:8], b.Target[:8])
	}
	return nil
}

// CheckHeader checks a header against its parent's branch: index, time,
// target and proof of work.
func CheckHeader(b *block.Block, c *Context, p *params.Params) error {
	if err := CheckProof(b); err != nil {
		return err
	}
	if b.Index != c.ParentIndex+1 {
		return rule.Errorf(rule.BadIndex, "index %d, parent is %d", b.Index, c.ParentIndex)
	}
	if want := NextTarget(p, c); b.Target != want {
		return rule.Errorf(rule.BadTarget, "target %x, the retarget rule gives %x", b.Target[:8], want[:8])
	}
	if err := checkHeaderTime(b, c); err != nil {
		return err
	}
	if err := keys.CheckAddress(b.Miner, p.AddressPrefix); err != nil {
		return fmt.Errorf("miner: %w", err)
	}
	return nil
}
