package relay

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/hostport"
)

// maxPeersFile bounds the size of a peers file read.
const maxPeersFile = 1 << 20

// ReadPeersFile reads a peers file (the format of the chain directory's
// peers: HOST[:PORT] a line, blank lines and "#" comments skipped) and
// returns the addresses as HOST:PORT, deduplicated, in order, at most
// MaxPeers. Lines that are not addresses are returned as bad, each as
// "line N: why". A missing file is an empty list.
func ReadPeersFile(path string) (peers, bad []string, err error) {
	b, err := chaindir.ReadFileMax(path, maxPeersFile, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	peers, bad = parsePeers(b)
	return peers, bad, nil
}

func parsePeers(b []byte) (peers, bad []string) {
	seen := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		hp, err := hostport.Parse(line, DefaultPort)
		if err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %v", i+1, err))
			continue
		}
		if !seen[hp] && len(peers) < MaxPeers {
			seen[hp] = true
			peers = append(peers, hp)
		}
	}
	return peers, bad
}

// addPeer adds addr (HOST:PORT) to the peers file at path unless it is
// there already or the file holds maxPeers addresses: the file is rewritten
// atomically with its lines and comments kept. It reports whether it added.
func addPeer(path, addr string, maxPeers int) (bool, error) {
	b, err := chaindir.ReadFileMax(path, maxPeersFile, nil)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	peers, _ := parsePeers(b)
	for _, p := range peers {
		if p == addr {
			return false, nil
		}
	}
	if len(peers) >= maxPeers {
		return false, fmt.Errorf("%s holds %d peers already", path, len(peers))
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	b = append(b, addr...)
	return true, writeAtomic(path, append(b, '\n'))
}

// writeAtomic replaces path with data durably (chaindir.ReplaceFile).
func writeAtomic(path string, data []byte) error { return chaindir.ReplaceFile(path, data, true) }
