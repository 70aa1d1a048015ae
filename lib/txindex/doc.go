// Package txindex keeps the transfer-id and address-history indexes of a
// chain directory (DESIGN.md, "Chain directory": derived files,
// rebuildable, crash-safe): where each transaction of the main chain is,
// by txid, and each address's transactions (received, sent, mined) with
// its totals, so that a lookup reads a few pages and a few lines instead
// of the whole chain. The format is in cnj-format(5).
//
// # The file
//
// The index is one bbolt database (go.etcd.io/bbolt), txindex in the
// directory, with five buckets: meta (version, genesis, generation shift,
// and the block the index is at: its tip), blocks (each main-chain
// height: the block's hash and where each of its transactions is in its
// line), txs (a generation and the first byte of a txid, then for each
// transaction whose txid begins so the next six bytes, its height and its
// position), addrs (an address's history in chunks of up to 512 bytes,
// keyed by generation, the address's payload and the chunk's first
// entry) and stats (an address's totals, Esplora's chain_stats). A
// generation is 4096 consecutive heights, so that a write rewrites the
// pages of the newest generation (and the totals), not the whole index. A
// txid is a transfer's id, or for a reward, which has none, its merkle
// leaf (package block). Its tip is always a block of the chain it
// indexes: each database transaction moves the tip with the entries of
// the blocks it indexes or takes out.
//
// bbolt over pebble: both were measured on the 10,000-block, 1,000,000-
// transfer chain of the sync benchmark (see the commit that added this
// package). With one entry per key neither fit the disk the issue allows
// at a cost that fits a sync; with an address's history in chunks and
// txids bucketed within generations, bbolt's file is the smaller, it
// indexes faster, its reads are several times faster, it is one small
// dependency, and its locks (one exclusive writer, shared readers) are
// those a directory that several processes open needs.
//
// # Writers and readers
//
// Whoever writes blocks brings the index along (Update, called by package
// node at the end of each write that moved the tip, under the directory's
// LOCK, once the blocks are durable): it takes out the blocks of a branch
// the chain left and indexes the main chain's since the index's tip. To
// do so it takes txindex.lock exclusively, which tells readers to let go
// of the database, then the database itself (flock, exclusive), waiting
// up to Options.Wait for the reads under way; a writer that does not get
// it in time stores its blocks all the same and the index lags until the
// next write. Readers (Reader) hold the database with a shared flock only
// while reads follow each other: they look at txindex.lock before each
// read and close the database when a writer waits, or after 20 ms without
// a read. So readers never hold a writer up longer than the reads under
// way, and a writer holds readers up only while it updates the index.
//
// A reader's view of the chain and the index's may differ for a moment
// (the index lags, or is ahead of a reader that has not followed the
// directory yet, or is on a branch the reader left): View.Agree gives the
// height up to which both hold the same blocks, and a reader answers from
// the index up to there and from the blocks above it.
//
// # Crashes
//
// bbolt commits a transaction whole or not at all, so after a crash at
// any instant (kill -9, power loss) the index is that of a stored branch,
// at its tip; the next Update goes on from there, taking out and adding
// only the blocks between, never starting again. A new index is made under
// a temporary name and renamed into place. An index that is missing,
// damaged (not a database, an entry that does not decode, bbolt
// panicking), of another version or network, or at a block the chain does
// not hold, is started again from the genesis by the next writer, a
// bounded number of transfers per write (Options.MaxTxs); cnj-chain
// reindex builds it whole (Rebuild). Check compares it, up to its tip,
// with the blocks.
//
// # Errors
//
// ErrBusy says a lock was not had in time, ErrNoIndex that there is no
// usable index to read; Check's findings are *chaindir.CorruptError
// values naming the index. The package never prints, logs or exits.
package txindex
