package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxPeersFile bounds the size of a peers file read.
const maxPeersFile = 1 << 20

// ReadPeersFile reads a peers file (the format of the chain directory's
// peers: HOST[:PORT] a line, blank lines and "#" comments skipped) and
// returns the addresses as HOST:PORT, deduplicated, in order, at most
// MaxPeers. Lines that are not addresses are returned as bad, each as
// "line N: why". A missing file is an empty list.
func ReadPeersFile(path string) (peers, bad []string, err error) {
	b, err := readSmall(path, maxPeersFile)
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
		hp, err := HostPort(line)
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

func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", path, fi.Size(), limit)
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

// addPeer adds addr (HOST:PORT) to the peers file at path unless it is
// there already or the file holds MaxPeers addresses: the file is rewritten
// atomically with its lines and comments kept. It reports whether it added.
func addPeer(path, addr string) (bool, error) {
	b, err := readSmall(path, maxPeersFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	peers, _ := parsePeers(b)
	for _, p := range peers {
		if p == addr {
			return false, nil
		}
	}
	if len(peers) >= MaxPeers {
		return false, fmt.Errorf("%s holds %d peers already", path, len(peers))
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	b = append(b, addr...)
	return true, writeAtomic(path, append(b, '\n'))
}

// writeAtomic replaces path with data: a temporary file beside it, fsync,
// rename, fsync of the directory.
func writeAtomic(path string, data []byte) error { return replaceFile(path, data, true) }

// replaceFile replaces path with data through a temporary file beside it
// and a rename, so that a reader sees the old file or the new one, never
// a part; durable adds the fsyncs of the file and of the directory.
func replaceFile(path string, data []byte, durable bool) error {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, base+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
