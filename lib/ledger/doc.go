// Package ledger holds the state of the chain at one tip: spendable
// balances, the rewards still maturing, and the set of recent transaction
// ids. It connects a block on top of that state and disconnects it again
// with the undo data that Connect returned.
//
// It enforces the contextual rules of DESIGN.md that need that state
// (cnj-format(5), "Maturity, ids, balances"):
//
//   - maturity: the reward of the block at height h is spendable in block
//     h+Maturity and later. Connecting block H first moves the reward of
//     block H-Maturity (if H-Maturity >= 1) into the spendable balances,
//     then applies the transfers, then records block H's reward as immature;
//   - funds: in block order, the sender's spendable balance must cover
//     amount+fee at that point in the block (insufficient-funds), and when
//     only the sender's immature rewards would cover it, immature-spend;
//   - replay: ids are scoped to their sender. Connecting block B with
//     parent P first drops every (sender, id) whose transfer timestamp +
//     86400 < MTP(P), then refuses a transfer whose (sender, id) is in the
//     set or earlier in B (duplicate-id), then adds B's. Beside each entry
//     the set keeps the start of the transfer's hash, so that a transfer
//     on the chain is recognised without reading its block (Recent).
//
// Connect and Disconnect are in ledger.go; the recent-id set and its
// window in ids.go; balances, maturing rewards and CanSpend in balance.go;
// the snapshot format in snapshot.go.
//
// It does not check what needs no state (form, hashes, signatures, proof of
// work, the reward's amount): package consensus does, and Connect expects a
// block that already passed consensus.CheckHeader and consensus.CheckBody.
// It does not choose between forks: package chain does, and keeps the undo
// data.
//
// Errors: Connect returns a *rule.Error (duplicate-id, insufficient-funds,
// immature-spend, overflow) for a block that breaks a rule, and a plain
// error for a block that does not fit the tip (wrong parent or index).
// UnmarshalBinary returns corrupt for any snapshot it cannot trust. On any
// error the ledger is unchanged. A Ledger is not safe for concurrent use.
//
// Balances are uint64 base units; the ledger never holds a zero balance, so
// two ledgers with the same history marshal to the same bytes.
package ledger
