// Package node composes a chain directory's parts into the node the
// commands share: the block store (package blockstore) under the block
// tree and its validation (package chain), and the mempool (package
// mempool) kept in step with mempool.jsonl and the tip. It is where the
// store's records become the chain (Open, Refresh), where a batch of
// input lines is judged (Submit, the path of cnj-verify and cnj-sync; with
// dryRun, chain.Try: the same checks, nothing written), where blocks are
// mined on (Template, AddMined), and where the whole directory is checked
// and rebuilt (Check, Reindex: a fresh chain replays every stored block).
//
// Several processes (cnj-verify, cnj-mine, cnj-chain, cnj-serve) work on
// one directory at once. Each holds a Node; writes take the directory's
// lock (Write), catch up with what others stored, and only then add; each
// Node reloads its pool whenever mempool.jsonl changed under it. Whoever
// moves the tip also brings mempool.jsonl up to date (mined transfers out,
// abandoned ones back), so readers only ever reload.
//
// Settings are values (Options): the mempool's bound and the block
// store's segment size and state schedule.
//
// # Errors
//
// Verdicts on input are *rule.Error values in Verdict.Err; damage of the
// directory is a *chaindir.CorruptError; anything else is an I/O error,
// which stops a write.
package node
