package testchain

import (
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/txindex"
)

// IndexTip returns the block the transfer index of the chain directory
// dir is at: what a test of a writer checks once the writer is done.
// Without an index the error is txindex.ErrNoIndex.
func IndexTip(dir string) (hash [32]byte, height uint64, err error) {
	d := chaindir.Dir(dir)
	p, err := d.ReadGenesis()
	if err != nil {
		return hash, 0, err
	}
	r := txindex.NewReader(d, p.Hash(), time.Second)
	defer r.Close()
	err = r.View(func(v *txindex.View) error {
		hash, height, err = v.Tip()
		return err
	})
	return hash, height, err
}
