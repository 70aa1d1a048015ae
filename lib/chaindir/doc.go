// Package chaindir is the chain directory as a set of files: it owns the
// name of every file in it, and the format of each small one (genesis.json,
// peers, rejects.log, mempool.jsonl as a file, source), the write lock,
// the sync lock and the atomic-write helpers (DESIGN.md, "Chain
// directory"). It is cheap: it imports nothing heavier than package
// params, and opening nothing loads the chain, so that cnj-relay, cnj-serve
// and the wallet read their files through it without touching the blocks.
//
// # Layout
//
// Everything is relative to the directory (--chain, $CNJ_CHAIN):
//
//	genesis.json          the network's genesis line (params.Params.JSON and a
//	                      newline), written once by Create
//	LOCK                  flock(2)ed exclusively while a process writes; empty
//	blocks/NNNNNN.jsonl   block lines, append-only segments   } the block store
//	blocks/NNNNNN.jsonl.zst  a full segment, sealed           } (package
//	index                 derived: one record per stored block } blockstore
//	state                 derived: a ledger snapshot           } owns their
//	undo                  derived: undo data of connected blocks }
//	lost/                 block lines reindex set aside        } formats)
//	txindex               derived: the transfer-id and address-history
//	                      indexes, a bbolt database (package txindex)
//	txindex.lock          flock(2)ed by a process about to change txindex
//	mempool.jsonl         pending transfer lines (Mempool)
//	mempool.bin           derived: the pool as last judged (MempoolBin)
//	mempool-events.jsonl  JSON lines: transfers that went back into the pool
//	                      or were dropped from it (LogPoolEvents,
//	                      ReadPoolEvents, TailPoolEvents); at most
//	                      MaxPoolEvents bytes
//	peers                 HOST[:PORT] a line, one per host (ReadPeersFile,
//	                      WritePeersFile, RecordPeer, AddPeers, SeePeers)
//	peers.seen            JSON lines: when each peer a command added was last
//	                      seen; those unseen for PeerExpiry age out
//	rejects.log           JSON lines: what was refused, from whom, why
//	                      (LogReject, TailRejects); rotated at MaxRejectsLog
//	rejects.log.1         rejects.log before its last rotation
//	relay-listen-PID.json, relay-send-PID.json
//	                      a running cnj-relay's traffic counters
//	relay-delivered.jsonl JSON lines: when each peer IP last delivered a valid
//	                      new block or transfer (MergeDelivered, ReadDelivered)
//	mine-PID.json         a running cnj-mine's counters
//	SYNC                  flock(2)ed for the whole of one cnj-sync run
//	sync-slow.jsonl       JSON lines: the web apps cnj-sync found too slow,
//	                      tried last for a day (NoteSlowPeer, SlowPeers)
//	peer-tips.jsonl       JSON lines: the tip each peer's web app last
//	                      claimed to cnj-sync (NotePeerTips, PeerTips)
//	source                the node the directory joined its network
//	                      through, one line: http://HOST:PORT
//
// Create builds a new directory under a temporary name and renames it into
// place, so that a directory is either absent or whole.
//
// # Writers
//
// One process writes blocks, the index, the state, txindex, mempool.jsonl
// and mempool-events.jsonl at a time: the holder of Lock. rejects.log
// takes one O_APPEND write per line and no lock but to rotate; the peers
// file and peers.seen are changed under an flock of the directory itself
// (RecordPeer, AddPeers, SeePeers); the relay's and the miner's stats
// files and relay-delivered.jsonl are replaced atomically (ReplaceFile)
// and the last complete write wins.
//
// # What it does not do
//
// It does not read blocks or decide what is valid (packages blockstore and
// chain), does not parse transfers (package mempool), and never prints,
// logs or exits.
//
// # Errors
//
// Damage is a *CorruptError (rule code corrupt) naming the file relative
// to the directory and, in a segment, the line. Everything else is an I/O
// error.
package chaindir
