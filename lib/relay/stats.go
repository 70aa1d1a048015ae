package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// How the counters reach the stats files. Tests lower them.
var (
	// StatsEvery is how often a process looks at its counters and
	// rewrites its stats file if they changed.
	StatsEvery = time.Second
	// StatsHeartbeat is the longest a stats file goes without being
	// rewritten, changed or not, so that its time tells that the process
	// runs.
	StatsHeartbeat = 5 * time.Second
	// StatsStale is the age after which a stats file is taken for that of
	// a process that is gone: another process may replace it. Readers
	// (cnj-serve's /metrics) use the same age.
	StatsStale = 15 * time.Second
)

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

// statsFile is the stats file of one process in the chain directory:
//
//	{"time":T,"pid":P,COUNTERS...}
//
// one line, replaced atomically (a temporary file renamed over it) when
// the counters changed, at most every StatsEvery, and at least every
// StatsHeartbeat. It is not fsynced: it is not data, and a reader skips a
// file that a crash left empty.
//
// One process writes it. A process leaves alone a file that another
// running process rewrote within StatsStale (two cnj-relay send on one
// chain directory, as a node that mines runs), and says so once; it takes
// the file over when that process is gone.
type statsFile struct {
	path, name string
	pid        int
	logf       func(string, ...any)

	body      []byte    // the counters last written, as JSON
	written   time.Time // when
	yielded   int       // the process last logged as keeping the file
	errLogged time.Time
}

func newStatsFile(dir, name string, logf func(string, ...any)) *statsFile {
	return &statsFile{path: chainPath(dir, name), name: name, pid: os.Getpid(), logf: logf}
}

// run updates the file with what counters returns every StatsEvery until
// ctx is done. The caller makes the last update.
func (f *statsFile) run(ctx context.Context, counters func() any) {
	t := time.NewTicker(StatsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.update(counters(), false)
		}
	}
}

// update writes the counters v if they changed since the last write, the
// heartbeat is due, or final is set (the process stops).
func (f *statsFile) update(v any, final bool) {
	body, err := json.Marshal(v)
	if err != nil || len(body) < 2 || body[0] != '{' {
		return // the counter structs always marshal to an object
	}
	now := time.Now()
	if !final && bytes.Equal(body, f.body) && now.Sub(f.written) < StatsHeartbeat {
		return
	}
	if other := f.keeper(now); other != 0 {
		if other != f.yielded {
			f.logf("%s: kept by process %d, another cnj-relay on this chain directory: this one's counters are not written", f.name, other)
			f.yielded = other
		}
		return
	}
	f.yielded = 0
	line := make([]byte, 0, len(body)+48)
	line = append(line, `{"time":`...)
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, `,"pid":`...)
	line = strconv.AppendInt(line, int64(f.pid), 10)
	if len(body) > 2 {
		line = append(line, ',')
	}
	line = append(append(line, body[1:]...), '\n')
	if err := replaceFile(f.path, line, false); err != nil {
		if now.Sub(f.errLogged) >= time.Minute {
			f.logf("%s: %v", f.name, err)
			f.errLogged = now
		}
		return
	}
	f.body, f.written = body, now
}

// keeper returns the process id of another running process that keeps
// the file, or 0 when this one may write it: the file is missing,
// unreadable, this process's, older than StatsStale, or of a process that
// is gone.
func (f *statsFile) keeper(now time.Time) int {
	b, err := readSmall(f.path, maxStatsFile)
	if err != nil {
		return 0
	}
	var h struct {
		Time int64 `json:"time"`
		PID  int   `json:"pid"`
	}
	if json.Unmarshal(b, &h) != nil || h.PID <= 0 || h.PID == f.pid {
		return 0
	}
	if now.Sub(time.Unix(h.Time, 0)) > StatsStale || !running(h.PID) {
		return 0
	}
	return h.PID
}

// running reports whether a process pid exists (signal 0 reaches it, or
// it belongs to another user).
func running(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	defer p.Release()
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
