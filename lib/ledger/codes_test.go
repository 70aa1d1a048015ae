package ledger

import (
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// TestLedgerRuleCodes: each rule of the ledger (funds, maturity, recent
// ids), produced through Connect or CanSpend and only just missed.
func TestLedgerRuleCodes(t *testing.T) {
	p1, p3 := testParams(t, 1), testParams(t, 3)
	M, N, A := addr(p1, 1), addr(p1, 2), addr(p1, 3)
	sub := p1.Subsidy(1)
	// step connects the next block, by miner with txs, at mtp.
	step := func(bd *builder, mtp int64, miner string, txs ...*tx.Tx) error {
		_, err := bd.l.Connect(bd.next(miner, txs...), mtp)
		return err
	}
	// spend: maturity 1, M mined block 1; block 2 has M pay A amt.
	spend := func(amt uint64) func() error {
		return func() error {
			bd := &builder{t: t, p: p1, l: New(p1)}
			if err := step(bd, t0, M); err != nil {
				return err
			}
			return step(bd, t0, N, bd.xfer(M, A, amt, 1000, t0))
		}
	}
	// canSpend: maturity 1, M mined block 1; may M spend need in block 2?
	canSpend := func(need uint64) func() error {
		return func() error {
			bd := &builder{t: t, p: p1, l: New(p1)}
			if err := step(bd, t0, M); err != nil {
				return err
			}
			return bd.l.CanSpend(M, need)
		}
	}
	// immature: maturity 3, M mined block 1 and N the blocks after it;
	// block h has M pay A amt.
	immature := func(h, amt uint64) func() error {
		return func() error {
			bd := &builder{t: t, p: p3, l: New(p3)}
			if err := step(bd, t0, M); err != nil {
				return err
			}
			for bd.l.Height() < h-1 {
				if err := step(bd, t0, N); err != nil {
					return err
				}
			}
			return step(bd, t0, N, bd.xfer(M, A, amt, 1000, t0))
		}
	}
	// replayAt: maturity 1, block 2 has M pay A a coin stamped t0; block 3,
	// whose parent's median time past is mtp, has M pay A again under the
	// same id.
	replayAt := func(mtp int64) func() error {
		return func() error {
			bd := &builder{t: t, p: p1, l: New(p1)}
			first := bd.xfer(M, A, coin, 1000, t0)
			again := *first
			again.Amount = 2 * coin
			if err := step(bd, t0, M); err != nil {
				return err
			}
			if err := step(bd, t0, N, first); err != nil {
				return err
			}
			return step(bd, mtp, N, &again)
		}
	}
	// reuse: maturity 1, M mined block 1 and N block 2, which has M pay A
	// under an id; block 3 has from pay A under that id, in a block of its
	// own, or beside a transfer of M under it too when twice is set.
	reuse := func(from string, twice bool) func() error {
		return func() error {
			bd := &builder{t: t, p: p1, l: New(p1)}
			first := bd.xfer(M, A, coin, 1000, t0)
			if err := step(bd, t0, M); err != nil {
				return err
			}
			if twice {
				if err := step(bd, t0, N); err != nil {
					return err
				}
				a, b := bd.xfer(M, A, coin, 1000, t0), bd.xfer(from, A, coin, 1000, t0)
				b.ID = a.ID
				return step(bd, t0, N, a, b)
			}
			if err := step(bd, t0, N, first); err != nil {
				return err
			}
			again := bd.xfer(from, A, coin, 1000, t0)
			again.ID = first.ID
			return step(bd, t0, N, again)
		}
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "id on the chain reused by its sender; another sender's transfer under it is free",
			Code:    rule.DuplicateID,
			Produce: reuse(M, false),
			Miss:    reuse(N, false),
		},
		{
			Name:    "one sender twice under one id in a block; two senders under one id are fine",
			Code:    rule.DuplicateID,
			Produce: reuse(M, true),
			Miss:    reuse(N, true),
		},
		{
			Name:    "amount+fee one above the balance",
			Code:    rule.InsufficientFunds,
			Produce: spend(sub - 1000 + 1),
			Miss:    spend(sub - 1000),
		},
		{
			Name:    "CanSpend one above the balance",
			Code:    rule.InsufficientFunds,
			Produce: canSpend(sub + 1),
			Miss:    canSpend(sub),
		},
		{
			Name:    "spend of a reward one block before it matures",
			Code:    rule.ImmatureSpend,
			Produce: immature(3, coin),
			Miss:    immature(4, coin),
		},
		{
			Name:     "immature reward covers amount+fee exactly",
			Code:     rule.ImmatureSpend,
			Produce:  immature(3, sub-1000),
			Miss:     immature(3, sub-1000+1),
			MissCode: rule.InsufficientFunds,
		},
		{
			Name:    "id reused at the last second of its window",
			Code:    rule.DuplicateID,
			Produce: replayAt(t0 + day),
			Miss:    replayAt(t0 + day + 1),
		},
	})
}
