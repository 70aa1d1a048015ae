package chaindir

import (
	"bytes"
	"errors"
	"io/fs"

	"github.com/coniunctum/cnj/lib/block"
)

// checkGenesis refuses a genesis.json that is not the genesis the blocks
// were built on: block 1 names its parent, and that must be the genesis
// hash. Without this check a changed genesis.json would make every block
// look damaged, and a reindex would set the whole chain aside. A first line
// that does not parse says nothing about genesis.json and is left to the
// usual recovery.
func checkGenesis(dir string, genesis [32]byte) error {
	r := newSegReader(dir)
	defer r.close()
	data, err := r.readFrom(0, 0)
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
	return corruptf(genesisFile, 1, "the genesis hash %x is not the parent %x that the blocks in %s build on: genesis.json was changed or belongs to another network",
		genesis[:8], b.PrevHash[:8], segName(0))
}
