package chaindir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Dir is a chain directory, named by its path (--chain, $CNJ_CHAIN). Every
// file name inside a chain directory is spelled in this package; other
// packages ask a Dir for a file's path, or call the function here that
// reads or writes the file.
type Dir string

// Path returns the directory's path.
func (d Dir) Path() string { return string(d) }

// File returns the path of name, one of the names below, in the directory.
func (d Dir) File(name string) string { return filepath.Join(string(d), name) }

// The files of a chain directory (cnj-format(5)), relative to it. The
// block store (package blockstore) owns the formats of the segments, the
// index and the state; this package owns the others.
const (
	GenesisFile = "genesis.json"  // the network's parameters, written once
	LockFile    = "LOCK"          // flock(2)ed by the one writer at a time
	BlocksDir   = "blocks"        // the block segments
	IndexFile   = "index"         // derived: one record per stored block
	StateFile   = "state"         // derived: a ledger snapshot
	UndoFile    = "undo"          // derived: undo data of connected blocks
	LostDir     = "lost"          // block lines cnj-chain reindex set aside
	MempoolFile = "mempool.jsonl" // pending transfer lines
	// MempoolBinFile is derived: the pool as last judged (MempoolBin).
	MempoolBinFile = "mempool.bin"
	// MempoolEventsFile records the transfers that left the main chain
	// back into the pool and those the pool dropped (PoolEvent).
	MempoolEventsFile = "mempool-events.jsonl"
	PeersFile         = "peers"       // HOST[:PORT] a line
	RejectsFile       = "rejects.log" // JSON lines: what was refused, from whom, why
	SyncLockFile      = "SYNC"        // flock(2)ed for the whole of one cnj-sync run
	SourceFile        = "source"      // the node the directory joined through
	// TxIndexFile is derived: the transfer-id and address-history indexes,
	// a bbolt database (package txindex owns its format).
	TxIndexFile = "txindex"
	// TxIndexLockFile is flock(2)ed exclusively by a process about to
	// change TxIndexFile, so that readers let go of it (package txindex).
	TxIndexLockFile = "txindex.lock"
)

// The files that bound what peers can make a node keep (cnj-format(5)):
// the rotated rejects.log (MaxRejectsLog), when each peer a command added
// was last seen (PeerExpiry), which peers delivered valid lines lately
// (MergeDelivered), which web apps cnj-sync found too slow (NoteSlowPeer),
// which tip each peer's web app last claimed (NotePeerTips).
const (
	RejectsOldFile = "rejects.log.1"         // rejects.log before its last rotation
	PeersSeenFile  = "peers.seen"            // JSON lines: when each added peer was last seen
	DeliveredFile  = "relay-delivered.jsonl" // JSON lines: when each peer IP last delivered
	SyncSlowFile   = "sync-slow.jsonl"       // JSON lines: the web apps cnj-sync found too slow
	PeerTipsFile   = "peer-tips.jsonl"       // JSON lines: the tips cnj-sync last saw its peers claim
)

const (
	segExt    = ".jsonl"
	sealedExt = ".jsonl.zst"
)

// SegmentName is the name of block segment n, relative to the directory:
// blocks/NNNNNN.jsonl.
func SegmentName(n uint32) string {
	return filepath.Join(BlocksDir, fmt.Sprintf("%06d", n)+segExt)
}

// SealedName is the name of block segment n once sealed:
// blocks/NNNNNN.jsonl.zst.
func SealedName(n uint32) string { return SegmentName(n) + ".zst" }

// ParseSegmentName tells whether base, a name in blocks/, is segment n,
// plain or sealed. Temporary files and anything else are not.
func ParseSegmentName(base string) (n uint32, sealed, ok bool) {
	var num string
	switch {
	case strings.HasSuffix(base, sealedExt):
		num, sealed = strings.TrimSuffix(base, sealedExt), true
	case strings.HasSuffix(base, segExt):
		num = strings.TrimSuffix(base, segExt)
	default:
		return 0, false, false
	}
	v, err := strconv.ParseUint(num, 10, 32)
	if err != nil || fmt.Sprintf("%06d", v) != num {
		return 0, false, false
	}
	return uint32(v), sealed, true
}

// RemoveTemps removes the temporary files that writers of the blocks,
// the index, the state, the undo file, the mempool and its events make
// beside the file they replace (NAME.tmp...) and that a crash may leave
// behind. Only the directory's writer may call it, under LockFile: those
// writers write only under it (TxIndexFile's too: its writer holds
// LockFile).
func (d Dir) RemoveTemps() error {
	for _, pat := range []string{filepath.Join(BlocksDir, "*.tmp"), IndexFile + ".tmp*", StateFile + ".tmp*", UndoFile + ".tmp*", MempoolFile + ".tmp*", MempoolBinFile + ".tmp*", MempoolEventsFile + ".tmp*", TxIndexFile + ".tmp*"} {
		m, err := filepath.Glob(d.File(pat))
		if err != nil {
			return err
		}
		for _, f := range m {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
