package chaindir

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/coniunctum/cnj/lib/params"
)

// ReadGenesis reads only the network parameters of the chain directory at
// dir, for commands that need the network but not the chain (cnj-keygen).
// A directory without genesis.json gives an error matching fs.ErrNotExist.
func ReadGenesis(dir string) (*params.Params, error) {
	line, err := os.ReadFile(filepath.Join(dir, genesisFile))
	if err != nil {
		return nil, err
	}
	p, err := params.Parse(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		return nil, corruptf(genesisFile, 1, "%v", err)
	}
	return p, nil
}
