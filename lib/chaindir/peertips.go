package chaindir

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/hostport"
)

// The tips cnj-sync last saw its peers claim (cnj-format(5)):
// peer-tips.jsonl, one JSON line per peer web app,
//
//	{"peer":"HOST:PORT","time":T,"height":H,"hash":HEX64}
//
// for the web app's peers page: a node keeps no connection to its peers'
// web apps, so what it knows of their chains is what the last run asked.
// A claim is not checked (the peer may lie about its tip; cnj-sync checks
// the blocks it downloads, not this record). At most MaxPeers lines, the
// most recent, each younger than PeerExpiry. It is not data: replaced
// atomically without fsync.
type PeerTip struct {
	Peer   string         // HOST:PORT of its web app
	Time   int64          // when it answered, Unix seconds
	Height uint64         // the tip it claimed
	Hash   chainhash.Hash // the tip's hash
}

type peerTipLine struct {
	Peer   string `json:"peer"`
	Time   int64  `json:"time"`
	Height uint64 `json:"height"`
	Hash   string `json:"hash"`
}

// PeerTips returns the last tip each peer web app claimed to cnj-sync,
// within PeerExpiry before now, by HOST:PORT. A line that does not parse
// is skipped; a missing file is empty.
func (d Dir) PeerTips(now time.Time) (map[string]PeerTip, error) {
	m := map[string]PeerTip{}
	err := readLines(d.File(PeerTipsFile), maxPeersBytes, func(line []byte) {
		var l peerTipLine
		if json.Unmarshal(line, &l) != nil || now.Sub(time.Unix(l.Time, 0)) > PeerExpiry {
			return
		}
		h, err := chainhash.ParseHash(l.Hash)
		if err != nil {
			return
		}
		if hp, err := hostport.Parse(l.Peer, hostport.WebPort); err == nil && hp == l.Peer {
			m[hp] = PeerTip{Peer: hp, Time: l.Time, Height: l.Height, Hash: h}
		}
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// PeerTipRefresh is how old a peer's record may grow before a claim of
// the same tip is written again: a cron run of cnj-sync that learns
// nothing new writes nothing, and a record's time is at most this much
// older than the peer's last answer.
const PeerTipRefresh = 10 * time.Minute

// NotePeerTips records the tips peer web apps claimed (each t.Peer a
// HOST:PORT), keeping the others' of PeerExpiry before now; the file
// keeps the MaxPeers most recent. It writes only when a peer is new, its
// tip changed, or its record is older than PeerTipRefresh.
func (d Dir) NotePeerTips(now time.Time, tips ...PeerTip) error {
	m, err := d.PeerTips(now)
	if err != nil {
		return err
	}
	changed := false
	for _, t := range tips {
		hp, err := hostport.Parse(t.Peer, hostport.WebPort)
		if err != nil || hp != t.Peer {
			continue
		}
		old, ok := m[hp]
		if !ok || old.Height != t.Height || old.Hash != t.Hash || t.Time-old.Time >= int64(PeerTipRefresh/time.Second) {
			m[hp], changed = t, true
		}
	}
	if !changed {
		return nil
	}
	ls := make([]PeerTip, 0, len(m))
	for _, t := range m {
		ls = append(ls, t)
	}
	slices.SortFunc(ls, func(a, b PeerTip) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), strings.Compare(a.Peer, b.Peer))
	})
	var b []byte
	for _, t := range ls[:min(len(ls), MaxPeers)] {
		line, _ := json.Marshal(peerTipLine{t.Peer, t.Time, t.Height, t.Hash.String()})
		b = append(append(b, line...), '\n')
	}
	return ReplaceFile(d.File(PeerTipsFile), b, false)
}
