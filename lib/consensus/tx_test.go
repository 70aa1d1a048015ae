package consensus_test

import (
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// TestTxRuleCodes: each rule of a transfer's form (tx.go), produced through
// CheckTx or VerifySignatures and only just missed.
func TestTxRuleCodes(t *testing.T) {
	p := devnet(t)
	a, b := newKey(p, 1), newKey(p, 2)
	onMain := newKey(params.Main(), 2)
	// check signs a transfer from a to b after edit, then runs after on it
	// (to break what signing made right) and CheckTx.
	check := func(edit, after func(*tx.Tx)) func() error {
		return func() error {
			x := transfer(p, a, b.addr, 1, edit)
			if after != nil {
				after(x)
			}
			return consensus.CheckTx(x, p)
		}
	}
	// batch verifies three signatures, the second one bit off when bad.
	batch := func(bad bool) func() error {
		return func() error {
			txs := []*tx.Tx{transfer(p, a, b.addr, 1, nil), transfer(p, b, a.addr, 2, nil), transfer(p, a, b.addr, 3, nil)}
			if bad {
				txs[1].Signature[0] ^= 1
			}
			return consensus.VerifySignatures(txs)
		}
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "sender another address of the network",
			Code:    rule.SenderMismatch,
			Produce: check(func(t *tx.Tx) { t.Sender = b.addr }, nil),
			Miss:    check(func(t *tx.Tx) { t.Sender = a.addr }, nil),
		},
		{
			Name:    "receiver on main",
			Code:    rule.WrongNetwork,
			Produce: check(func(t *tx.Tx) { t.Receiver = onMain.addr }, nil),
			Miss:    check(func(t *tx.Tx) { t.Receiver = b.addr }, nil),
		},
		{
			Name:    "amount 0",
			Code:    rule.ZeroAmount,
			Produce: check(func(t *tx.Tx) { t.Amount = 0 }, nil),
			Miss:    check(func(t *tx.Tx) { t.Amount = 1 }, nil),
		},
		{
			Name:    "amount+fee MaxMoney+1",
			Code:    rule.Overflow,
			Produce: check(func(t *tx.Tx) { t.Amount = amount.MaxMoney - t.Fee + 1 }, nil),
			Miss:    check(func(t *tx.Tx) { t.Amount = amount.MaxMoney - t.Fee }, nil),
		},
		{
			Name:    "fee min_fee-1",
			Code:    rule.LowFee,
			Produce: check(func(t *tx.Tx) { t.Fee = p.MinFee - 1 }, nil),
			Miss:    check(func(t *tx.Tx) { t.Fee = p.MinFee }, nil),
		},
		{
			Name:    "hash field one bit off",
			Code:    rule.BadHash,
			Produce: check(nil, func(t *tx.Tx) { t.Hash[31] ^= 1 }),
			Miss:    check(nil, nil),
		},
		{
			Name:    "signature one bit off",
			Code:    rule.BadSignature,
			Produce: check(nil, func(t *tx.Tx) { t.Signature[0] ^= 1 }),
			Miss:    check(nil, nil),
		},
		{
			Name:    "one signature of a batch one bit off",
			Code:    rule.BadSignature,
			Produce: batch(true),
			Miss:    batch(false),
		},
	})
}
