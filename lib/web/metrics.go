package web

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/pow"
)

// maxReasons bounds the reason labels of cnj_rejects_total; further
// reasons are counted as "other".
const maxReasons = 100

// maxTailReads bounds what one scrape reads of rejects.log, in reads of
// the tail (4 MiB each); the rest is read by the next scrapes.
const maxTailReads = 16

// rejectCounter counts rejects.log lines by reason, reading only what was
// appended since the last scrape (chaindir's RejectTail). A file that was
// replaced or shrank is counted again from its start.
type rejectCounter struct {
	mu     sync.Mutex
	tail   *chaindir.RejectTail
	counts map[string]uint64
}

func newRejectCounter(d chaindir.Dir) *rejectCounter {
	return &rejectCounter{tail: d.TailRejects(false), counts: map[string]uint64{}}
}

// read brings the counts up to date and returns a copy of them.
func (rc *rejectCounter) read() (map[string]uint64, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for range maxTailReads {
		es, restarted, more, err := rc.tail.Read()
		if err != nil {
			return nil, err
		}
		if restarted {
			clear(rc.counts)
		}
		for _, e := range es {
			reason := string(e.Reason)
			if reason == "" {
				reason = "unreadable"
			}
			if _, ok := rc.counts[reason]; !ok && len(rc.counts) >= maxReasons {
				reason = "other"
			}
			rc.counts[reason]++
		}
		if !more {
			break
		}
	}
	return maps.Clone(rc.counts), nil
}

// metrics answers in the Prometheus text format (version 0.0.4).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	snap := s.st.snap.Load()
	pool := snap.mempool()
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
	value("cnj_mempool_txs", uint64(len(pool.txs)))
	metric("cnj_mempool_fees", "gauge", "Sum of the fees of the mempool's transfers, in base units.")
	value("cnj_mempool_fees", pool.fees)
	if rerr == nil {
		metric("cnj_rejects_total", "counter", "Refused transfers and blocks in "+chaindir.RejectsFile+", by reason.")
		reasons := make([]string, 0, len(rejects))
		for k := range rejects {
			reasons = append(reasons, k)
		}
		slices.Sort(reasons)
		for _, k := range reasons {
			value(`cnj_rejects_total{reason="`+labelEscaper.Replace(k)+`"}`, rejects[k])
		}
	} else {
		s.log.Printf("metrics: %s: %v", chaindir.RejectsFile, rerr)
	}
	s.chainMetrics(&b, metric)
	s.relayMetrics(&b, metric)
	s.mineMetrics(&b, metric)
	metric("cnj_http_rate_limited_total", "counter", "Requests refused with 429.")
	value("cnj_http_rate_limited_total", s.limited.Load())
	metric("cnj_http_panics_total", "counter", "Requests whose handler panicked.")
	value("cnj_http_panics_total", s.panics.Load())
	metric("cnj_http_busy_total", "counter", "Requests refused with 503 busy: no turn to read or download the whole chain.")
	value("cnj_http_busy_total", s.busy.Load())
	appendRuntime(&b, metric)
	write(w, []string{"text/plain; version=0.0.4; charset=utf-8"}, b.Bytes())
}

// hashrateBlocks is how many blocks the network hashrate is estimated
// over (as bitcoind's getnetworkhashps, 120).
const hashrateBlocks = 120

// networkHashrate estimates the hashes a second the network spends: the
// work of the last hashrateBlocks blocks of n's main chain (each the
// hashes its target takes on average) over the time they took, from
// their timestamps. It is 0 when they took no time (too few blocks, or
// timestamps that do not move on).
func networkHashrate(n *node.Node) float64 { return hashrateAt(n.Chain().Tip(), hashrateBlocks) }

// hashrateAt is networkHashrate over the k blocks ending at tip.
func hashrateAt(tip *chain.BlockNode, k int) float64 {
	first := tip
	work := new(big.Int)
	for i := 0; i < k && first.Parent != nil; i++ {
		work.Add(work, pow.Work(&first.Target))
		first = first.Parent
	}
	secs := tip.Timestamp - first.Timestamp
	if secs <= 0 {
		return 0
	}
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(work), new(big.Float).SetInt64(secs)).Float64()
	return f
}

// chainMetrics appends what the chain says of the network: the estimated
// hashrate.
func (s *Server) chainMetrics(b *bytes.Buffer, metric func(name, typ, help string)) {
	n := s.st.rlock()
	if n == nil {
		return
	}
	rate := networkHashrate(n)
	s.st.runlock()
	metric("cnj_network_hashrate", "gauge", "Estimated hashes a second of the whole network: the work of the last "+strconv.Itoa(hashrateBlocks)+" blocks over the time their timestamps span.")
	b.WriteString("cnj_network_hashrate " + strconv.FormatFloat(rate, 'g', -1, 64) + "\n")
}

// mineMetrics appends the node's own mining, from the stats files of the
// cnj-mine processes on the directory (mine-PID.json): fresh ones summed.
func (s *Server) mineMetrics(b *bytes.Buffer, metric func(name, typ, help string)) {
	all, err := chaindir.Dir(s.cfg.Chain).ListRelayStats()
	if err != nil {
		s.log.Printf("metrics: mine stats files: %v", err)
		return
	}
	var files []chaindir.RelayStatsFile
	for _, f := range all {
		if f.Kind == chaindir.MineKind && f.PID > 0 && !f.Tmp {
			files = append(files, f)
		}
	}
	d := s.readRelayDir(chaindir.MineKind, "", files, time.Now())
	metric("cnj_mine_running", "gauge", "cnj-mine processes on this chain directory that rewrote their stats file in the last "+s.cfg.RelayStale.String()+".")
	b.WriteString("cnj_mine_running " + strconv.FormatUint(d.running, 10) + "\n")
	if d.running == 0 {
		return
	}
	metric("cnj_mine_hashes_total", "counter", "Proofs of work the running cnj-mine processes tried: its rate is this node's own hashrate.")
	b.WriteString("cnj_mine_hashes_total " + strconv.FormatUint(d.sum.Hashes, 10) + "\n")
	metric("cnj_mine_blocks_total", "counter", "Blocks the running cnj-mine processes found and stored.")
	b.WriteString("cnj_mine_blocks_total " + strconv.FormatUint(d.sum.Blocks, 10) + "\n")
}

// labelEscaper escapes a label value of the text format.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// DefaultRelayStale is Config.RelayStale when zero: the age of a relay
// stats file beyond which its process is taken as gone.
const DefaultRelayStale = chaindir.RelayStatsStale

// maxRelayFiles bounds the relay stats files read of each direction.
const maxRelayFiles = 64

// relayDirections are the two kinds of stats file (chaindir.RelayListen,
// chaindir.RelaySend) and the direction label of each.
var relayDirections = []struct{ kind, label string }{
	{chaindir.RelayListen, "in"},
	{chaindir.RelaySend, "out"},
}

// relayDir is the traffic of one direction: the sum of its fresh files.
type relayDir struct {
	label   string // the direction label
	running uint64 // fresh files summed
	oldest  int64  // the time of the oldest
	sum     chaindir.RelayStats
}

// readRelayDir sums the fresh stats files of one kind: the
// maxRelayFiles newest by modification time when there are more
// (logged). A file that cannot be read is logged and left out; a stale
// one is left out.
func (s *Server) readRelayDir(kind, label string, files []chaindir.RelayStatsFile, now time.Time) relayDir {
	d := relayDir{label: label}
	if len(files) > maxRelayFiles {
		s.log.Printf("metrics: %d %s-*.json files: reading the %d newest", len(files), kind, maxRelayFiles)
		mtime := make(map[string]time.Time, len(files))
		for _, f := range files {
			if fi, err := f.Entry.Info(); err == nil {
				mtime[f.Name] = fi.ModTime()
			}
		}
		slices.SortFunc(files, func(a, b chaindir.RelayStatsFile) int { return mtime[b.Name].Compare(mtime[a.Name]) })
		files = files[:maxRelayFiles]
	}
	dir := chaindir.Dir(s.cfg.Chain)
	for _, f := range files {
		st, err := dir.ReadRelayStats(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // its relay stopped since the listing
		}
		if err != nil {
			s.log.Printf("metrics: %s: %v", f.Name, err)
			continue
		}
		if now.Sub(time.Unix(st.Time, 0)).Abs() > s.cfg.RelayStale {
			continue
		}
		d.sum.Add(st)
		if d.running == 0 || st.Time < d.oldest {
			d.oldest = st.Time
		}
		d.running++
	}
	return d
}

// relayDirs returns the traffic of each of relayDirections at now: the
// sum of its fresh stats files (readRelayDir).
func (s *Server) relayDirs(now time.Time) ([]relayDir, error) {
	all, err := chaindir.Dir(s.cfg.Chain).ListRelayStats()
	if err != nil {
		return nil, err
	}
	dirs := make([]relayDir, len(relayDirections))
	for i, k := range relayDirections {
		var files []chaindir.RelayStatsFile
		for _, f := range all {
			if f.Kind == k.kind && f.PID > 0 && !f.Tmp {
				files = append(files, f)
			}
		}
		dirs[i] = s.readRelayDir(k.kind, k.label, files, now)
	}
	return dirs, nil
}

// relayMetrics appends the relay traffic: for each direction, the sum of
// the fresh stats files that could be read.
func (s *Server) relayMetrics(b *bytes.Buffer, metric func(name, typ, help string)) {
	dirs, err := s.relayDirs(time.Now())
	if err != nil {
		s.log.Printf("metrics: relay stats files: %v", err)
		return
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
