package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rejectsLog is the chain directory's reject log (cnj-format(5)), read
// through an os.Root on the directory under this fixed name only.
const rejectsLog = "rejects.log"

// maxReasons bounds the reason labels of cnj_rejects_total; further
// reasons are counted as "other".
const maxReasons = 100

// maxTailRead bounds what one scrape reads of rejects.log; the rest is
// read by the next scrapes.
const maxTailRead = 64 << 20

// rejectCounter counts rejects.log lines by reason, reading only what was
// appended since the last scrape. A file that was replaced or shrank is
// counted again from its start.
type rejectCounter struct {
	root *os.Root

	mu      sync.Mutex
	fi      fs.FileInfo // the file as last read
	off     int64       // bytes counted
	partial []byte      // a line not yet complete
	counts  map[string]uint64
}

func newRejectCounter(root *os.Root) *rejectCounter {
	return &rejectCounter{root: root, counts: map[string]uint64{}}
}

// read brings the counts up to date and returns a copy of them.
func (rc *rejectCounter) read() (map[string]uint64, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := rc.update(); err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(rc.counts))
	for k, v := range rc.counts {
		out[k] = v
	}
	return out, nil
}

func (rc *rejectCounter) update() error {
	f, err := rc.root.Open(rejectsLog)
	if errors.Is(err, fs.ErrNotExist) {
		rc.fi, rc.off, rc.partial = nil, 0, nil
		clear(rc.counts)
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New(rejectsLog + " is not a regular file")
	}
	if rc.fi == nil || !os.SameFile(fi, rc.fi) || fi.Size() < rc.off {
		rc.off, rc.partial = 0, nil
		clear(rc.counts)
	}
	rc.fi = fi
	if fi.Size() == rc.off {
		return nil
	}
	data := make([]byte, min(fi.Size()-rc.off, maxTailRead))
	k, err := f.ReadAt(data, rc.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	rc.off += int64(k)
	data = append(rc.partial, data[:k]...)
	last := bytes.LastIndexByte(data, '\n')
	rc.partial = slices.Clone(data[last+1:])
	for line := range bytes.SplitSeq(data[:last+1], []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Reason == "" || len(rec.Reason) > 64 {
			rec.Reason = "unreadable"
		}
		if _, ok := rc.counts[rec.Reason]; !ok && len(rc.counts) >= maxReasons {
			rec.Reason = "other"
		}
		rc.counts[rec.Reason]++
	}
	return nil
}

// metrics answers in the Prometheus text format (version 0.0.4).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	snap := s.st.snap.Load().mempool()
	peers, perr := s.readPeers()
	rejects, rerr := s.rejects.read()
	var b bytes.Buffer
	metric := func(name, typ, help string) {
		b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
	}
	value := func(name string, v uint64) {
		b.WriteString(name + " " + strconv.FormatUint(v, 10) + "\n")
	}
	metric("cnj_tip_height", "gauge", "Height of the main chain's tip.")
	value("cnj_tip_height", snap.tip.Height)
	metric("cnj_tip_timestamp_seconds", "gauge", "Timestamp of the main chain's tip.")
	value("cnj_tip_timestamp_seconds", uint64(max(snap.tip.Timestamp, 0)))
	if perr == nil {
		metric("cnj_peers", "gauge", "Peers in the peers file.")
		value("cnj_peers", uint64(len(peers)))
	} else {
		s.log.Printf("metrics: peers: %v", perr)
	}
	metric("cnj_mempool_txs", "gauge", "Transfers in the mempool.")
	value("cnj_mempool_txs", uint64(snap.poolCount))
	metric("cnj_mempool_fees", "gauge", "Sum of the fees of the mempool's transfers, in base units.")
	value("cnj_mempool_fees", snap.poolFee)
	if rerr == nil {
		metric("cnj_rejects_total", "counter", "Refused transfers and blocks in rejects.log, by reason.")
		reasons := make([]string, 0, len(rejects))
		for k := range rejects {
			reasons = append(reasons, k)
		}
		slices.Sort(reasons)
		for _, k := range reasons {
			value(`cnj_rejects_total{reason="`+labelEscaper.Replace(k)+`"}`, rejects[k])
		}
	} else {
		s.log.Printf("metrics: %s: %v", rejectsLog, rerr)
	}
	s.relayMetrics(&b, metric)
	metric("cnj_http_rate_limited_total", "counter", "Requests refused with 429.")
	value("cnj_http_rate_limited_total", s.limited.Load())
	metric("cnj_http_panics_total", "counter", "Requests whose handler panicked.")
	value("cnj_http_panics_total", s.panics.Load())
	write(w, []string{"text/plain; version=0.0.4; charset=utf-8"}, b.Bytes())
}

// labelEscaper escapes a label value of the text format.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// The relay's stats files (cnj-format(5)): what cnj-relay listen and send
// counted, read through the os.Root on the chain directory under these
// fixed names only, each at most maxRelayStats bytes.
const (
	relayListenStats = "relay-listen.json"
	relaySendStats   = "relay-send.json"
	maxRelayStats    = 64 << 10
)

// RelayStale is the age of a relay stats file beyond which its relay is
// taken as stopped: a running relay rewrites its file at least every 5
// seconds. The gauges of a stale file are reported as 0.
var RelayStale = 15 * time.Second

// relayStats is a relay stats file: the fields of both directions; those
// of the other direction stay zero. Unknown fields are ignored, so that
// a newer relay's file is still read.
type relayStats struct {
	Time int64 `json:"time"`
	PID  int64 `json:"pid"`
	// Gauges.
	Peers     uint64 `json:"peers"`
	Connected uint64 `json:"connected"`
	// listen
	Accepted      uint64 `json:"accepted"`
	RefusedCutOff uint64 `json:"refused_cut_off"`
	RefusedLimit  uint64 `json:"refused_limit"`
	HelloFailed   uint64 `json:"hello_failed"`
	CutOffs       uint64 `json:"cut_offs"`
	// both
	LinesTx    uint64 `json:"lines_tx"`
	LinesBlock uint64 `json:"lines_block"`
	Bytes      uint64 `json:"bytes"`
	Duplicates uint64 `json:"duplicates"`
	BadLines   uint64 `json:"bad_lines"`
	// send
	QueueFull  uint64 `json:"queue_full"`
	NotReading uint64 `json:"not_reading"`
}

// readRelayStats reads the stats file name: nil, nil when there is none.
func (s *Server) readRelayStats(name string) (*relayStats, error) {
	f, err := s.st.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxRelayStats+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRelayStats {
		return nil, errors.New("over " + strconv.Itoa(maxRelayStats) + " bytes")
	}
	var st relayStats
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Time <= 0 || st.PID <= 0 {
		return nil, errors.New("no time or pid")
	}
	return &st, nil
}

// relayMetrics appends the relay traffic of the stats files that could be
// read; a file that cannot is logged and left out.
func (s *Server) relayMetrics(b *bytes.Buffer, metric func(name, typ, help string)) {
	type dir struct {
		label string // the direction label
		st    *relayStats
		fresh bool
	}
	var dirs []dir
	now := time.Now()
	for _, d := range []struct{ name, label string }{{relayListenStats, "in"}, {relaySendStats, "out"}} {
		st, err := s.readRelayStats(d.name)
		if err != nil {
			s.log.Printf("metrics: %s: %v", d.name, err)
			continue
		}
		if st != nil {
			dirs = append(dirs, dir{d.label, st, now.Sub(time.Unix(st.Time, 0)) <= RelayStale})
		}
	}
	if len(dirs) == 0 {
		return
	}
	type sample struct {
		labels string // after direction
		v      uint64
	}
	family := func(name, typ, help string, only string, samples func(d dir) []sample) {
		header := false
		for _, d := range dirs {
			if only != "" && d.label != only {
				continue
			}
			for _, x := range samples(d) {
				if !header {
					metric(name, typ, help)
					header = true
				}
				b.WriteString(name + `{direction="` + d.label + `"` + x.labels + "} " + strconv.FormatUint(x.v, 10) + "\n")
			}
		}
	}
	one := func(v uint64) []sample { return []sample{{"", v}} }
	gauge := func(d dir, v uint64) []sample {
		if !d.fresh {
			v = 0
		}
		return one(v)
	}
	family("cnj_relay_running", "gauge", "1 if the relay rewrote its stats file in the last "+RelayStale.String()+", else 0.", "",
		func(d dir) []sample {
			if d.fresh {
				return one(1)
			}
			return one(0)
		})
	family("cnj_relay_stats_timestamp_seconds", "gauge", "When the relay last wrote its stats file.", "",
		func(d dir) []sample { return one(uint64(d.st.Time)) })
	family("cnj_relay_peers", "gauge", "Peers cnj-relay send keeps a connection to, connected or not (0 when it is not running).", "out",
		func(d dir) []sample { return gauge(d, d.st.Peers) })
	family("cnj_relay_peers_connected", "gauge", "Peers connected now, past their hello (0 when the relay is not running).", "",
		func(d dir) []sample { return gauge(d, d.st.Connected) })
	family("cnj_relay_connections_accepted_total", "counter", "Connections the listener took within its limits.", "in",
		func(d dir) []sample { return one(d.st.Accepted) })
	family("cnj_relay_connections_refused_total", "counter", "Connections the listener refused or closed before a hello of this network, by reason.", "in",
		func(d dir) []sample {
			return []sample{{`,reason="cut_off"`, d.st.RefusedCutOff}, {`,reason="limit"`, d.st.RefusedLimit}, {`,reason="hello"`, d.st.HelloFailed}}
		})
	family("cnj_relay_lines_total", "counter", "Transaction and block lines: new ones passed on (in), written to a peer, once per peer (out).", "",
		func(d dir) []sample {
			return []sample{{`,kind="tx"`, d.st.LinesTx}, {`,kind="block"`, d.st.LinesBlock}}
		})
	family("cnj_relay_bytes_total", "counter", "Bytes of lines read from peers (in) or written to them (out), keep-alives included.", "",
		func(d dir) []sample { return one(d.st.Bytes) })
	family("cnj_relay_dropped_total", "counter", "Lines not passed on (in) or not sent (out), by reason.", "",
		func(d dir) []sample {
			x := []sample{{`,reason="duplicate"`, d.st.Duplicates}, {`,reason="bad_line"`, d.st.BadLines}}
			if d.label == "out" {
				x = append(x, sample{`,reason="queue_full"`, d.st.QueueFull})
			}
			return x
		})
	family("cnj_relay_cut_offs_total", "counter", "Times the listener cut a peer IP off for its rejects.", "in",
		func(d dir) []sample { return one(d.st.CutOffs) })
	family("cnj_relay_peers_dropped_total", "counter", "Peers cnj-relay send dropped, by reason.", "out",
		func(d dir) []sample { return []sample{{`,reason="not_reading"`, d.st.NotReading}} })
}
