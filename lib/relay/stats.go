package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sync/atomic"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
)

// How the counters reach the stats files: ListenConfig and SendConfig
// fields left zero take these values.
const (
	// DefaultStatsEvery is how often a process looks at its counters and
	// rewrites its stats file if they changed.
	DefaultStatsEvery = time.Second
	// DefaultStatsHeartbeat is the longest a stats file goes without being
	// rewritten, changed or not, so that its time tells that the process
	// runs.
	DefaultStatsHeartbeat = 5 * time.Second
	// DefaultStatsStale is the age after which a stats file is taken for
	// that of a process that is gone: the other relay processes remove it,
	// and readers (cnj-serve's /metrics) leave it out.
	DefaultStatsStale = chaindir.RelayStatsStale
)

// statsTimes are the times of a stats file: every, heartbeat and stale
// as the defaults above.
type statsTimes struct{ every, heartbeat, stale time.Duration }

// listenCounters are chaindir.RelayListenStats as atomics: one add per
// event, no lock on the path of a line.
type listenCounters struct {
	connected                                          atomic.Int64
	accepted, refusedCutOff, refusedLimit, helloFailed atomic.Uint64
	linesTx, linesBlock, bytes, duplicates, badLines   atomic.Uint64
	cutOffs                                            atomic.Uint64
}

func (c *listenCounters) load() chaindir.RelayListenStats {
	return chaindir.RelayListenStats{
		Connected: c.connected.Load(), Accepted: c.accepted.Load(),
		RefusedCutOff: c.refusedCutOff.Load(), RefusedLimit: c.refusedLimit.Load(), HelloFailed: c.helloFailed.Load(),
		LinesTx: c.linesTx.Load(), LinesBlock: c.linesBlock.Load(), Bytes: c.bytes.Load(),
		Duplicates: c.duplicates.Load(), BadLines: c.badLines.Load(), CutOffs: c.cutOffs.Load(),
	}
}

// sendCounters are chaindir.RelaySendStats as atomics, but for Peers,
// which is counted when read.
type sendCounters struct {
	connected                                   atomic.Int64
	linesTx, linesBlock, bytes                  atomic.Uint64
	duplicates, badLines, queueFull, notReading atomic.Uint64
}

func (c *sendCounters) load() chaindir.RelaySendStats {
	return chaindir.RelaySendStats{
		Connected: c.connected.Load(), LinesTx: c.linesTx.Load(), LinesBlock: c.linesBlock.Load(),
		Bytes: c.bytes.Load(), Duplicates: c.duplicates.Load(), BadLines: c.badLines.Load(),
		QueueFull: c.queueFull.Load(), NotReading: c.notReading.Load(),
	}
}

// Stats returns the listener's counters.
func (l *Listener) Stats() chaindir.RelayListenStats { return l.stats.load() }

// stats returns the sender's counters.
func (s *sender) stats() chaindir.RelaySendStats {
	st := s.st.load()
	s.mu.Lock()
	st.Peers = int64(len(s.peers))
	s.mu.Unlock()
	return st
}

// statsFile is the stats file of one process in the chain directory
// (chaindir.RelayStatsName(kind, pid)), written when the process starts,
// replaced atomically when the counters changed, at most every
// StatsEvery, and at least every StatsHeartbeat (of the process's config);
// removed when the process stops.
//
// Each process has its own file, so that two of a kind on one chain
// directory (the two cnj-relay send of a node that mines) both count;
// readers sum them. The file of a process that could not remove it (it
// was killed) is swept by the other relay processes on the directory.
type statsFile struct {
	dir   chaindir.Dir
	kind  string
	name  string
	pid   int
	logf  func(string, ...any)
	times statsTimes

	body      []byte    // the counters last written, as JSON
	written   time.Time // when
	swept     time.Time // when the stale files were last looked for
	errLogged time.Time
}

func newStatsFile(dir, kind string, logf func(string, ...any), times statsTimes) *statsFile {
	pid := os.Getpid()
	return &statsFile{dir: chaindir.Dir(dir), kind: kind, name: chaindir.RelayStatsName(kind, pid), pid: pid, logf: logf, times: times}
}

// run writes the file with what counters returns at once, then updates
// it every f.times.every, and sweeps stale files at once and then every
// f.times.heartbeat, until ctx is done. The caller then removes the file.
func (f *statsFile) run(ctx context.Context, counters func() any) {
	f.sweep(time.Now())
	f.update(counters())
	t := time.NewTicker(f.times.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f.update(counters())
			if now.Sub(f.swept) >= f.times.heartbeat {
				f.sweep(now)
			}
		}
	}
}

// update writes the counters v if they changed since the last write or
// the heartbeat is due.
func (f *statsFile) update(v any) {
	body, err := json.Marshal(v)
	if err != nil {
		return // the counter structs always marshal
	}
	now := time.Now()
	if bytes.Equal(body, f.body) && now.Sub(f.written) < f.times.heartbeat {
		return
	}
	if err := f.dir.WriteRelayStats(f.kind, f.pid, body, now); err != nil {
		f.errorf("%s: %v", f.name, err)
		return
	}
	f.body, f.written = body, now
}

// remove removes the file as the process stops: its counts leave the sums
// of the readers with it, which Prometheus takes as a counter reset.
func (f *statsFile) remove() {
	if err := f.dir.RemoveRelayStats(f.kind, f.pid); err != nil {
		f.logf("%s: %v", f.name, err)
	}
}

// sweep removes the stats files of other processes, of both kinds, that
// were not rewritten for f.times.stale, and their temporary files: those
// of processes that were killed. A process that runs rewrites its file at
// least every heartbeat, well within stale; one held up for
// longer that lost its file writes it again at its next heartbeat.
func (f *statsFile) sweep(now time.Time) {
	f.swept = now
	files, err := f.dir.ListRelayStats()
	if err != nil {
		f.errorf("sweeping the stats files: %v", err)
		return
	}
	for _, sf := range files {
		if sf.PID == f.pid || !sf.Entry.Type().IsRegular() {
			continue // this process's, or not a file a relay wrote
		}
		age, removed, err := f.dir.RemoveStaleRelayStats(sf, now, f.times.stale)
		switch {
		case err != nil:
			f.errorf("%s: not rewritten for %s, cannot be removed: %v", sf.Name, human(age.Abs().Round(time.Second)), err)
		case removed:
			f.logf("%s: removed, not rewritten for %s: its process is gone", sf.Name, human(age.Abs().Round(time.Second)))
		}
	}
}

// errorf logs an error of the stats file at most once a minute.
func (f *statsFile) errorf(format string, args ...any) {
	if now := time.Now(); now.Sub(f.errLogged) >= time.Minute {
		f.logf(format, args...)
		f.errLogged = now
	}
}
