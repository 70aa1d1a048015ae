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
	metric("cnj_http_busy_total", "counter", "Requests refused with 503 busy: no turn to read or download the whole chain.")
	value("cnj_http_busy_total", s.busy.Load())
	write(w, []string{"text/plain; version=0.0.4; charset=utf-8"}, b.Bytes())
}

// labelEscaper escapes a label value of the text format.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// The relay's stats files (cnj-format(5)): one per cnj-relay process,
// relay-listen-PID.json and relay-send-PID.json, found by listing the chain
// directory through the os.Root and read through it; at most
// maxRelayFiles of each direction, each at most maxRelayStats bytes.
const (
	maxRelayStats = 64 << 10
	maxRelayFiles = 64
)

// relayDirections are the two kinds of stats file, NAME-PID.json, and
// the direction label of each.
var relayDirections = []struct{ name, label string }{
	{"relay-listen", "in"},
	{"relay-send", "out"},
}

// DefaultRelayStale is the age of a relay stats file beyond which its
// process is taken as gone (Config.RelayStale when zero): a running relay
// rewrites its file at least every 5 seconds, and removes it when it
// stops; the file of one that was killed stays until another relay
// removes it. A stale file is left out.
const DefaultRelayStale = 15 * time.Second

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

// add adds the counts and gauges of o to st.
func (st *relayStats) add(o *relayStats) {
	st.Peers += o.Peers
	st.Connected += o.Connected
	st.Accepted += o.Accepted
	st.RefusedCutOff += o.RefusedCutOff
	st.RefusedLimit += o.RefusedLimit
	st.HelloFailed += o.HelloFailed
	st.CutOffs += o.CutOffs
	st.LinesTx += o.LinesTx
	st.LinesBlock += o.LinesBlock
	st.Bytes += o.Bytes
	st.Duplicates += o.Duplicates
	st.BadLines += o.BadLines
	st.QueueFull += o.QueueFull
	st.NotReading += o.NotReading
}

// relayStatsPID returns the process id of the stats file name of the
// kind kind (KIND-PID.json, PID a decimal over 0 without leading zeros),
// or false when name is not one.
func relayStatsPID(kind, name string) (int64, bool) {
	digits, ok := strings.CutPrefix(name, kind+"-")
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ".json")
	if !ok {
		return 0, false
	}
	pid, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || pid <= 0 || strconv.FormatInt(pid, 10) != digits {
		return 0, false
	}
	return pid, true
}

// listRelayStats returns the entries of the chain directory named as
// stats files, by direction (the index in relayDirections).
func (s *Server) listRelayStats() ([][]fs.DirEntry, error) {
	d, err := s.st.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	files := make([][]fs.DirEntry, len(relayDirections))
	for {
		ents, err := d.ReadDir(256)
		for _, e := range ents {
			for i, k := range relayDirections {
				if _, ok := relayStatsPID(k.name, e.Name()); ok {
					files[i] = append(files[i], e)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readRelayStats reads the stats file name of process pid.
func (s *Server) readRelayStats(name string, pid int64) (*relayStats, error) {
	f, err := s.st.root.Open(name)
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
	if st.PID != pid {
		return nil, errors.New("pid " + strconv.FormatInt(st.PID, 10) + " in the file of process " + strconv.FormatInt(pid, 10))
	}
	return &st, nil
}

// relayDir is the traffic of one direction: the sum of its fresh files.
type relayDir struct {
	label   string // the direction label
	running uint64 // fresh files summed
	oldest  int64  // the time of the oldest
	sum     relayStats
}

// readRelayDir sums the fresh stats files ents of the kind kind: the
// maxRelayFiles newest by modification time when there are more
// (logged). A file that cannot be read is logged and left out; a stale
// one is left out.
func (s *Server) readRelayDir(kind, label string, ents []fs.DirEntry, now time.Time) relayDir {
	d := relayDir{label: label}
	if len(ents) > maxRelayFiles {
		s.log.Printf("metrics: %d %s-*.json files: reading the %d newest", len(ents), kind, maxRelayFiles)
		mtime := make(map[string]time.Time, len(ents))
		for _, e := range ents {
			if fi, err := e.Info(); err == nil {
				mtime[e.Name()] = fi.ModTime()
			}
		}
		slices.SortFunc(ents, func(a, b fs.DirEntry) int { return mtime[b.Name()].Compare(mtime[a.Name()]) })
		ents = ents[:maxRelayFiles]
	}
	for _, e := range ents {
		pid, _ := relayStatsPID(kind, e.Name())
		var st *relayStats
		var err error
		if e.Type().IsRegular() { // not opened otherwise: a FIFO would block
			st, err = s.readRelayStats(e.Name(), pid)
		} else {
			err = errors.New("not a regular file")
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // its relay stopped since the listing
		}
		if err != nil {
			s.log.Printf("metrics: %s: %v", e.Name(), err)
			continue
		}
		if now.Sub(time.Unix(st.Time, 0)).Abs() > s.cfg.RelayStale {
			continue
		}
		d.sum.add(st)
		if d.running == 0 || st.Time < d.oldest {
			d.oldest = st.Time
		}
		d.running++
	}
	return d
}

// relayMetrics appends the relay traffic: for each direction, the sum of
// the fresh stats files that could be read.
func (s *Server) relayMetrics(b *bytes.Buffer, metric func(name, typ, help string)) {
	files, err := s.listRelayStats()
	if err != nil {
		s.log.Printf("metrics: relay stats files: %v", err)
		return
	}
	now := time.Now()
	dirs := make([]relayDir, len(relayDirections))
	for i, k := range relayDirections {
		dirs[i] = s.readRelayDir(k.name, k.label, files[i], now)
	}
	type sample struct {
		labels string // after direction
		v      uint64
	}
	// family writes the samples of the directions with a relay running
	// (of every direction with all) and of only when set.
	family := func(name, typ, help string, only string, all bool, samples func(d *relayDir) []sample) {
		header := false
		for i := range dirs {
			d := &dirs[i]
			if only != "" && d.label != only || d.running == 0 && !all {
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
	family("cnj_relay_running", "gauge", "Relay processes of the direction that rewrote their stats file in the last "+s.cfg.RelayStale.String()+".", "", true,
		func(d *relayDir) []sample { return one(d.running) })
	family("cnj_relay_stats_timestamp_seconds", "gauge", "When the least recent of the stats files summed was written.", "", false,
		func(d *relayDir) []sample { return one(uint64(d.oldest)) })
	family("cnj_relay_peers", "gauge", "Peers the cnj-relay send processes keep a connection to, connected or not, summed.", "out", false,
		func(d *relayDir) []sample { return one(d.sum.Peers) })
	family("cnj_relay_peers_connected", "gauge", "Peers connected now, past their hello, summed over the processes.", "", false,
		func(d *relayDir) []sample { return one(d.sum.Connected) })
	family("cnj_relay_connections_accepted_total", "counter", "Connections the listeners took within their limits.", "in", false,
		func(d *relayDir) []sample { return one(d.sum.Accepted) })
	family("cnj_relay_connections_refused_total", "counter", "Connections the listeners refused or closed before a hello of this network, by reason.", "in", false,
		func(d *relayDir) []sample {
			return []sample{{`,reason="cut_off"`, d.sum.RefusedCutOff}, {`,reason="limit"`, d.sum.RefusedLimit}, {`,reason="hello"`, d.sum.HelloFailed}}
		})
	family("cnj_relay_lines_total", "counter", "Transaction and block lines: new ones passed on (in), written to a peer, once per peer (out).", "", false,
		func(d *relayDir) []sample {
			return []sample{{`,kind="tx"`, d.sum.LinesTx}, {`,kind="block"`, d.sum.LinesBlock}}
		})
	family("cnj_relay_bytes_total", "counter", "Bytes of lines read from peers (in) or written to them (out), keep-alives included.", "", false,
		func(d *relayDir) []sample { return one(d.sum.Bytes) })
	family("cnj_relay_dropped_total", "counter", "Lines not passed on (in) or not sent (out), by reason.", "", false,
		func(d *relayDir) []sample {
			x := []sample{{`,reason="duplicate"`, d.sum.Duplicates}, {`,reason="bad_line"`, d.sum.BadLines}}
			if d.label == "out" {
				x = append(x, sample{`,reason="queue_full"`, d.sum.QueueFull})
			}
			return x
		})
	family("cnj_relay_cut_offs_total", "counter", "Times the listeners cut a peer IP off for its rejects.", "in", false,
		func(d *relayDir) []sample { return one(d.sum.CutOffs) })
	family("cnj_relay_peers_dropped_total", "counter", "Peers the cnj-relay send processes dropped, by reason.", "out", false,
		func(d *relayDir) []sample { return []sample{{`,reason="not_reading"`, d.sum.NotReading}} })
}
