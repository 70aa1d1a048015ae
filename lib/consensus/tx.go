package consensus

import (
	"crypto/ed25519"
	"fmt"

	"github.com/hdevalence/ed25519consensus"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
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

// VerifySignatures checks the signatures of txs in one batch. A batch that
// fails is checked one by one to name the first bad transfer; both use the
// same ZIP-215 rules, so the answer is the same either way.
func VerifySignatures(txs []*tx.Tx) error {
	switch len(txs) {
	case 0:
		return nil
	case 1:
		// One transfer: the single check names it; no second check.
		if ed25519consensus.Verify(txs[0].PubKey[:], txs[0].Hash[:], txs[0].Signature[:]) {
			return nil
		}
		return rule.Errorf(rule.BadSignature, "transaction 1 (id %x): signature does not verify", txs[0].ID)
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
