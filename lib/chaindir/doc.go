// Package chaindir is the chain directory: the flat files that hold a
// node's blocks, the files derived from them, its mempool, peers and reject
// log (DESIGN.md, "Chain directory"). It implements chain.Store on disk and
// keeps a chain.Chain up to date with what every process writes.
//
// # Layout
//
// Everything is relative to the directory (--chain, $CNJ_CHAIN):
//
//	genesis.json          the network's genesis line (params.Params.JSON and a
//	                      newline), written once by Create
//	LOCK                  flock(2)ed exclusively while a process writes; empty
//	blocks/NNNNNN.jsonl   block lines, exactly as accepted, one per line, in
//	                      arrival order (every block kept: main chain, side
//	                      branches, blocks later found invalid); append-only
//	blocks/NNNNNN.jsonl.zst  a full segment, sealed: the same bytes as one
//	                      zstd frame with its checksum (zstdcat, jq read it)
//	index                 derived: one fixed-size record per stored block
//	state                 derived: a ledger snapshot at one block
//	mempool.jsonl         pending transfer lines
//	peers                 HOST:PORT, one per line
//	rejects.log           JSON lines: what was refused, from whom, why
//	lost/                 block lines Reindex set aside (see Reindex)
//	relay-listen-PID.json, relay-send-PID.json
//	                      a running cnj-relay's traffic counters, for
//	                      cnj-serve's /metrics (package relay; not read here)
//
// Segments are numbered from 000000 without a gap. A writer appends to the
// last one until it reaches SegmentSize (16 MiB), then starts the next; the
// full one is sealed (compressed without the lock, then, under it, written
// to a temporary file, fsynced, renamed, and the plain file removed).
// Locations in the index are offsets in the uncompressed segment, so a
// line's place never changes.
//
// index starts with a 64-byte header ("CNJ-IX-1", the genesis hash, zeros,
// xxhash64 of those 56 bytes) and holds one 144-byte record per stored block
// in arrival order, big-endian:
//
//	0:32     block hash            80:112   target
//	32:64    previous hash         112:116  segment number
//	64:72    height                116:124  offset of the line
//	72:80    timestamp             124:128  length of the line (no newline)
//	128:132  transfers (reward excluded)
//	132      flags: 1 = invalid (broke a ledger rule, or descends from such)
//	133:136  zero                  136:144  xxhash64 of bytes 0:136
//
// A record is appended only after its line is fsynced (one fsync of the
// segment for all the blocks of a Write, at its end). The invalid flag of
// an earlier record is rewritten in place, before the record of the block
// that caused it is appended.
//
// state is "CNJ-ST-1", the genesis hash, the hash and height of the block
// the ledger is at, the length of the snapshot (u64), ledger.MarshalBinary,
// and the xxhash64 of all that. A writer replaces it atomically (temporary
// file, fsync, rename, fsync of the directory) once StateEveryBlocks (1000)
// blocks or StateEveryTxs (10,000) transfers were stored since the last one
// (later when the last one took 20 ms or more: at most a tenth of the time),
// and when it closes the directory, so opening connects few blocks, never
// the whole chain.
//
// mempool.jsonl: a writer appends accepted transfers (O_APPEND, one write,
// under the lock, not fsynced: a power cut may lose the last ones, a kill
// none) and rewrites the file atomically when transfers leave (mined,
// evicted, invalid after a reorganization). rejects.log takes one
// O_APPEND write per line, no lock:
//
//	{"time":T,"from":"IP","reason":CODE,"id":HEX32,"msg":"..."}
//
// with "hash":HEX64 (a block) or "line":N (input that did not parse far
// enough) in place of "id"; "from" is "" for local input. peers is replaced
// atomically.
//
// # Writers and readers
//
// Open takes no lock and never blocks a writer. Write takes LOCK (a Dir
// keeps the file open between Writes) for the duration of one call (cnj-verify and cnj-mine take turns), catches up
// with what the other writers stored (Refresh), and only then runs its
// function, so it never appends on a stale view. The blocks that
// Writer.AddBlock stored are fsynced and indexed when Write returns: only
// then may a command say "accepted".
//
// Refresh follows other processes: new index records, lines stored but
// not yet indexed, a replaced index (cnj-chain reindex: everything is read
// again), a changed mempool.jsonl (inode, size or mtime). When nothing
// changed it costs about five stat calls. TipChanged is cheaper still (two
// stat calls: the index file and the last segment): a miner polls it every
// 100 ms and refreshes when it turns true.
//
// # Crashes
//
// The segments are the truth; index and state are derived and rebuilt from
// them when missing or damaged. Opening reads the index records up to the
// first torn or damaged one, or the first that does not fit the segments
// (each line right after the previous one, inside its segment); the lines
// after that are read from the segments and put on the chain. A last line
// of the last segment without a newline, or that does not parse, is a write
// that never finished: it was never reported accepted; readers ignore it
// and the next writer cuts it before it appends a block (a Write of
// transfers leaves the segments alone). The state is used when it is sound and at a
// block of the index, else the ledger is replayed from genesis. So kill -9
// or power loss at any instant leaves a directory that opens, passes Check
// and keeps every block a command reported accepted.
//
// Damage a crash cannot cause is refused, never guessed at: a segment
// missing before the last one, a line that does not parse or whose
// hash or merkle root does not match its contents, a line whose hash is
// not the one its index record names. Every block read is checked that way,
// so balances are never computed from a damaged line; opening fails (or,
// for an old block the state covers, Check does) with a *CorruptError
// naming the file and line, and its message says to run cnj-chain reindex.
// Reindex rebuilds index and state from the blocks with full validation,
// and sets aside in lost/ the first unusable line and everything after it,
// so the directory opens again (cnj-sync fetches the rest from peers).
//
// # What it does not do
//
// It does not decide what is valid (package chain and its layers do), does
// not parse or judge mempool lines (package mempool), and never prints,
// logs or exits. A Dir is not safe for concurrent use; see Dir.
//
// # Errors
//
// Damage is a *CorruptError (rule code corrupt) naming the file relative to
// the directory and, in a segment, the line. Verdicts on blocks come from
// package chain as *rule.Error. Everything else is an I/O error.
package chaindir
