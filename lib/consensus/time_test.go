package consensus_test

import (
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// TestTimeRuleCodes: each time rule (time.go), produced through
// CheckHeader or CheckBody and only just missed: a header above the median
// time past and at most MaxFuture ahead of the clock, a transfer in a block
// at most TxWindowAfter after it and TxWindowBefore before it.
func TestTimeRuleCodes(t *testing.T) {
	p := devnet(t)
	c := branch(t, p)
	m, a := newKey(p, 1), newKey(p, 2)
	mtp := c.MedianTime()
	stamped := func(ts int64) func() error {
		return func() error {
			return consensus.CheckHeader(header(p, c, m, func(b *block.Block) { b.Timestamp = ts }), c, p)
		}
	}
	// blockAt checks a block stamped t0+dt carrying a transfer stamped t0.
	blockAt := func(dt int64) func() error {
		return func() error {
			b := body(p, m, transfer(p, a, m.addr, 1, func(t *tx.Tx) { t.Timestamp = t0 }))
			b.Timestamp = t0 + dt
			seal(p, b)
			_, err := consensus.CheckBody(b, p)
			return err
		}
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "timestamp equal to the median time past",
			Code:    rule.TimeTooOld,
			Produce: stamped(mtp),
			Miss:    stamped(mtp + 1),
		},
		{
			Name:    "timestamp MaxFuture+1 ahead of the clock",
			Code:    rule.TimeTooNew,
			Produce: stamped(c.Now + params.MaxFuture + 1),
			Miss:    stamped(c.Now + params.MaxFuture),
		},
		{
			Name:    "block TxWindowAfter+1 after the transfer",
			Code:    rule.BadTxTime,
			Produce: blockAt(params.TxWindowAfter + 1),
			Miss:    blockAt(params.TxWindowAfter),
		},
		{
			Name:    "block TxWindowBefore+1 before the transfer",
			Code:    rule.BadTxTime,
			Produce: blockAt(-params.TxWindowBefore - 1),
			Miss:    blockAt(-params.TxWindowBefore),
		},
	})
}
