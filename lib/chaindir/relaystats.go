package chaindir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// The stats files (cnj-format(5)): one per cnj-relay or cnj-mine process,
// KIND-PID.json in the directory, one JSON object on one line,
//
//	{"time":T,"pid":P,COUNTERS...}
//
// written as the process starts, replaced atomically (not synced: they
// are not data) while its counters change and at least every few seconds,
// and removed when it stops; readers (cnj-serve's /metrics) sum the fresh
// files of a kind, and each relay removes the stale files of killed
// processes. The counters of each kind are RelayListenStats,
// RelaySendStats and MineStats; RelayStats reads any.
const (
	RelayListen = "relay-listen" // the files of cnj-relay listen
	RelaySend   = "relay-send"   // the files of cnj-relay send
	MineKind    = "mine"         // the files of cnj-mine
)

// RelayStatsStale is the age of a stats file beyond which its process is
// taken as gone: a running relay rewrites its file at least every 5
// seconds (package relay's heartbeat) and removes it when it stops; the
// file of one that was killed stays until another relay removes it.
// Readers leave a stale file out.
const RelayStatsStale = 15 * time.Second

// MaxRelayStats bounds what is read of a stats file another process wrote.
const MaxRelayStats = 64 << 10

// RelayStatsName is the stats file of process pid of kind (RelayListen,
// RelaySend or MineKind): relay-listen-PID.json, relay-send-PID.json,
// mine-PID.json.
func RelayStatsName(kind string, pid int) string { return kind + "-" + strconv.Itoa(pid) + ".json" }

// ParseRelayStatsName tells whether name is a stats file of any kind, or
// a temporary file of one (NAME.tmp*, ReplaceFile's), and returns its
// kind and process id: KIND-PID.json, PID a decimal over 0 without
// leading zeros. KIND.json, the one file per kind that cnj-relay wrote
// before each process had its own, is one too, of pid 0 (not for mine,
// which never had one).
func ParseRelayStatsName(name string) (kind string, pid int, tmp, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(name, RelayListen):
		kind, rest = RelayListen, name[len(RelayListen):]
	case strings.HasPrefix(name, RelaySend):
		kind, rest = RelaySend, name[len(RelaySend):]
	case strings.HasPrefix(name, MineKind+"-"):
		kind, rest = MineKind, name[len(MineKind):]
	default:
		return "", 0, false, false
	}
	base, after, found := strings.Cut(rest, ".json")
	switch {
	case !found:
		return "", 0, false, false
	case after == "":
	case strings.HasPrefix(after, ".tmp"):
		tmp = true
	default:
		return "", 0, false, false
	}
	if base == "" {
		return kind, 0, tmp, true
	}
	digits, found := strings.CutPrefix(base, "-")
	pid, err := strconv.Atoi(digits)
	if !found || err != nil || pid <= 0 || strconv.Itoa(pid) != digits {
		return "", 0, false, false
	}
	return kind, pid, tmp, true
}

// WriteRelayStats replaces the stats file of process pid of kind with the
// counters (a JSON object) stamped with now, atomically but not synced.
func (d Dir) WriteRelayStats(kind string, pid int, counters []byte, now time.Time) error {
	if len(counters) < 2 || counters[0] != '{' || counters[len(counters)-1] != '}' {
		return errors.New("relay stats: the counters are not a JSON object")
	}
	line := make([]byte, 0, len(counters)+48)
	line = append(line, `{"time":`...)
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, `,"pid":`...)
	line = strconv.AppendInt(line, int64(pid), 10)
	if len(counters) > 2 {
		line = append(line, ',')
	}
	line = append(append(line, counters[1:]...), '\n')
	return ReplaceFile(d.File(RelayStatsName(kind, pid)), line, false)
}

// RemoveRelayStats removes the stats file of process pid of kind, as the
// process stops; a file already gone is not an error.
func (d Dir) RemoveRelayStats(kind string, pid int) error {
	err := os.Remove(d.File(RelayStatsName(kind, pid)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// RelayStatsFile is a stats file found in the directory.
type RelayStatsFile struct {
	Name string
	Kind string
	PID  int
	Tmp  bool
	// Entry is the directory entry (its type and modification time).
	Entry fs.DirEntry
}

// ListRelayStats returns the stats files of the directory, temporary ones
// included, of every kind.
func (d Dir) ListRelayStats() ([]RelayStatsFile, error) {
	f, err := os.Open(string(d))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []RelayStatsFile
	for {
		ents, err := f.ReadDir(256)
		for _, e := range ents {
			if kind, pid, tmp, ok := ParseRelayStatsName(e.Name()); ok {
				out = append(out, RelayStatsFile{Name: e.Name(), Kind: kind, PID: pid, Tmp: tmp, Entry: e})
			}
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// RelayListenStats are the counters of a cnj-relay listen process (package
// relay's Listener) since it started, as its stats file holds them. Connected is a
// gauge; every other field only grows.
type RelayListenStats struct {
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

// RelaySendStats are the counters of a cnj-relay send process (package
// relay's Send) since it started, as its stats file holds them. Peers and
// Connected are gauges; every other field only grows.
type RelaySendStats struct {
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

// MineStats are the counters of a cnj-mine process since it started, as
// its stats file holds them: proofs tried, and blocks found and stored.
// Both only grow.
type MineStats struct {
	Hashes uint64 `json:"hashes"`
	Blocks uint64 `json:"blocks"`
}

// RelayStats is a stats file's contents: the time it was written, the
// process, and the counters of any kind (those of the other kinds stay
// zero). Unknown fields are ignored, so that a newer process's file is
// still read.
type RelayStats struct {
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
	// mine
	Hashes uint64 `json:"hashes"`
	Blocks uint64 `json:"blocks"`
}

// Add adds the counts and gauges of o to st.
func (st *RelayStats) Add(o *RelayStats) {
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
	st.Hashes += o.Hashes
	st.Blocks += o.Blocks
}

// ReadRelayStats reads the stats file f through an os.Root on the
// directory: a regular file of at most MaxRelayStats bytes, one JSON
// object with a time and the pid of its name. A file that is gone matches
// fs.ErrNotExist.
func (d Dir) ReadRelayStats(f RelayStatsFile) (*RelayStats, error) {
	if !f.Entry.Type().IsRegular() { // not opened: a FIFO would block
		return nil, errors.New("not a regular file")
	}
	file, err := os.OpenInRoot(string(d), f.Name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(file, MaxRelayStats+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRelayStats {
		return nil, fmt.Errorf("over %d bytes", MaxRelayStats)
	}
	var st RelayStats
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Time <= 0 || st.PID <= 0 {
		return nil, errors.New("no time or pid")
	}
	if st.PID != int64(f.PID) {
		return nil, fmt.Errorf("pid %d in the file of process %d", st.PID, f.PID)
	}
	return &st, nil
}

// RemoveStaleRelayStats removes the stats file f if it was not rewritten
// for stale: its time says when, or its modification time when it has
// none (a temporary file, a file a crash left empty). A file written more
// than stale ahead of now (the clock was set back) is stale too: a
// process that runs rewrites it at its next heartbeat. It returns how old
// the file is and whether it removed it; the error is that of the removal
// (a file that cannot be read, or is gone, is left to the next sweep).
func (d Dir) RemoveStaleRelayStats(f RelayStatsFile, now time.Time, stale time.Duration) (time.Duration, bool, error) {
	path := d.File(f.Name)
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
	if !f.Tmp {
		b, _ := io.ReadAll(io.LimitReader(file, MaxRelayStats+1))
		var h struct {
			Time int64 `json:"time"`
		}
		if len(b) <= MaxRelayStats && json.Unmarshal(b, &h) == nil && h.Time > 0 {
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
