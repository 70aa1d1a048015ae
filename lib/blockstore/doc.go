// Package blockstore keeps the blocks of a chain directory on disk: the
// block lines in append-only segments, the index of every stored block,
// the state file that holds a ledger snapshot, and the undo file that
// holds the undo data of connected blocks (DESIGN.md, "Chain directory").
// It implements package chain's Store (Put, Get, PutUndo, GetUndo): the chain
// calls the store, as btcd's blockchain calls its database, and the store
// never judges a block. Package node composes the two.
//
// # Segments
//
// blocks/NNNNNN.jsonl holds block lines, exactly as accepted, one per
// line, in arrival order (every block kept: main chain, side branches,
// blocks later found invalid). Segments are numbered from 000000 without a
// gap. A writer appends to the last one until it reaches the segment size
// (Options.SegmentSize, 16 MiB), then starts the next; the full one is
// sealed as blocks/NNNNNN.jsonl.zst, the same bytes as zstd frames of
// whole lines of about 32 KiB each (a frame ends at the first line that
// takes it to 32 KiB), with their checksums, after a frame
// table in a skippable frame (frames.go; zstdcat and jq read it whole,
// and a line is read by decompressing the one frame that holds it):
// compressed without the lock, then, under it, written to a temporary
// file, fsynced, renamed, and the plain file removed. Locations are
// offsets in the uncompressed segment, so a line's place never changes.
//
// # Index and state
//
// index (record.go) holds one fixed-size record per stored block, in
// arrival order: the header fields the block tree needs, the line's place
// and the chain's invalid flag. A record is appended only after its line
// is fsynced (one fsync of the segment for all the blocks of a write, at
// its end). The invalid flag of an earlier record is rewritten in place,
// before the record of the block that caused it is appended.
//
// state (state.go) is a ledger snapshot at one block of the index. A
// writer replaces it atomically (temporary file, fsync, rename, fsync of
// the directory) once Options.StateEveryBlocks (1000) blocks or
// StateEveryTxs (10,000) transfers were stored since the last one (later
// when the last one took 20 ms or more: at most a tenth of the time), and
// when the composer asks (ForceState: package node does when it closes),
// so opening connects few blocks, never the whole chain.
//
// undo (undo.go) holds, for every block a write connected on the main
// chain, the ledger's undo data (the reward that matured, the ids the
// block dropped from the recent set), appended in the order of
// connection, as Bitcoin Core's rev files: PutUndo buffers a block's record
// during the write, and End appends them and fsyncs the file before it
// syncs and indexes the write's blocks. A process that opened the
// directory after a block was connected disconnects it with its record
// (GetUndo reads records back from the end of the file, where the blocks
// a reorganization takes off are), so a reorganization of depth d reads d
// records and O(d) blocks, however long the chain. The file is derived:
// a block without a record (a directory of an older build, which has no
// undo file until a write starts one; a record lost to a power cut) makes
// the chain replay the ledger from genesis instead, slow but correct, and
// cnj-chain reindex writes the records of the last chain.UndoDepth blocks
// afresh.
//
// # Writers and readers
//
// Open takes no lock and never blocks a writer. A write (Lock, then
// Follow, Begin, Put..., End, unlock, then SealFull) holds the directory's
// LOCK for its duration, so that processes take turns and never append on
// a stale view. The blocks Put stored are fsynced and indexed when End
// returns: only then may a command say "accepted".
//
// Follow follows other processes: new index records, lines stored but not
// yet indexed, a replaced index (cnj-chain reindex: ErrReload, everything
// is read again). When nothing changed it costs about three stat calls.
// TipChanged is cheaper still (two stat calls).
//
// # Crashes
//
// The segments are the truth; index, state and undo are derived and
// rebuilt from them when missing or damaged. Opening reads the index records up to the
// first torn or damaged one, or the first that does not fit the segments
// (each line right after the previous one, inside its segment); the lines
// after that are read from the segments and handed to the composer
// (ApplyTail). A last line of the last segment without a newline, or that
// does not parse, is a write that never finished: it was never reported
// accepted; readers ignore it and the next writer cuts it before it
// appends a block. A torn record at the end of the undo file is skipped
// by readers and cut by the next writer in the same way. The state is used when it is sound and at a block of
// the index, else the composer replays the ledger from genesis. So kill -9
// or power loss at any instant leaves a directory that opens, passes
// cnj-chain check and keeps every block a command reported accepted.
//
// Damage a crash cannot cause is refused, never guessed at: a segment
// missing before the last one, a line that does not parse or whose hash
// or merkle root does not match its contents, a line whose hash is not
// the one its index record names. Every block read is checked that way,
// so balances are never computed from a damaged line; opening fails (or,
// for an old block the state covers, cnj-chain check does) with a
// *chaindir.CorruptError naming the file and line, and its message says
// to run cnj-chain reindex. A Replay with Salvage set is what reindex
// rebuilds from: it stops at the first unusable line, and SetAside moves
// that line and everything after it into lost/, so the directory opens
// again (cnj-sync fetches the rest from peers).
//
// # What it does not do
//
// It does not decide what is valid (package chain and its layers do),
// does not read the ledger's bytes, and never prints, logs or exits. File
// names come from package chaindir.
package blockstore
