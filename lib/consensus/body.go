package consensus

import (
	"bytes"
	"fmt"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
)

// CheckMerkle checks that the header's merkle root commits to the block's
// transactions, so that no byte of a block can change under its hash.
func CheckMerkle(b *block.Block, p *params.Params) error {
	if root := block.MerkleRoot(p.Hash(), &b.Reward, b.Txs); !bytes.Equal(root[:], b.MerkleRoot[:]) {
		return rule.Errorf(rule.BadMerkle, "merkle_root does not commit to the transactions")
	}
	return nil
}

// CheckBody checks what a block's transactions must satisfy without a
// ledger: size (of its canonical line: block.CanonicalSize), merkle root, the reward's place, index, receiver and amount,
// each transfer's form and time window, no (sender, id) twice, and all
// signatures.
// It returns the block's total fees.
func CheckBody(b *block.Block, p *params.Params) (fees uint64, err error) {
	if fees, ok := b.BodyChecked(p); ok {
		return fees, nil
	}
	// The size of the block, not of the line it came in: the same block
	// is judged the same however many blanks a peer put between tokens.
	if size := b.CanonicalSize(); uint64(size) > p.MaxBlockBytes {
		return 0, rule.Errorf(rule.BlockTooLarge, "block of %d bytes (its canonical line), limit %d", size, p.MaxBlockBytes)
	}
	if err := CheckMerkle(b, p); err != nil {
		return 0, err
	}
	if b.Reward.Index != b.Index {
		return 0, rule.Errorf(rule.BadReward, "reward index %d in block %d", b.Reward.Index, b.Index)
	}
	if b.Reward.Receiver != b.Miner {
		return 0, rule.Errorf(rule.BadReward, "reward to %s, miner is %s", b.Reward.Receiver, b.Miner)
	}
	// Ids are scoped to their sender: two senders may use one id.
	type senderID struct {
		sender string
		id     [16]byte
	}
	seen := make(map[senderID]struct{}, len(b.Txs))
	for i, t := range b.Txs {
		if err := CheckTxForm(t, p); err != nil {
			return 0, fmt.Errorf("transaction %d (id %x): %w", i+1, t.ID, err)
		}
		if !TxTimeOK(t.Timestamp, b.Timestamp) {
			return 0, rule.Errorf(rule.BadTxTime, "transaction %d (id %x): timestamp %d outside the window of block time %d", i+1, t.ID, t.Timestamp, b.Timestamp)
		}
		k := senderID{t.Sender, t.ID}
		if _, dup := seen[k]; dup {
			return 0, rule.Errorf(rule.DuplicateID, "transaction %d: %s uses id %x twice in the block", i+1, t.Sender, t.ID)
		}
		seen[k] = struct{}{}
		if fees, err = amount.Add(fees, t.Fee); err != nil {
			return 0, rule.Errorf(rule.Overflow, "fees of the block above the maximum")
		}
	}
	limit := p.Subsidy(b.Index) + fees
	if b.Reward.Amount > limit {
		return 0, rule.Errorf(rule.BadReward, "reward %d above subsidy %d + fees %d", b.Reward.Amount, p.Subsidy(b.Index), fees)
	}
	if err := VerifySignatures(b.Txs); err != nil {
		return 0, err
	}
	return fees, nil
}

// Precheck runs CheckBody on a block that will not change (decoded from a
// line, never edited) and, when it passes, records the result in the block
// so that CheckBody for the same p returns it at once. Prechecks of many
// blocks may run in parallel: cnj-sync spreads the signatures of a batch
// over every core before node.Submit adds the blocks one by one under the
// directory's lock. A block that fails stays unmarked; the later CheckBody
// finds and names the same error.
func Precheck(b *block.Block, p *params.Params) error {
	fees, err := CheckBody(b, p)
	if err == nil {
		b.MarkBodyChecked(p, fees)
	}
	return err
}
