// Package consensus holds the rules of DESIGN.md that need no ledger: a
// transfer's form, amounts, addresses, hash and signature; a block's header
// (index, time, target, proof of work) and body (size, merkle root, reward
// placement, per-transaction checks, batch signatures).
//
// Rules that need balances, maturity or the set of recent ids live in
// package ledger, which calls these first. Every refusal is a *rule.Error.
//
// Signatures follow ZIP-215 (github.com/hdevalence/ed25519consensus) for
// single and batch checks alike, so the two never disagree.
package consensus

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/hdevalence/ed25519consensus"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// CheckTx checks everything about a transfer that holds wherever it is:
// form, network, amounts, hash and signature.
func CheckTx(t *tx.Tx, p *params.Params) error {
	if err := CheckTxForm(t, p); err != nil {
		return err
	}
	if !ed25519consensus.Verify(ed25519.PublicKey(t.PubKey[:]), t.Hash[:], t.Signature[:]) {
		return rule.Errorf(rule.BadSignature, "signature does not verify for pubkey %x", t.PubKey[:4])
	}
	return nil
}

// CheckTxForm is CheckTx without the signature, for callers that verify
// signatures in a batch.
func CheckTxForm(t *tx.Tx, p *params.Params) error {
	// The pubkey's address is a valid address of this network: a sender
	// equal to it needs no parsing. Otherwise the sender's own fault, if
	// any, is reported before the receiver's and before the mismatch.
	own := keys.Address(p.AddressPrefix, ed25519.PublicKey(t.PubKey[:]))
	if own != t.Sender {
		if err := keys.CheckAddress(t.Sender, p.AddressPrefix); err != nil {
			return fmt.Errorf("sender: %w", err)
		}
	}
	if err := keys.CheckAddress(t.Receiver, p.AddressPrefix); err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	if own != t.Sender {
		return rule.Errorf(rule.SenderMismatch, "sender %s is not the address of pubkey", t.Sender)
	}
	if t.Amount == 0 {
		return rule.Errorf(rule.ZeroAmount, "amount is zero")
	}
	if _, err := amount.Add(t.Amount, t.Fee); err != nil {
		return rule.Errorf(rule.Overflow, "amount %d + fee %d above the maximum %d", t.Amount, t.Fee, amount.MaxMoney)
	}
	if t.Fee < p.MinFee {
		return rule.Errorf(rule.LowFee, "fee %d below the minimum %d", t.Fee, p.MinFee)
	}
	if h := t.ComputeHash(p.Hash()); h != t.Hash {
		return rule.Errorf(rule.BadHash, "hash is not the hash of the transaction")
	}
	return nil
}

// TxTimeOK reports whether a transfer stamped txTime may be in a block
// stamped blockTime: at most 24 h after it and at most 2 h before it.
func TxTimeOK(txTime, blockTime int64) bool {
	return blockTime <= txTime+params.TxWindowAfter && blockTime >= txTime-params.TxWindowBefore
}

// VerifySignatures checks the signatures of txs in one batch. A batch that
// fails is checked one by one to name the first bad transfer; both use the
// same ZIP-215 rules, so the answer is the same either way.
func VerifySignatures(txs []*tx.Tx) error {
	switch len(txs) {
	case 0:
		return nil
	case 1:
		if ed25519consensus.Verify(txs[0].PubKey[:], txs[0].Hash[:], txs[0].Signature[:]) {
			return nil
		}
	default:
		v := ed25519consensus.NewPreallocatedBatchVerifier(len(txs))
		for _, t := range txs {
			v.Add(t.PubKey[:], t.Hash[:], t.Signature[:])
		}
		if v.Verify() {
			return nil
		}
	}
	for i, t := range txs {
		if !ed25519consensus.Verify(t.PubKey[:], t.Hash[:], t.Signature[:]) {
			return rule.Errorf(rule.BadSignature, "transaction %d (id %x): signature does not verify", i+1, t.ID)
		}
	}
	return nil
}

// Context is what a header is checked against: the branch it extends.
type Context struct {
	// Branch holds the blocks ending at the parent, oldest first: at least
	// pow.Needed points, or every block from genesis when fewer exist.
	Branch      []pow.Point
	ParentIndex uint64
	// Now is the node's clock, Unix seconds.
	Now int64
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

// PowParams returns the retarget parameters of a network.
func PowParams(p *params.Params) pow.Params {
	return pow.Params{Spacing: p.Spacing, Window: p.RetargetWindow, Limit: p.InitialTarget}
}

// NextTarget is the target a child of the branch's last block must carry.
func NextTarget(p *params.Params, c *Context) [32]byte {
	return pow.Next(PowParams(p), c.Branch)
}

// MedianTime is the median time past of the branch's last block.
func (c *Context) MedianTime() int64 {
	ts := make([]int64, 0, params.MedianSpan)
	for i := max(0, len(c.Branch)-params.MedianSpan); i < len(c.Branch); i++ {
		ts = append(ts, c.Branch[i].Timestamp)
	}
	return pow.MedianTime(ts)
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
	if mtp := c.MedianTime(); b.Timestamp <= mtp {
		return rule.Errorf(rule.TimeTooOld, "timestamp %d not above the median time past %d", b.Timestamp, mtp)
	}
	if b.Timestamp > c.Now+params.MaxFuture {
		return rule.Errorf(rule.TimeTooNew, "timestamp %d more than 2 h ahead of %d", b.Timestamp, c.Now)
	}
	if err := keys.CheckAddress(b.Miner, p.AddressPrefix); err != nil {
		return fmt.Errorf("miner: %w", err)
	}
	return nil
}

// CheckMerkle checks that the header's merkle root commits to the block's
// transactions, so that no byte of a block can change under its hash.
func CheckMerkle(b *block.Block, p *params.Params) error {
	if root := block.MerkleRoot(p.Hash(), &b.Reward, b.Txs); !bytes.Equal(root[:], b.MerkleRoot[:]) {
		return rule.Errorf(rule.BadMerkle, "merkle_root does not commit to the transactions")
	}
	return nil
}

// CheckBody checks what a block's transactions must satisfy without a
// ledger: size, merkle root, the reward's place, index, receiver and amount,
// each transfer's form and time window, no id twice, and all signatures.
// It returns the block's total fees.
func CheckBody(b *block.Block, p *params.Params) (fees uint64, err error) {
	if fees, ok := b.BodyChecked(p); ok {
		return fees, nil
	}
	if b.Size == 0 {
		b.JSON()
	}
	if uint64(b.Size) > p.MaxBlockBytes {
		return 0, rule.Errorf(rule.BlockTooLarge, "block of %d bytes, limit %d", b.Size, p.MaxBlockBytes)
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
	seen := make(map[[16]byte]struct{}, len(b.Txs))
	for i, t := range b.Txs {
		if err := CheckTxForm(t, p); err != nil {
			return 0, fmt.Errorf("transaction %d (id %x): %w", i+1, t.ID, err)
		}
		if !TxTimeOK(t.Timestamp, b.Timestamp) {
			return 0, rule.Errorf(rule.BadTxTime, "transaction %d (id %x): timestamp %d outside the window of block time %d", i+1, t.ID, t.Timestamp, b.Timestamp)
		}
		if _, dup := seen[t.ID]; dup {
			return 0, rule.Errorf(rule.DuplicateID, "transaction %d: id %x twice in the block", i+1, t.ID)
		}
		seen[t.ID] = struct{}{}
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
