package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
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
	DefaultStatsStale = 15 * time.Second
)

// statsTimes are the times of a stats file: every, heartbeat and stale
// as the defaults above.
type statsTimes struct{ every, heartbeat, stale time.Duration }

// maxStatsFile bounds what is read of a stats file another process wrote.
const maxStatsFile = 64 << 10

// ListenStats are a Listener's counters since it started. Connected is a
// gauge; every other field only grows.
type ListenStats struct {
	Connected     int64  `json:"connected"`       // peers past their hello now
	Accepted      uint64 `json:"accepted"`        // connections taken within the limits
	RefusedCutOff uint64 `json:"refused_cut_off"` // connections refused: the IP is cut off
	RefusedLimit  uint64 `json:"refused_limit"`   // connections refused: MaxConns or MaxConnsPerIP
	HelloFailed   uint64 `json:"hello_failed"`    // connections closed without a hello of this network and version
	LinesTx       uint64 `json:"lines_tx"`        // new transfer lines passed on
	LinesBlock    uint64 `json:"lines_block"`     // new block lines passed on
	Bytes         uint64 `json:"bytes"`           // read after the hellos, newlines and keep-alives included
	Duplicates    uint64 `json:"duplicates"`      // lines dropped as seen before
	BadLines      uint64 `json:"bad_lines"`       // lines refused: they do not decode, or are over a limit
	CutOffs       uint64 `json:"cut_offs"`        // times a peer IP was cut off
}

// SendStats are the counters of one Send since it started. Peers and
// Connected are gauges; every other field only grows.
type SendStats struct {
	Peers      int64  `json:"peers"`       // peers Send keeps a connection to, connected or not
	Connected  int64  `json:"connected"`   // of them, connected now (hellos exchanged)
	LinesTx    uint64 `json:"lines_tx"`    // transfer lines written, once per peer
	LinesBlock uint64 `json:"lines_block"` // block lines written, once per peer
	Bytes      uint64 `json:"bytes"`       // written, newlines and keep-alives included
	Duplicates uint64 `json:"duplicates"`  // input lines not sent: sent before
	BadLines   uint64 `json:"bad_lines"`   // input lines not sent: they do not decode, or are over a limit
	QueueFull  uint64 `json:"queue_full"`  // lines a peer missed: its queue was full (or thrown away with it)
	NotReading uint64 `json:"not_reading"` // peers dropped for not reading
}

// listenCounters are ListenStats as atomics: one add per event, no lock
// on the path of a line.
type listenCounters struct {
	connected                                          atomic.Int64
	accepted, refusedCutOff, refusedLimit, helloFailed atomic.Uint64
	linesTx, linesBlock, bytes, duplicates, badLines   atomic.Uint64
	cutOffs                                            atomic.Uint64
}

func (c *listenCounters) load() ListenStats {
	return ListenStats{
		Connected: c.connected.Load(), Accepted: c.accepted.Load(),
		RefusedCutOff: c.refusedCutOff.Load(), RefusedLimit: c.refusedLimit.Load(), HelloFailed: c.helloFailed.Load(),
		LinesTx: c.linesTx.Load(), LinesBlock: c.linesBlock.Load(), Bytes: c.bytes.Load(),
		Duplicates: c.duplicates.Load(), BadLines: c.badLines.Load(), CutOffs: c.cutOffs.Load(),
	}
}

// sendCounters are SendStats as atomics, but for Peers, which is counted
// when read.
type sendCounters struct {
	connected                                   atomic.Int64
	linesTx, linesBlock, bytes                  atomic.Uint64
	duplicates, badLines, queueFull, notReading atomic.Uint64
}

func (c *sendCounters) load() SendStats {
	return SendStats{
		Connected: c.connected.Load(), LinesTx: c.linesTx.Load(), LinesBlock: c.linesBlock.Load(),
		Bytes: c.bytes.Load(), Duplicates: c.duplicates.Load(), BadLines: c.badLines.Load(),
		QueueFull: c.queueFull.Load(), NotReading: c.notReading.Load(),
	}
}

// Stats returns the listener's counters.
func (l *Listener) Stats() ListenStats { return l.stats.load() }

// stats returns the sender's counters.
func (s *sender) stats() SendStats {
	st := s.st.load()
	s.mu.Lock()
	st.Peers = int64(len(s.peers))
	s.mu.Unlock()
	return st
}

// statsFile is the stats file of one process in the chain directory,
// statsName(kind, pid):
//
//	{"time":T,"pid":P,COUNTERS...}
//
// one line, written when the process starts, replaced atomically (a
// temporary file renamed over it) when the counters changed, at most
// every StatsEvery, and at least every StatsHeartbeat (of the process's
// config); removed when the process stops. It is not fsynced: it is not
// data, and a reader skips a file that a crash left empty.
//
// Each process has its own file, so that two of a kind on one chain
// directory (the two cnj-relay send of a node that mines) both count;
// readers sum them. The file of a process that could not remove it (it
// was killed) is swept by the other relay processes on the directory.
type statsFile struct {
	dir, name, path string
	pid             int
	logf            func(string, ...any)
	times           statsTimes

	body      []byte    // the counters last written, as JSON
	written   time.Time // when
	swept     time.Time // when the stale files were last looked for
	errLogged time.Time
}

func newStatsFile(dir, kind string, logf func(string, ...any), times statsTimes) *statsFile {
	pid := os.Getpid()
	name := statsName(kind, pid)
	return &statsFile{dir: dir, name: name, path: chainPath(dir, name), pid: pid, logf: logf, times: times}
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
	if err != nil || len(body) < 2 || body[0] != '{' {
		return // the counter structs always marshal to an object
	}
	now := time.Now()
	if bytes.Equal(body, f.body) && now.Sub(f.written) < f.times.heartbeat {
		return
	}
	line := make([]byte, 0, len(body)+48)
	line = append(line, `{"time":`...)
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, `,"pid":`...)
	line = strconv.AppendInt(line, int64(f.pid), 10)
	if len(body) > 2 {
		line = append(line, ',')
	}
	line = append(append(line, body[1:]...), '\n')
	if err := chaindir.ReplaceFile(f.path, line, false); err != nil {
		f.errorf("%s: %v", f.name, err)
		return
	}
	f.body, f.written = body, now
}

// remove removes the file as the process stops: its counts leave the sums
// of the readers with it, which Prometheus takes as a counter reset.
func (f *statsFile) remove() {
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
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
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		f.errorf("sweeping the stats files: %v", err)
		return
	}
	for _, e := range ents {
		pid, tmp, ok := parseStatsName(e.Name())
		if !ok || pid == f.pid || !e.Type().IsRegular() {
			continue // not a stats file, this process's, or not a file a relay wrote
		}
		age, removed, err := removeStale(chainPath(f.dir, e.Name()), tmp, now, f.times.stale)
		switch {
		case err != nil:
			f.errorf("%s: not rewritten for %s, cannot be removed: %v", e.Name(), human(age.Abs().Round(time.Second)), err)
		case removed:
			f.logf("%s: removed, not rewritten for %s: its process is gone", e.Name(), human(age.Abs().Round(time.Second)))
		}
	}
}

// removeStale removes the stats file at path if it was not rewritten for
// stale: its time says when, or its modification time when it has none
// (a temporary file, a file a crash left empty). A file written more than
// stale ahead of now (the clock was set back) is stale too: a
// process that runs rewrites it at its next heartbeat. It returns how old
// the file is and whether it removed it; the error is that of the removal
// (a file that cannot be read, or is gone, is left to the next sweep).
func removeStale(path string, tmp bool, now time.Time, stale time.Duration) (time.Duration, bool, error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, false, nil
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false, nil
	}
	written := fi.ModTime()
	if !tmp {
		b, _ := io.ReadAll(io.LimitReader(file, maxStatsFile+1))
		var h struct {
			Time int64 `json:"time"`
		}
		if len(b) <= maxStatsFile && json.Unmarshal(b, &h) == nil && h.Time > 0 {
			written = time.Unix(h.Time, 0)
		}
	}
	age := now.Sub(written)
	if age.Abs() <= stale {
		return age, false, nil
	}
	// Unless a process replaced the file since it was read.
	if cur, err := os.Lstat(path); err != nil || !os.SameFile(fi, cur) {
		return age, false, nil
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = nil // another relay removed it
		}
		return age, false, err
	}
	return age, true, nil
}

// errorf logs an error of the stats file at most once a minute.
func (f *statsFile) errorf(format string, args ...any) {
	if now := time.Now(); now.Sub(f.errLogged) >= time.Minute {
		f.logf(format, args...)
		f.errLogged = now
	}
}
