package chaindir

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/coniunctum/cnj/lib/hostport"
)

// The peers file (cnj-format(5)): one HOST[:PORT] a line, PORT the node's
// relay port, hostport.RelayPort when left out; blank lines and lines
// starting with "#" are skipped. This is its one parser and its one
// writer: cnj-relay, cnj-sync and cnj-serve read it the same way.
//
// Policy for a bad line: it is skipped and reported (ReadPeersFile's bad),
// never the reason to refuse the rest of the file, so that one mistyped
// line does not cut a node off its network or make cnj-serve's
// /api/peers fail.
const (
	// MaxPeers bounds the peers a peers file gives and the entries a
	// command adds to it. A node dials every peer of its file (the full
	// mesh of DESIGN.md) and accepts at most 64 connections
	// (cnj-relay's --max-conns default), so more could not all connect.
	MaxPeers = 64
	// maxPeersBytes bounds the size of a peers file read.
	maxPeersBytes = 1 << 20
)

// ParsePeers returns the peers of a peers file's contents as canonical
// HOST:PORT (hostport.Parse), deduplicated, in order, at most MaxPeers,
// and its bad lines, each as "line N: why".
func ParsePeers(b []byte) (peers, bad []string) {
	seen := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		hp, err := hostport.Parse(line, hostport.RelayPort)
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

// ReadPeersFile reads the peers file at path (the chain directory's, or
// one given with --peers). A missing file is an empty list.
func ReadPeersFile(path string) (peers, bad []string, err error) {
	b, err := ReadFileMax(path, maxPeersBytes, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	peers, bad = ParsePeers(b)
	return peers, bad, nil
}

// ReadPeers reads the directory's peers file.
func (d Dir) ReadPeers() (peers, bad []string, err error) { return ReadPeersFile(d.File(PeersFile)) }

// WritePeersFile replaces the peers file at path atomically with one
// HOST:PORT a line. Every entry must be a peer address (hostport.Parse);
// at most MaxPeers are written. It takes no lock: the last complete write
// wins.
func WritePeersFile(path string, peers []string) error {
	var b strings.Builder
	for i, p := range peers {
		if i == MaxPeers {
			break
		}
		hp, err := hostport.Parse(p, hostport.RelayPort)
		if err != nil {
			return fmt.Errorf("peer %q: %w", p, err)
		}
		b.WriteString(hp)
		b.WriteByte('\n')
	}
	return WriteAtomic(path, []byte(b.String()))
}

// WritePeers replaces the directory's peers file (WritePeersFile).
func (d Dir) WritePeers(peers []string) error { return WritePeersFile(d.File(PeersFile), peers) }

// ErrPeersFull is AddPeer's error when the peers file gives MaxPeers
// peers already.
var ErrPeersFull = fmt.Errorf("the peers file holds %d peers already", MaxPeers)

// AddPeer adds addr (HOST:PORT) to the directory's peers file unless it is
// there already (AddPeers); it fails with ErrPeersFull when the file gives
// MaxPeers peers. It reports whether it added.
func (d Dir) AddPeer(addr string) (bool, error) {
	added, full, err := d.AddPeers(addr)
	if err == nil && full && len(added) == 0 {
		err = ErrPeersFull
	}
	return len(added) > 0, err
}

// AddPeers adds the addresses (HOST[:PORT]) that the directory's peers
// file does not give yet, in order, until it gives MaxPeers (full then
// says that some could not be added): the file is replaced atomically,
// its lines and comments kept, and only when it gains an entry. An
// address that is not a peer address is an error and nothing is written.
func (d Dir) AddPeers(addrs ...string) (added []string, full bool, err error) {
	want := make([]string, 0, len(addrs))
	for _, a := range addrs {
		hp, err := hostport.Parse(a, hostport.RelayPort)
		if err != nil {
			return nil, false, err
		}
		want = append(want, hp)
	}
	path := d.File(PeersFile)
	b, err := ReadFileMax(path, maxPeersBytes, nil)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	peers, _ := ParsePeers(b)
	have := make(map[string]bool, len(peers)+len(want))
	for _, p := range peers {
		have[p] = true
	}
	n := len(peers)
	for _, hp := range want {
		if have[hp] {
			continue
		}
		if n >= MaxPeers {
			full = true
			break
		}
		have[hp] = true
		added = append(added, hp)
		n++
	}
	if len(added) == 0 {
		return nil, full, nil
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	for _, hp := range added {
		b = append(append(b, hp...), '\n')
	}
	return added, full, WriteAtomic(path, b)
}
