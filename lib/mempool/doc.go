// Package mempool keeps the transfers a node has accepted but not yet seen
// in a block: it admits them under the consensus rules and the node's fee
// policy, keeps them valid as the chain moves (blocks, reorgs, time), and
// picks the ones the next block carries.
//
// # Admission
//
// Add checks a transfer as consensus would for the next block, and a little
// more (DESIGN.md, "Consensus rules" and "Fees"):
//
//   - its form, amounts, hash and signature (consensus.CheckTx; AddVerified
//     skips the signature for callers that verified it in a batch);
//   - its timestamp within [now-86400, now+7200] (bad-tx-time): a transfer a
//     block stamped now could carry;
//   - its (sender, id) neither among the ledger's recent ids nor used by
//     another transfer of its sender in the pool (duplicate-id): ids are
//     scoped to their sender, so no one can block another key's transfer
//     by using its id first;
//   - funds: what the sender can spend in the next block (Ledger.CanSpend)
//     must cover its amount+fee plus everything the sender already has
//     pending in the pool (insufficient-funds, or immature-spend when only
//     unmatured rewards would cover it). Pending incoming transfers do not
//     count: they may never be mined. So every transfer in the pool stays
//     valid whatever other transfers are mined or evicted.
//
// A transfer already in the pool (same hash) is ErrKnown, which is not a
// verdict: honest peers resend what they have, and callers pass it over
// quietly. The pool is bounded: when full, a transfer that pays a higher fee
// than the cheapest one in the pool evicts it (of equal fees the newest goes
// first); any other is refused with MempoolFull. TakeEvicted hands the
// evicted transfers to the caller, which takes them out of mempool.jsonl
// and logs them (rule.Evicted).
//
// # Keeping up with the chain
//
// Update takes the blocks connected and disconnected by a new tip, drops the
// transfers that were mined, puts back those of abandoned blocks, and drops
// what is no longer valid against the new ledger, returning each dropped
// transfer with its reason (Drop); calling it with no blocks expires
// transfers that have left the time window. Get finds a pooled transfer by
// its hash (for the peers that ask for it). Template picks the
// transfers for the next block by fee, each valid in sequence.
//
// What it does not do: it reads no files (Load takes the lines of
// mempool.jsonl; package chaindir owns the file), never prints or logs, and
// does not decide what is on the chain: the ledger passed in is the truth.
//
// A Pool is safe for concurrent use; the ledger passed to a call must not
// change during it.
package mempool
