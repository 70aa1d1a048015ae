// Package consensus holds the rules of DESIGN.md ("Consensus rules") that
// need no ledger: a transfer's form, amounts, addresses, hash and
// signature; a block's header (index, time, target, proof of work) and
// body (size, merkle root, reward placement, per-transaction checks, batch
// signatures).
//
// A reader who knows the rule finds it by subject:
//
//   - tx.go, a transfer wherever it is (CheckTx, CheckTxForm,
//     VerifySignatures): "hash matches; signature valid; sender matches
//     pubkey; amount > 0; fee >= minimum; no overflow" (sender-mismatch,
//     bad-address, wrong-network, zero-amount, overflow, low-fee, bad-hash,
//     bad-signature);
//   - header.go, a header against its parent's branch (CheckTargetLimit,
//     CheckProof, CheckHeader, NextTarget, PowParams): "index = parent + 1;
//     target equals the retarget rule's value; hash matches and meets
//     target" (bad-block-hash, high-hash, bad-index, bad-target). A target
//     above the network's limit is bad-target before anything else
//     (CheckTargetLimit), as no retarget rule at any height gives one;
//   - body.go, a block's transactions (CheckBody, CheckMerkle, Precheck):
//     "within size limits; merkle_root matches; exactly one reward, first,
//     not above reward(index) + fees; every transaction valid in order; no
//     transfer of the same sender with the same id earlier in the block"
//     (block-too-large, bad-merkle, bad-reward, duplicate-id, overflow);
//   - time.go, the clocks (TxTimeOK, Context.MedianTime): "timestamp above
//     the median of the last 11 blocks and at most 2 hours ahead of the
//     node's clock" and the replay window, a transfer valid only in a block
//     at most 24 h after it and at most 2 h before it (time-too-old,
//     time-too-new, bad-tx-time).
//
// Rules that need balances, maturity or the set of recent ids live in
// package ledger, which expects blocks that passed these first. Rules of a
// line's form (no-reward, extra-reward and the decoding codes) are decoding
// rules of packages tx, block and jsonl. Every refusal is a *rule.Error.
//
// Signatures follow ZIP-215 (github.com/hdevalence/ed25519consensus) for
// single and batch checks alike, so the two never disagree.
package consensus
