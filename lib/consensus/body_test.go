package consensus_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// TestBodyRuleCodes: each rule of a block's transactions (body.go),
// produced through CheckBody and only just missed.
func TestBodyRuleCodes(t *testing.T) {
	p := devnet(t)
	m, a, b := newKey(p, 1), newKey(p, 2), newKey(p, 3)
	two := func(p *params.Params) []*tx.Tx {
		return []*tx.Tx{transfer(p, a, b.addr, 1, nil), transfer(p, b, a.addr, 2, nil)}
	}
	// check builds a block of two transfers, lets edit change it, seals it
	// again unless edit broke the merkle root on purpose, and checks it.
	check := func(edit func(*block.Block), reseal bool) func() error {
		return func() error {
			blk := body(p, m, two(p)...)
			edit(blk)
			if reseal {
				seal(p, blk)
			}
			_, err := consensus.CheckBody(blk, p)
			return err
		}
	}
	withTxs := func(txs ...*tx.Tx) func() error {
		return func() error { _, err := consensus.CheckBody(body(p, m, txs...), p); return err }
	}
	// sized checks a block of eight transfers on a network whose
	// max_block_bytes is the block's size plus slack. The size of the
	// block does not depend on the network: hashes are fixed-length hex.
	size := len(body(p, m, eight(p, a, b)...).JSON())
	sized := func(slack int) func() error {
		return func() error {
			q := *p
			q.MaxBlockBytes = uint64(size + slack)
			if err := q.Validate(); err != nil {
				return err
			}
			blk := body(&q, m, eight(&q, a, b)...)
			if blk.Size != size {
				return fmt.Errorf("block of %d bytes on the second network, %d on the first", blk.Size, size)
			}
			_, err := consensus.CheckBody(blk, &q)
			return err
		}
	}
	// padded is sized, but the block is read back from its line with
	// blanks after every comma: the line is longer than the limit either
	// way, and only the block's own size decides.
	padded := func(slack int) func() error {
		return func() error {
			q := *p
			q.MaxBlockBytes = uint64(size + slack)
			if err := q.Validate(); err != nil {
				return err
			}
			line := bytes.ReplaceAll(body(&q, m, eight(&q, a, b)...).JSON(), []byte(","), []byte(", "))
			if len(line) <= size+1 {
				return fmt.Errorf("padded line of %d bytes", len(line))
			}
			blk, err := block.Parse(line)
			if err != nil {
				return err
			}
			_, err = consensus.CheckBody(blk, &q)
			return err
		}
	}
	half := amount.MaxMoney / 2
	fee := func(f uint64) func(*tx.Tx) { return func(t *tx.Tx) { t.Amount, t.Fee = 1, f } }
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "one byte above max_block_bytes",
			Code:    rule.BlockTooLarge,
			Produce: sized(-1),
			Miss:    sized(0),
		},
		{
			Name:    "one byte above max_block_bytes, from a line padded with blanks far past it",
			Code:    rule.BlockTooLarge,
			Produce: padded(-1),
			Miss:    padded(0),
		},
		{
			Name:    "merkle root of the transfers before the last bit changed",
			Code:    rule.BadMerkle,
			Produce: check(func(blk *block.Block) { blk.Txs[1].Signature[63] ^= 1 }, false),
			Miss:    check(func(*block.Block) {}, false),
		},
		{
			Name:    "reward subsidy+fees+1",
			Code:    rule.BadReward,
			Produce: check(func(blk *block.Block) { blk.Reward.Amount++ }, true),
			Miss:    check(func(*block.Block) {}, true),
		},
		{
			Name:    "reward index block index+1",
			Code:    rule.BadReward,
			Produce: check(func(blk *block.Block) { blk.Reward.Index++ }, true),
			Miss:    check(func(blk *block.Block) { blk.Reward.Index = blk.Index }, true),
		},
		{
			Name:    "reward to another address than the miner",
			Code:    rule.BadReward,
			Produce: check(func(blk *block.Block) { blk.Reward.Receiver = a.addr }, true),
			Miss:    check(func(blk *block.Block) { blk.Reward.Receiver = m.addr }, true),
		},
		{
			Name:    "one sender's id twice in the block",
			Code:    rule.DuplicateID,
			Produce: withTxs(transfer(p, a, b.addr, 1, nil), transfer(p, a, m.addr, 1, nil)),
			Miss:    withTxs(transfer(p, a, b.addr, 1, nil), transfer(p, a, m.addr, 1, func(t *tx.Tx) { t.ID[15] = 1 })),
		},
		{
			Name:    "one id twice in the block, from one sender and not from two",
			Code:    rule.DuplicateID,
			Produce: withTxs(transfer(p, a, b.addr, 1, nil), transfer(p, a, m.addr, 1, nil)),
			Miss:    withTxs(transfer(p, a, b.addr, 1, nil), transfer(p, b, a.addr, 1, nil)),
		},
		{
			Name:    "fees of the block MaxMoney+1",
			Code:    rule.Overflow,
			Produce: withTxs(transfer(p, a, b.addr, 1, fee(half)), transfer(p, b, a.addr, 2, fee(amount.MaxMoney-half+1))),
			Miss:    withTxs(transfer(p, a, b.addr, 1, fee(half)), transfer(p, b, a.addr, 2, fee(amount.MaxMoney-half))),
		},
		{
			Name:    "a signature of the block one bit off",
			Code:    rule.BadSignature,
			Produce: check(func(blk *block.Block) { blk.Txs[1].Signature[63] ^= 1 }, true),
			Miss:    check(func(*block.Block) {}, true),
		},
	})
}

// eight returns eight transfers between a and b on p, about 4.3 kB of
// block: above the smallest max_block_bytes a genesis may set.
func eight(p *params.Params, a, b key) []*tx.Tx {
	var txs []*tx.Tx
	for i := range byte(8) {
		txs = append(txs, transfer(p, a, b.addr, i, nil))
	}
	return txs
}
