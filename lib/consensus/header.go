package consensus

import (
	"bytes"
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

// CheckTargetLimit refuses a block whose target is above the network's
// proof-of-work limit (initial_target): no branch's retarget rule can give
// such a target at any height, so the block is invalid wherever it would
// attach. It needs neither context nor hashing, so it runs first: a line
// that claims an easy target (all ones, say, which any proof meets) costs
// a 32-byte comparison, never a lookup of its parent.
func CheckTargetLimit(b *block.Block, p *params.Params) error {
	if bytes.Compare(b.Target[:], p.InitialTarget[:]) > 0 {
		return rule.Errorf(rule.BadTarget, "target %x above the network's limit %x", b.Target[:8], p.InitialTarget[:8])
	}
	return nil
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

// CheckHeader checks a header against its parent's branch: target limit,
// proof of work, index, target, time and miner.
func CheckHeader(b *block.Block, c *Context, p *params.Params) error {
	if err := CheckTargetLimit(b, p); err != nil {
		return err
	}
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
