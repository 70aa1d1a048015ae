package chaindir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/rule"
)

// The record of transfers that left the main chain back into the mempool,
// or left the mempool unmined (cnj-format(5)): mempool-events.jsonl, one
// JSON line per event,
//
//	{"time":T,"event":"returned","block":HEX64,"tx":{...}}
//	{"time":T,"event":"dropped","reason":CODE,"tx":{...}}
//
// "returned": a reorganization disconnected block HEX64, which held the
// transfer, and the transfer went back into the pool (it is pending
// again); "dropped": the pool let go of the transfer unmined, for the
// reason CODE (a rule code: insufficient-funds, duplicate-id, bad-tx-time,
// immature-spend, evicted). "tx" is the transfer's line as in
// mempool.jsonl.
//
// Whoever moves the tip or changes the pool writes it, under the
// directory's Lock (LogPoolEvents); cnj-relay send follows it
// (TailPoolEvents) to announce the returned transfers to its peers, and
// the node reads it (ReadPoolEvents) to tell a wallet holder what became
// of a transfer. It cannot be rebuilt from the blocks (a drop leaves no
// trace there): cnj-chain reindex leaves it alone.
const (
	// EventReturned and EventDropped are the two kinds of event.
	EventReturned = "returned"
	EventDropped  = "dropped"
	// MaxPoolEvents bounds the file: the write that would take it past
	// this size first rewrites it with its newest lines that fill at
	// most half of it.
	MaxPoolEvents = 4 << 20
)

// PoolEvent is one line of mempool-events.jsonl.
type PoolEvent struct {
	Time   int64     // Unix seconds
	Event  string    // EventReturned or EventDropped
	Block  [32]byte  // returned: the block it left the main chain with
	Reason rule.Code // dropped: why
	Tx     []byte    // the transfer's JSON line (a JSON object)

	// Read back from Tx (ParsePoolEvent): who, which and what.
	ID     [16]byte
	Sender string
	Hash   [32]byte
}

// AppendJSON appends e's JSON line (no newline). Tx must be the
// transfer's JSON object; ID, Sender and Hash are not written (they are
// Tx's).
func (e *PoolEvent) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":`...)
	b = strconv.AppendInt(b, max(e.Time, 0), 10)
	b = append(b, `,"event":`...)
	b = appendJSONString(b, e.Event)
	if e.Event == EventReturned {
		b = append(b, `,"block":"`...)
		b = chainhash.Hash(e.Block).AppendHex(b)
		b = append(b, '"')
	} else {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, string(e.Reason))
	}
	b = append(b, `,"tx":`...)
	b = append(b, e.Tx...)
	return append(b, '}')
}

// ParsePoolEvent reads one line of the file. A line that is not an event
// (a line torn by a crash, a hand edit) is not ok.
func ParsePoolEvent(line []byte) (e PoolEvent, ok bool) {
	var l struct {
		Time   int64           `json:"time"`
		Event  string          `json:"event"`
		Block  string          `json:"block"`
		Reason string          `json:"reason"`
		Tx     json.RawMessage `json:"tx"`
	}
	if len(line) > maxLine || json.Unmarshal(line, &l) != nil || len(l.Tx) == 0 || l.Tx[0] != '{' {
		return e, false
	}
	var t struct {
		ID     string `json:"id"`
		Sender string `json:"sender"`
		Hash   string `json:"hash"`
	}
	if json.Unmarshal(l.Tx, &t) != nil || t.Sender == "" {
		return e, false
	}
	id, err1 := chainhash.ParseID(t.ID)
	hash, err2 := chainhash.ParseHash(t.Hash)
	if err1 != nil || err2 != nil {
		return e, false
	}
	e = PoolEvent{Time: l.Time, Event: l.Event, Tx: []byte(l.Tx), ID: id, Sender: t.Sender, Hash: hash}
	switch l.Event {
	case EventReturned:
		b, err := chainhash.ParseHash(l.Block)
		if err != nil {
			return e, false
		}
		e.Block = b
	case EventDropped:
		if l.Reason == "" || len(l.Reason) > 64 {
			return e, false
		}
		e.Reason = rule.Code(l.Reason)
	default:
		return e, false
	}
	return e, true
}

// LogPoolEvents appends events to mempool-events.jsonl, in one write,
// fsynced. Only the holder of Lock calls it (the one writer of the
// file). When the file would pass MaxPoolEvents it is first rewritten
// (WriteAtomic) with its newest lines that fill at most half of it, and
// the events appended after them: a reader following the file finds the
// last line it read and goes on from there (PoolEventTail).
func (d Dir) LogPoolEvents(events []PoolEvent) error {
	if len(events) == 0 {
		return nil
	}
	var add []byte
	for i := range events {
		e := &events[i]
		if e.Event != EventReturned && e.Event != EventDropped || len(e.Tx) == 0 {
			return fmt.Errorf("%s: event %q without a transfer", MempoolEventsFile, e.Event)
		}
		add = append(e.AppendJSON(add), '\n')
	}
	path := d.File(MempoolEventsFile)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case fi.Size()+int64(len(add)) > MaxPoolEvents:
		old, err := ReadFileMax(path, 2*MaxPoolEvents, nil)
		if err != nil {
			return err
		}
		out := add
		if room := MaxPoolEvents/2 - len(add); room > 0 {
			out = append(newestLines(old, room), add...)
		} else {
			out = newestLines(add, MaxPoolEvents/2) // one huge write: its newest
		}
		return WriteAtomic(path, out)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(add)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// newestLines returns the last complete lines of b that fit in room bytes.
func newestLines(b []byte, room int) []byte {
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1] // a torn last line goes
	} else {
		return nil
	}
	start := len(b)
	for start > 0 {
		i := bytes.LastIndexByte(b[:start-1], '\n') + 1
		if len(b)-i > room {
			break
		}
		start = i
	}
	return b[start:]
}

// ReadPoolEvents returns the events of mempool-events.jsonl, oldest first,
// and the file's Stamp as read (the zero Stamp when it does not exist), so
// that a reader can skip a file that did not change. Lines that are not
// events are skipped.
func (d Dir) ReadPoolEvents() ([]PoolEvent, Stamp, error) {
	data, st, err := ReadFileStamp(d.File(MempoolEventsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Stamp{}, nil
	}
	if err != nil {
		return nil, Stamp{}, err
	}
	if len(data) > 2*MaxPoolEvents {
		return nil, Stamp{}, fmt.Errorf("%s: %d bytes, more than %d", MempoolEventsFile, len(data), 2*MaxPoolEvents)
	}
	var out []PoolEvent
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if e, ok := ParsePoolEvent(line); ok {
			out = append(out, e)
		}
	}
	return out, st, nil
}

// PoolEventsStamp returns the Stamp of mempool-events.jsonl, the zero
// Stamp when it does not exist: a reader of ReadPoolEvents reads it again
// only when it changed.
func (d Dir) PoolEventsStamp() (Stamp, error) {
	st, err := StampFile(d.File(MempoolEventsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Stamp{}, nil
	}
	return st, err
}

// PoolEventTail follows mempool-events.jsonl: each Read returns the
// events of the lines appended since the last one. When the writer
// rewrote the file (LogPoolEvents keeps its newest lines), the tail goes
// on after the last line it had read, found again in the new file, or
// from the start when it is gone. It opens the file through an os.Root on
// the directory and reads only a regular file.
type PoolEventTail struct {
	dir  string
	cur  cursor
	last []byte // the last line read, to find again in a rewritten file
}

// TailPoolEvents returns a tail of the directory's mempool-events.jsonl
// that starts at its current end: what was recorded before is not news.
func (d Dir) TailPoolEvents() *PoolEventTail {
	t := &PoolEventTail{dir: string(d)}
	if f, fi, err := openRegular(t.dir, MempoolEventsFile); err == nil && f != nil {
		defer f.Close()
		t.cur.fi, t.cur.off = fi, fi.Size()
		t.last = lastLine(f, fi.Size())
	}
	return t
}

// lastLine returns the last complete line of f, of size bytes, when it is
// at most maxLine long.
func lastLine(f *os.File, size int64) []byte {
	n := min(size, maxLine+1)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return nil
	}
	if len(buf) == 0 || buf[len(buf)-1] != '\n' {
		return nil
	}
	buf = buf[:len(buf)-1]
	i := bytes.LastIndexByte(buf, '\n')
	if i < 0 && n > maxLine {
		return nil
	}
	return bytes.Clone(buf[i+1:])
}

// Read returns the events of the lines appended since the last Read, at
// most about 4 MiB of them (call again for more while more is true).
// Lines that are not events are skipped.
func (t *PoolEventTail) Read() (events []PoolEvent, more bool, err error) {
	f, fi, err := openRegular(t.dir, MempoolEventsFile)
	if err != nil || f == nil {
		t.cur = cursor{}
		return nil, false, err
	}
	defer f.Close()
	if t.cur.fi != nil && (!os.SameFile(t.cur.fi, fi) || fi.Size() < t.cur.off) {
		// Rewritten: go on after the last line read, if it is still there.
		t.cur = cursor{}
		if t.last != nil {
			data, err := ReadAllMax(f, MempoolEventsFile, 2*MaxPoolEvents, nil)
			if err != nil {
				return nil, false, err
			}
			if i := lastIndexLine(data, t.last); i >= 0 {
				t.cur.off = int64(i + len(t.last) + 1)
			}
		}
	}
	t.cur.fi = fi
	err = t.cur.lines(f, fi, func(line []byte) {
		if line == nil {
			return
		}
		t.last = bytes.Clone(line)
		if e, ok := ParsePoolEvent(line); ok {
			events = append(events, e)
		}
	})
	return events, t.cur.off < fi.Size(), err
}

// lastIndexLine returns where the last whole line equal to line starts in
// data, or -1.
func lastIndexLine(data, line []byte) int {
	for end := len(data); end > 0; {
		i := bytes.LastIndex(data[:end], line)
		if i < 0 {
			return -1
		}
		if (i == 0 || data[i-1] == '\n') && i+len(line) < len(data) && data[i+len(line)] == '\n' {
			return i
		}
		end = i + len(line) - 1
	}
	return -1
}
