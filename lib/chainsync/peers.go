package chainsync

import (
	"errors"
	"fmt"
	"github.com/coniunctum/cnj/lib/wire"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
)

// MaxPeers bounds how many peers Sync writes into the peers file; the
// entries already there are always kept.
const MaxPeers = 64

// WebAddr returns the address of the web app of the node that a peers
// file entry names. An entry is HOST or HOST:PORT where PORT is the node's
// relay port (cnj-relay writes the file); the web app is on the same host
// at webPort.
func WebAddr(entry string, webPort int) (string, error) {
	hp, err := wire.HostPort(entry, wire.RelayPort)
	if err != nil {
		return "", err
	}
	host, _, _ := net.SplitHostPort(hp)
	return net.JoinHostPort(host, strconv.Itoa(webPort)), nil
}

// RelayAddr returns the relay address of the node whose web app is at
// web (HOST:PORT): the same host at wire.RelayPort.
func RelayAddr(web string) string {
	host, _, err := net.SplitHostPort(web)
	if err != nil {
		host = web
	}
	return net.JoinHostPort(host, strconv.Itoa(wire.RelayPort))
}

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
		hp, err := wire.HostPort(line, wire.RelayPort)
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
		if hp, err := wire.HostPort(p, wire.RelayPort); err == nil {
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
