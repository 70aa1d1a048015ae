package chaindir

import (
	"cmp"
	"encoding/json"
	"errors"
	"io/fs"
	"net/netip"
	"slices"
	"time"
)

// The relay's record of useful peers (cnj-format(5)): relay-delivered.jsonl,
// one JSON line per peer IP,
//
//	{"ip":"IP","block":T,"tx":T}
//
// the last times (Unix seconds, 0 for never) a block or a transfer line
// that IP sent came out of cnj-verify: valid and new to the node. cnj-relay
// send writes it (it reads cnj-verify's output, where each line is tagged
// with the IP it came from); cnj-relay listen reads it, to keep the peers
// that deliver when it must evict one and to record a peer's address only
// once it delivered. It is not data: replaced atomically without fsync,
// it may be lost.
const (
	// MaxDelivered bounds the IPs the file holds: the most recent.
	MaxDelivered = 256
	// DeliveredKeep is how long an IP stays in the file after its last
	// delivery.
	DeliveredKeep = 24 * time.Hour
	// maxDeliveredBytes bounds what is read of the file.
	maxDeliveredBytes = 1 << 20
)

// Delivered is one line of relay-delivered.jsonl.
type Delivered struct {
	IP    netip.Addr
	Block int64 // Unix seconds of its last valid new block, 0 for none
	Tx    int64 // of its last valid new transfer
}

type deliveredLine struct {
	IP    string `json:"ip"`
	Block int64  `json:"block"`
	Tx    int64  `json:"tx"`
}

func (e Delivered) last() int64 { return max(e.Block, e.Tx) }

// ReadDelivered reads relay-delivered.jsonl and returns its entries, and
// the file's Stamp as read (the zero Stamp when it does not exist), so
// that a reader can skip a file that did not change. Lines that do not
// parse are skipped.
func (d Dir) ReadDelivered() ([]Delivered, Stamp, error) {
	path := d.File(DeliveredFile)
	st, err := StampFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Stamp{}, nil
	}
	if err != nil {
		return nil, Stamp{}, err
	}
	var out []Delivered
	err = readLines(path, maxDeliveredBytes, func(line []byte) {
		var l deliveredLine
		if json.Unmarshal(line, &l) != nil {
			return
		}
		ip, err := netip.ParseAddr(l.IP)
		if err != nil || l.Block < 0 || l.Tx < 0 {
			return
		}
		out = append(out, Delivered{ip.Unmap().WithZone(""), l.Block, l.Tx})
	})
	if err != nil {
		return nil, Stamp{}, err
	}
	return out, st, nil
}

// MergeDelivered adds the deliveries to relay-delivered.jsonl: for each
// IP the later of the file's times and these, without the IPs whose last
// delivery is older than DeliveredKeep at now, the MaxDelivered most
// recent, most recent first. Two writers merging at once may lose one's
// update (the last complete write wins).
func (d Dir) MergeDelivered(ds []Delivered, now time.Time) error {
	have, _, err := d.ReadDelivered()
	if err != nil {
		return err
	}
	byIP := map[netip.Addr]Delivered{}
	for _, e := range append(have, ds...) {
		o := byIP[e.IP]
		byIP[e.IP] = Delivered{e.IP, max(o.Block, e.Block), max(o.Tx, e.Tx)}
	}
	var all []Delivered
	for _, e := range byIP {
		if now.Unix()-e.last() <= int64(DeliveredKeep/time.Second) {
			all = append(all, e)
		}
	}
	slices.SortFunc(all, func(a, b Delivered) int {
		return cmp.Or(cmp.Compare(b.last(), a.last()), a.IP.Compare(b.IP))
	})
	all = all[:min(len(all), MaxDelivered)]
	var b []byte
	for _, e := range all {
		line, _ := json.Marshal(deliveredLine{e.IP.String(), e.Block, e.Tx})
		b = append(append(b, line...), '\n')
	}
	return ReplaceFile(d.File(DeliveredFile), b, false)
}
