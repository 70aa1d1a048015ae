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
// abandoned ones back), so readers only ever reload, and records in
// mempool-events.jsonl, in the same write, the transfers it put back
// (returned: cnj-relay send --returned announces them again) and those
// the pool dropped, with the reason (what a wallet holder is told).
//
// Lines that arrive on their own (Item.Relayed, cnj-verify's) are held to
// the side-branch policy (chain.Limits: fork-too-deep; a side block far
// behind the tip is kept but Verdict.Held, not passed on); a downloaded
// branch with more work (cnj-sync's) is not. After every write
// mempool.jsonl holds exactly the pool, evictions are logged in
// rejects.log (evicted), and mempool.bin keeps the pool as judged, so
// that opening a full pool does not judge every line again.
//
// A reader that needs no balance (cnj-chain tip, block, tx, history) opens
// with Options.NoLedger: when the state file is at the best tip (or below
// it, with the undo data of the blocks above) and mempool.bin holds the
// pool, the node is the one a full open builds, without decoding the
// ledger snapshot, which is most of an open's time on a large chain.
//
// Settings are values (Options): the mempool's bound, the fork depth,
// NoLedger, and the block store's segment size and state schedule.
//
// # Errors
//
// Verdicts on input are *rule.Error values in Verdict.Err; damage of the
// directory is a *chaindir.CorruptError; anything else is an I/O error,
// which stops a write.
package node
