package consensus_test

import (
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestHeaderRuleCodes: each rule of a header against its branch
// (header.go), produced through CheckProof or CheckHeader and only just
// missed. The header's time rules are in TestTimeRuleCodes.
func TestHeaderRuleCodes(t *testing.T) {
	p := devnet(t)
	c := branch(t, p)
	m := newKey(p, 1)
	want := consensus.NextTarget(p, c)
	check := func(edit func(*block.Block)) func() error {
		return func() error { return consensus.CheckHeader(header(p, c, m, edit), c, p) }
	}
	// proof checks a mined header after after changes it and rehashes it
	// when rehash is set.
	proof := func(after func(*block.Block), rehash bool) func() error {
		return func() error {
			b := header(p, c, m, nil)
			if after != nil {
				after(b)
			}
			if rehash {
				b.Hash = b.ComputeHash()
			}
			return consensus.CheckProof(b)
		}
	}
	// limit checks a header carrying target against the network's limit.
	limit := func(target [32]byte) func() error {
		return func() error {
			b := header(p, c, m, nil)
			b.Target = target
			return consensus.CheckTargetLimit(b, p)
		}
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "hash field one bit off",
			Code:    rule.BadBlockHash,
			Produce: proof(func(b *block.Block) { b.Hash[31] ^= 1 }, false),
			Miss:    proof(nil, false),
		},
		{
			Name:    "the proof before the one that meets the target",
			Code:    rule.HighHash,
			Produce: proof(func(b *block.Block) { b.Proof-- }, true),
			Miss:    proof(nil, true),
		},
		{
			Name:    "index parent+2",
			Code:    rule.BadIndex,
			Produce: check(func(b *block.Block) { b.Index = c.ParentIndex + 2 }),
			Miss:    check(func(b *block.Block) { b.Index = c.ParentIndex + 1 }),
		},
		{
			Name:    "target one above the network's limit, checked before anything else",
			Code:    rule.BadTarget,
			Produce: limit(plusOne(p.InitialTarget)),
			Miss:    limit(p.InitialTarget),
		},
		{
			Name:    "target one below the retarget value",
			Code:    rule.BadTarget,
			Produce: check(func(b *block.Block) { b.Target = minusOne(want) }),
			Miss:    check(func(b *block.Block) { b.Target = want }),
		},
	})
}

// plusOne returns x+1 as a 256-bit big-endian number; x is not all ones.
func plusOne(x [32]byte) [32]byte {
	for i := 31; i >= 0; i-- {
		x[i]++
		if x[i] != 0 {
			break
		}
	}
	return x
}

// minusOne returns x-1 as a 256-bit big-endian number; x is not zero.
func minusOne(x [32]byte) [32]byte {
	for i := 31; i >= 0; i-- {
		x[i]--
		if x[i] != 0xff {
			break
		}
	}
	return x
}
