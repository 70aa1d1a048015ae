package chaindir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/coniunctum/cnj/lib/hostport"
)

// The peers file (cnj-format(5)): one HOST[:PORT] a line, PORT the node's
// relay port, hostport.RelayPort when left out; blank lines and lines
// starting with "#" are skipped. This is its one parser and its one
// writer: cnj-relay, cnj-sync and cnj-serve read it the same way.
//
// A node is known by its IP (DESIGN.md, "Network"): the file gives at
// most one peer per host. A later line naming a host again is reported
// and skipped, and the writers change the port of a host's line rather
// than add one.
//
// Policy for a bad line: it is skipped and reported (ReadPeersFile's bad),
// never the reason to refuse the rest of the file, so that one mistyped
// line does not cut a node off its network or make cnj-serve's
// /api/peers fail.
//
// Beside it, peers.seen records when each line that a command added was
// last seen (PeersSeenFile, below): those lines age out after PeerExpiry
// unseen. A line without a record was written by a person and stays.
const (
	// MaxPeers bounds the peers a peers file gives and the entries a
	// command adds to it. A node dials every peer of its file (the full
	// mesh of DESIGN.md) and accepts at most 64 connections
	// (cnj-relay's --max-conns default), so more could not all connect.
	MaxPeers = 64
	// maxPeersBytes bounds the size of a peers file read, and of
	// peers.seen.
	maxPeersBytes = 1 << 20
)

// PeerExpiry is how long a line that a command added to the peers file
// stays without its peer being seen: a hello from it on the relay, or an
// answer of its web app to cnj-sync. Bitcoin Core forgets addresses not
// seen for a month; a week keeps a peers file of live nodes while a node
// that was away for a few days is still dialled.
const PeerExpiry = 7 * 24 * time.Hour

// peerSeenEvery is how stale a record may grow before a sighting is
// written: at most one write of peers.seen an hour for each peer.
const peerSeenEvery = time.Hour

// ParsePeers returns the peers of a peers file's contents as canonical
// HOST:PORT (hostport.Parse), one per host, in order, at most MaxPeers,
// and its bad lines, each as "line N: why". A line naming the very
// address of an earlier one counts once, quietly; one naming its host
// at another port is bad.
func ParsePeers(b []byte) (peers, bad []string) {
	for _, e := range parsePeerLines(b) {
		switch {
		case e.err != "":
			bad = append(bad, fmt.Sprintf("line %d: %s", e.n, e.err))
		case e.addr == "": // a comment or a blank line
		case e.dupOf != "":
			if e.dupOf != e.addr {
				bad = append(bad, fmt.Sprintf("line %d: %s: %s is named already (%s), one peer per host", e.n, e.addr, hostOf(e.addr), e.dupOf))
			}
		case len(peers) < MaxPeers:
			peers = append(peers, e.addr)
		}
	}
	return peers, bad
}

// peerLine is one line of a peers file: a peer (addr), a peer whose host
// an earlier line names (dupOf: that line's address), a bad line (err),
// or a comment or blank line (none of them).
type peerLine struct {
	n     int // 1-based
	text  string
	addr  string
	dupOf string
	err   string
}

func parsePeerLines(b []byte) []peerLine {
	var out []peerLine
	hosts := map[string]string{}
	text := string(b)
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	for i, raw := range strings.Split(text, "\n") {
		e := peerLine{n: i + 1, text: raw}
		line := strings.TrimSpace(raw)
		if line != "" && line[0] != '#' {
			hp, err := hostport.Parse(line, hostport.RelayPort)
			switch {
			case err != nil:
				e.err = err.Error()
			case hosts[hostOf(hp)] != "":
				e.addr, e.dupOf = hp, hosts[hostOf(hp)]
			default:
				e.addr = hp
				hosts[hostOf(hp)] = hp
			}
		}
		out = append(out, e)
	}
	return out
}

// hostOf is the host of a canonical HOST:PORT.
func hostOf(hp string) string {
	h, _, err := net.SplitHostPort(hp)
	if err != nil {
		return hp
	}
	return h
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
// an entry whose host an earlier one names is left out; at most MaxPeers
// are written. It takes no lock: the last complete write wins.
func WritePeersFile(path string, peers []string) error {
	var b strings.Builder
	hosts := map[string]bool{}
	n := 0
	for _, p := range peers {
		hp, err := hostport.Parse(p, hostport.RelayPort)
		if err != nil {
			return fmt.Errorf("peer %q: %w", p, err)
		}
		if hosts[hostOf(hp)] || n == MaxPeers {
			continue
		}
		hosts[hostOf(hp)] = true
		n++
		b.WriteString(hp)
		b.WriteByte('\n')
	}
	return WriteAtomic(path, []byte(b.String()))
}

// WritePeers replaces the directory's peers file (WritePeersFile).
func (d Dir) WritePeers(peers []string) error { return WritePeersFile(d.File(PeersFile), peers) }

// ErrPeersFull is RecordPeer's error when the peers file gives MaxPeers
// peers already.
var ErrPeersFull = fmt.Errorf("the peers file holds %d peers already", MaxPeers)

// Recorded says what RecordPeer did.
type Recorded int

// What RecordPeer did.
const (
	PeerKnown   Recorded = iota // the entry was there (its sighting noted)
	PeerAdded                   // a new entry
	PeerUpdated                 // the host's entry now has the address's port
)

// RecordPeer records addr (HOST:PORT), a peer's own claim of where it
// listens (its hello on the relay), in the directory's peers file at now:
// a new entry for its host, or the port of the host's entry changed, and
// the peer seen now. It fails with ErrPeersFull when the host is new and
// the file gives MaxPeers peers (after the entries unseen for PeerExpiry
// are gone).
func (d Dir) RecordPeer(addr string, now time.Time) (Recorded, error) {
	hp, err := hostport.Parse(addr, hostport.RelayPort)
	if err != nil {
		return PeerKnown, err
	}
	var what Recorded
	err = d.editPeers(now, func(e *peersEdit) error {
		i := e.find(hostOf(hp))
		switch {
		case i < 0 && e.count() >= MaxPeers:
			return ErrPeersFull
		case i < 0:
			e.add(hp, true)
			what = PeerAdded
		case e.lines[i].addr != hp:
			e.setPort(i, hp)
			what = PeerUpdated
		default:
			e.see(hp)
		}
		return nil
	})
	return what, err
}

// AddPeers adds the addresses (HOST[:PORT]) whose hosts the directory's
// peers file does not name yet, in order, until it gives MaxPeers (full
// then says that some could not be added), each seen now: they are peers
// that others named (cnj-sync learns them from /api/peers), so they never
// change the port of a host's entry, and they age out unseen. The file is
// replaced atomically, its lines and comments kept, and only when it
// changes. An address that is not a peer address is an error and nothing
// is written.
func (d Dir) AddPeers(now time.Time, addrs ...string) (added []string, full bool, err error) {
	want := make([]string, 0, len(addrs))
	for _, a := range addrs {
		hp, err := hostport.Parse(a, hostport.RelayPort)
		if err != nil {
			return nil, false, err
		}
		want = append(want, hp)
	}
	err = d.editPeers(now, func(e *peersEdit) error {
		for _, hp := range want {
			if e.find(hostOf(hp)) >= 0 {
				continue
			}
			if e.count() >= MaxPeers {
				full = true
				break
			}
			e.add(hp, true)
			added = append(added, hp)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return added, full, nil
}

// SeePeers notes at now that the peers at hosts (IP addresses or names,
// as the peers file writes them) were seen, for the entries that age
// (those a command added), and removes the entries unseen for PeerExpiry.
// It writes only what changed.
func (d Dir) SeePeers(now time.Time, hosts ...string) error {
	return d.editPeers(now, func(e *peersEdit) error {
		for _, h := range hosts {
			if i := e.find(h); i >= 0 {
				e.see(e.lines[i].addr)
			}
		}
		return nil
	})
}

// peersEdit is the peers file and its sightings being changed.
type peersEdit struct {
	now     time.Time
	lines   []peerLine
	seen    map[string]int64 // HOST:PORT -> Unix seconds
	changed bool             // the peers file
	seenNew bool             // peers.seen
}

func (e *peersEdit) find(host string) int {
	for i, l := range e.lines {
		if l.addr != "" && l.dupOf == "" && hostOf(l.addr) == host {
			return i
		}
	}
	return -1
}

func (e *peersEdit) count() int {
	n := 0
	for _, l := range e.lines {
		if l.addr != "" && l.dupOf == "" {
			n++
		}
	}
	return n
}

func (e *peersEdit) add(hp string, ages bool) {
	e.lines = append(e.lines, peerLine{text: hp, addr: hp})
	e.changed = true
	if ages {
		e.seen[hp] = e.now.Unix()
		e.seenNew = true
	}
}

// setPort gives line i the address hp (its host's, another port); its
// record follows it.
func (e *peersEdit) setPort(i int, hp string) {
	old := e.lines[i].addr
	e.lines[i].text, e.lines[i].addr = hp, hp
	e.changed = true
	if _, ok := e.seen[old]; ok {
		delete(e.seen, old)
		e.seen[hp] = e.now.Unix()
		e.seenNew = true
	}
}

// see refreshes the record of hp, if it has one, once it is stale.
func (e *peersEdit) see(hp string) {
	if t, ok := e.seen[hp]; ok && e.now.Unix()-t >= int64(peerSeenEvery/time.Second) {
		e.seen[hp] = e.now.Unix()
		e.seenNew = true
	}
}

// editPeers reads the peers file and peers.seen under the directory's
// peers lock, lets edit change them, drops the entries unseen for
// PeerExpiry and the records of no entry, and writes what changed:
// peers.seen with the records of new entries before the peers file, and
// without those of removed entries after it, so that a crash leaves at
// worst a record of no entry, which the next edit drops, and never an
// added entry without its record (which would stay for good).
func (d Dir) editPeers(now time.Time, edit func(*peersEdit) error) error {
	unlock, err := d.lockPeers()
	if err != nil {
		return err
	}
	defer unlock()
	b, err := ReadFileMax(d.File(PeersFile), maxPeersBytes, nil)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	seen, err := d.readPeersSeen()
	if err != nil {
		return err
	}
	e := &peersEdit{now: now, lines: parsePeerLines(b), seen: seen}
	// Age out first, so that the edit finds room; then the edit; then
	// forget the records of entries that are gone.
	gone := map[string]int64{}
	keep := e.lines[:0]
	for _, l := range e.lines {
		if t, ok := e.seen[l.addr]; ok && l.dupOf == "" && now.Sub(time.Unix(t, 0)) > PeerExpiry {
			gone[l.addr] = t
			delete(e.seen, l.addr)
			e.changed, e.seenNew = true, true
			continue
		}
		keep = append(keep, l)
	}
	e.lines = keep
	if err := edit(e); err != nil {
		return err
	}
	for a := range e.seen {
		if i := e.find(hostOf(a)); i < 0 || e.lines[i].addr != a {
			delete(e.seen, a)
			e.seenNew = true
		}
	}
	if e.seenNew {
		// The records of new entries go first; those of removed ones
		// stay until the entries are gone.
		both := maps.Clone(e.seen)
		maps.Copy(both, gone)
		if err := d.writePeersSeen(both); err != nil {
			return err
		}
	}
	if e.changed {
		var out strings.Builder
		for _, l := range e.lines {
			out.WriteString(l.text)
			out.WriteByte('\n')
		}
		if err := WriteAtomic(d.File(PeersFile), []byte(out.String())); err != nil {
			return err
		}
	}
	if len(gone) > 0 {
		return d.writePeersSeen(e.seen)
	}
	return nil
}

// lockPeers takes an exclusive flock(2) of the directory itself, which
// only the writers of the peers file take: cnj-relay listen and cnj-sync
// may record peers at the same moment, and each reads the two files,
// changes them and writes them back.
func (d Dir) lockPeers() (unlock func(), err error) {
	f, err := os.Open(string(d))
	if err != nil {
		return nil, err
	}
	if err := flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", d, err)
	}
	return func() { f.Close() }, nil
}

// peersSeenLine is one line of peers.seen.
type peersSeenLine struct {
	Peer string `json:"peer"`
	Seen int64  `json:"seen"`
}

// readPeersSeen reads peers.seen: HOST:PORT -> when last seen. A line that
// does not parse is skipped (its entry then stays, as one a person
// wrote); a missing file is empty.
func (d Dir) readPeersSeen() (map[string]int64, error) {
	m := map[string]int64{}
	err := readLines(d.File(PeersSeenFile), maxPeersBytes, func(line []byte) {
		var l peersSeenLine
		if json.Unmarshal(line, &l) != nil || l.Seen <= 0 {
			return
		}
		if hp, err := hostport.Parse(l.Peer, hostport.RelayPort); err == nil && hp == l.Peer {
			m[hp] = l.Seen
		}
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// PeersSeen returns when each peer that a command added to the peers file
// was last seen (HOST:PORT -> Unix seconds), as peers.seen records it at
// most hourly (peerSeenEvery); a peer a person wrote has no record.
func (d Dir) PeersSeen() (map[string]int64, error) { return d.readPeersSeen() }

// writePeersSeen replaces peers.seen: one JSON line per record, in the
// order of the addresses.
func (d Dir) writePeersSeen(m map[string]int64) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		line, _ := json.Marshal(peersSeenLine{k, m[k]})
		b = append(append(b, line...), '\n')
	}
	return WriteAtomic(d.File(PeersSeenFile), b)
}
