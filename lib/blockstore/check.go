package blockstore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// CheckGenesis refuses a genesis.json that is not the genesis the blocks
// were built on: block 1 names its parent, and that must be the genesis
// hash. Without this check a changed genesis.json would make every block
// look damaged, and a reindex would set the whole chain aside. A first
// line that does not parse says nothing about genesis.json and is left to
// the usual recovery.
func CheckGenesis(d chaindir.Dir, genesis [32]byte) error {
	r := newSegReader(d)
	defer r.close()
	data, err := r.head(0)
	if errors.Is(err, fs.ErrNotExist) || len(data) == 0 {
		return nil
	}
	if err != nil {
		return nil // a missing or damaged segment is reported where it is read
	}
	line, _, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil
	}
	b, err := block.Parse(line)
	if err != nil || b.Index != 1 || b.PrevHash == genesis {
		return nil
	}
	return chaindir.Corruptf(chaindir.GenesisFile, 1, "the genesis hash %x is not the parent %x that the blocks in %s build on: %s was changed or belongs to another network",
		genesis[:8], b.PrevHash[:8], segName(0), chaindir.GenesisFile)
}

// SameRecord compares two records; the flag of a line that repeats an
// earlier block (dup) may differ.
func SameRecord(a, b Record, dup bool) bool {
	if dup {
		a.Invalid = b.Invalid
	}
	return a == b
}

// CheckIndexFile checks the index file against the records of a fresh
// replay (dup marks the records of a line repeating an earlier block): a
// good header, and every whole record equal to the replay's. A torn tail
// is not a problem; a good record after a bad one is.
func CheckIndexFile(d chaindir.Dir, genesis [32]byte, want []Record, dup map[int]bool) error {
	data, err := os.ReadFile(d.File(chaindir.IndexFile))
	if err != nil {
		return chaindir.Corruptf(chaindir.IndexFile, 0, "%v: %s", err, chaindir.ReindexHint)
	}
	if !checkIndexHeader(data, genesis) {
		return chaindir.Corruptf(chaindir.IndexFile, 0, "bad header: %s", chaindir.ReindexHint)
	}
	body := data[indexHeader:]
	// A writer killed between storing a block and rewriting the records it
	// invalidated (a failed reorganization) leaves those records marked
	// valid, with the block that condemns them not yet indexed. Open works
	// the flag out again from the unindexed tail and the next writer
	// rewrites it, so while such a tail exists a record that is valid here
	// but invalid in the replay is an unfinished write, not damage.
	unfinished := len(body)/recordSize < len(want)
	for j := 0; len(body) >= recordSize; j++ {
		r, ok := decodeRecord(body)
		if !ok {
			for k := recordSize; k+recordSize <= len(body); k += recordSize {
				if _, ok := decodeRecord(body[k:]); ok {
					return chaindir.Corruptf(chaindir.IndexFile, 0, "record %d is damaged: %s", j+1, chaindir.ReindexHint)
				}
			}
			break
		}
		if j < len(want) && unfinished && !r.Invalid && want[j].Invalid {
			r.Invalid = true
		}
		if j < len(want) && !SameRecord(want[j], r, dup[j]) {
			return chaindir.Corruptf(chaindir.IndexFile, 0, "record %d (block %x) differs from a fresh replay: %s", j+1, r.Hash[:8], chaindir.ReindexHint)
		}
		body = body[recordSize:]
	}
	return nil
}

// ReadStateFile reads the state file whole, for a check: nil and no error
// when there is none.
func ReadStateFile(d chaindir.Dir) ([]byte, error) {
	data, err := os.ReadFile(d.File(chaindir.StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// DecodeStateFile decodes the bytes of a state file (ReadStateFile); a
// file of another network, torn or damaged, is a *chaindir.CorruptError.
func DecodeStateFile(data []byte, genesis [32]byte) (Snapshot, error) {
	sn, ok := decodeState(data, genesis)
	if !ok {
		return sn, chaindir.Corruptf(chaindir.StateFile, 0, "bad checksum or header: %s", chaindir.ReindexHint)
	}
	return sn, nil
}
