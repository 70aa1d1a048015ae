// Package chain keeps the block tree of one network, chooses the tip with
// the most cumulative work, and moves the ledger to it, reorganizing when a
// side branch overtakes the main chain.
//
// Add is the single entry for a new block: it refuses a block whose parent
// is unknown (unknown-parent) or known to be invalid (invalid-ancestor),
// checks the header against the parent's branch and the body
// (package consensus), then either connects the block on the tip (package
// ledger: funds, maturity, recent ids) or keeps it on a side branch. A side
// branch that gets strictly more work than the main chain becomes the main
// chain (DESIGN.md: "Fork choice is the valid chain with the most
// cumulative work"; between branches of equal work the first seen stays).
// When a block of the new branch breaks a ledger rule, it and its
// descendants are marked invalid, the old branch is reconnected, and Add
// returns that block's rule error.
//
// Every block the chain keeps, on the main chain or a side branch, is made
// durable through the Store interface before Add reports it accepted;
// package blockstore implements Store on disk and MemStore keeps blocks in
// memory for tests. Apply and Load take blocks that are already stored (by
// another process, or before a restart).
//
// What it does not do: it does not read or write files itself, never
// prints or logs, and does not hold pending transfers (package mempool).
// Undo data of connected blocks is kept in memory for the last UndoDepth
// main-chain blocks, and each block Add connects gives its undo data to
// the store (Store.PutUndo); a reorganization through blocks whose undo
// data is not in memory (this process did not connect them: it opened the
// directory after) reads it back from the store (Store.GetUndo), so a
// reorganization of depth d reads O(d) blocks. Only through a block whose
// undo data neither has (a directory of an older build) does it replay
// the ledger from genesis, which is slow but correct. A Chain is not safe
// for concurrent use: callers serialize access.
//
// Errors: verdicts are *rule.Error values (the codes of package consensus
// and package ledger, plus unknown-parent and invalid-ancestor); a store
// that fails gives its own error, unwrapped of any verdict.
package chain
