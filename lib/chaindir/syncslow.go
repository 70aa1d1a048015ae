package chaindir

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/coniunctum/cnj/lib/hostport"
)

// The peers that cnj-sync gave up on for sending too slowly
// (cnj-format(5)): sync-slow.jsonl, one JSON line per peer web app,
//
//	{"peer":"HOST:PORT","time":T}
//
// so that the next runs try them after the others: a peer that claims
// the most work and then drips its chain would otherwise hold every run
// first. A peer leaves the file after SlowPeerMemory, or when a sync from
// it succeeds. It is not data: replaced atomically without fsync.
const (
	// SlowPeerMemory is how long a slow peer is tried last.
	SlowPeerMemory = 24 * time.Hour
	// maxSlowPeers bounds the file: the most recent.
	maxSlowPeers = MaxPeers
)

type slowPeerLine struct {
	Peer string `json:"peer"`
	Time int64  `json:"time"`
}

// SlowPeers returns the peers (HOST:PORT of their web apps) that cnj-sync
// found slow within SlowPeerMemory before now, with the time it did. A
// line that does not parse is skipped; a missing file is empty.
func (d Dir) SlowPeers(now time.Time) (map[string]int64, error) {
	m := map[string]int64{}
	err := readLines(d.File(SyncSlowFile), maxPeersBytes, func(line []byte) {
		var l slowPeerLine
		if json.Unmarshal(line, &l) != nil || now.Sub(time.Unix(l.Time, 0)) > SlowPeerMemory {
			return
		}
		if hp, err := hostport.Parse(l.Peer, hostport.WebPort); err == nil && hp == l.Peer {
			m[hp] = l.Time
		}
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// NoteSlowPeer records at now that the web app at addr (HOST:PORT) was too
// slow (slow), or that a sync from it succeeded (!slow: it leaves the
// file). The file keeps the maxSlowPeers most recent of SlowPeerMemory and
// is written only when it changes.
func (d Dir) NoteSlowPeer(addr string, now time.Time, slow bool) error {
	m, err := d.SlowPeers(now)
	if err != nil {
		return err
	}
	if _, had := m[addr]; !slow && !had {
		return nil
	}
	if slow {
		m[addr] = now.Unix()
	} else {
		delete(m, addr)
	}
	var ls []slowPeerLine
	for p, t := range m {
		ls = append(ls, slowPeerLine{p, t})
	}
	slices.SortFunc(ls, func(a, b slowPeerLine) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), strings.Compare(a.Peer, b.Peer))
	})
	var b []byte
	for _, l := range ls[:min(len(ls), maxSlowPeers)] {
		line, _ := json.Marshal(l)
		b = append(append(b, line...), '\n')
	}
	return ReplaceFile(d.File(SyncSlowFile), b, false)
}
