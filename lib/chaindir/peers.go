package chaindir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

const peersFile = "peers"

// ReadPeers returns the HOST:PORT lines of the peers file, in order, without
// blank lines and "#" comments. A missing file is an empty list.
func (d *Dir) ReadPeers() ([]string, error) {
	b, err := os.ReadFile(filepath.Join(d.path, peersFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var peers []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if _, _, err := net.SplitHostPort(line); err != nil {
			return nil, corruptf(peersFile, i+1, "%q is not HOST:PORT", line)
		}
		peers = append(peers, line)
	}
	return peers, nil
}

// WritePeers replaces the peers file atomically with one HOST:PORT a line.
// It takes no lock: the last complete write wins.
func (d *Dir) WritePeers(peers []string) error {
	var b bytes.Buffer
	for _, p := range peers {
		if _, _, err := net.SplitHostPort(p); err != nil || strings.ContainsAny(p, "\n\r \t#") {
			return fmt.Errorf("peer %q is not HOST:PORT", p)
		}
		b.WriteString(p)
		b.WriteByte('\n')
	}
	return writeAtomic(filepath.Join(d.path, peersFile), b.Bytes())
}
