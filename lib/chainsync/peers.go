package chainsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/coniunctum/cnj/lib/hostport"
)

// MaxPeers bounds how many peers Sync writes into the peers file; the
// entries already there are always kept.
const MaxPeers = 64

// ReadPeersFile reads a peers file: one HOST[:PORT] a line, blank lines
// and lines starting with "#" ignored. A missing file is an empty list.
func ReadPeersFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		hp, err := hostport.Parse(line, hostport.RelayPort)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, hp)
	}
	return out, nil
}

// mergePeers returns have followed by the entries of learned that it does
// not hold yet, in order, up to max entries in all (have is kept whole
// even when longer), and the entries added.
func mergePeers(have, learned []string, max int) (merged, added []string) {
	seen := make(map[string]bool, len(have)+len(learned))
	for _, p := range have {
		if hp, err := hostport.Parse(p, hostport.RelayPort); err == nil {
			seen[hp] = true
		}
		seen[p] = true
		merged = append(merged, p)
	}
	for _, p := range learned {
		if len(merged) >= max {
			break
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		merged = append(merged, p)
		added = append(added, p)
	}
	return merged, added
}
