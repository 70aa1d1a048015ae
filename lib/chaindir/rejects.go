package chaindir

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/coniunctum/cnj/lib/rule"
)

// Reject is one line of rejects.log (cnj-format(5)): what was refused,
// from whom and why. Exactly one of ID (a transfer's id), Hash (a block's
// hash) and Line (the input line, when the record did not parse far
// enough to name it) is written, in that order of preference:
//
//	{"time":T,"from":"IP","reason":CODE,"id":HEX32|"hash":HEX64|"line":N,"msg":"..."}
//
// "from" is "" for local input.
type Reject struct {
	Time   int64     // Unix seconds
	From   string    // the sending peer's IP, "" for local input
	Reason rule.Code // e.g. bad-signature
	ID     []byte    // 16 bytes, or nil
	Hash   []byte    // 32 bytes, or nil
	Line   int       // 1-based input line
	Msg    string    // the verdict's message, for a person
}

// AppendJSON appends r's JSON line (no newline).
func (r *Reject) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":`...)
	b = strconv.AppendInt(b, max(r.Time, 0), 10)
	b = append(b, `,"from":`...)
	b = appendJSONString(b, r.From)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, string(r.Reason))
	switch {
	case len(r.ID) == 16:
		b = append(b, `,"id":"`...)
		b = hex.AppendEncode(b, r.ID)
		b = append(b, '"')
	case len(r.Hash) == 32:
		b = append(b, `,"hash":"`...)
		b = hex.AppendEncode(b, r.Hash)
		b = append(b, '"')
	default:
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(max(r.Line, 0)), 10)
	}
	b = append(b, `,"msg":`...)
	b = appendJSONString(b, r.Msg)
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	q, err := json.Marshal(s) // escapes control characters and invalid UTF-8
	if err != nil {
		panic(err) // a string always marshals
	}
	return append(b, q...)
}

// LogReject appends r to the directory's rejects.log in a single O_APPEND
// write, so lines from processes logging at once never interleave. It
// takes no lock. This is the one writer of rejects.log.
func (d Dir) LogReject(r Reject) error {
	if r.ID != nil && len(r.ID) != 16 || r.Hash != nil && len(r.Hash) != 32 {
		return fmt.Errorf("reject: id of %d bytes, hash of %d bytes", len(r.ID), len(r.Hash))
	}
	if r.Reason == "" {
		return errors.New("reject: no reason code")
	}
	line := append(r.AppendJSON(make([]byte, 0, 256)), '\n')
	f, err := os.OpenFile(d.File(RejectsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// RejectEntry is what a reader of rejects.log needs of one line: who and
// why. Reason is "" for a line that is not a reject line (it does not
// parse, or has no reason).
type RejectEntry struct {
	From   string
	Reason rule.Code
}

// RejectTail follows rejects.log: each Read returns the entries of the
// complete lines appended since the last one. This is the one reader of
// rejects.log (cnj-relay's cut-offs, cnj-serve's /metrics). It opens the
// file through an os.Root on the directory, under its fixed name, and
// reads only a regular file.
type RejectTail struct {
	dir  string
	off  int64
	fi   os.FileInfo
	part []byte // an incomplete last line
	skip bool   // dropping the rest of an over-long line
}

// Limits of a RejectTail: what one Read reads at most, and the longest
// line it keeps whole (a longer one is one entry without a reason).
const (
	maxTailRead = 4 << 20
	maxLine     = 64 << 10
)

// TailRejects returns a tail of the directory's rejects.log that starts at
// its current end (fromEnd) or at its beginning.
func (d Dir) TailRejects(fromEnd bool) *RejectTail {
	t := &RejectTail{dir: string(d)}
	if fromEnd {
		if fi, err := os.Stat(d.File(RejectsFile)); err == nil {
			t.off, t.fi = fi.Size(), fi
		}
	}
	return t
}

// Read returns the entries of the lines appended since the last Read, at
// most about 4 MiB of them (call again for more while more is true), and
// whether reading started over: the file was removed, replaced or shrank
// since, and is read again from its start.
func (t *RejectTail) Read() (entries []RejectEntry, restarted, more bool, err error) {
	f, err := os.OpenInRoot(t.dir, RejectsFile)
	if errors.Is(err, fs.ErrNotExist) {
		restarted = t.fi != nil || t.off > 0
		t.off, t.fi, t.part, t.skip = 0, nil, nil, false
		return nil, restarted, false, nil
	}
	if err != nil {
		return nil, false, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, false, errors.New(RejectsFile + " is not a regular file")
	}
	if t.fi != nil && !os.SameFile(t.fi, fi) || fi.Size() < t.off {
		t.off, t.part, t.skip = 0, nil, false
		restarted = true
	}
	t.fi = fi
	if fi.Size() == t.off {
		return nil, restarted, false, nil
	}
	buf := make([]byte, min(fi.Size()-t.off, maxTailRead))
	n, err := f.ReadAt(buf, t.off)
	if err != nil && err != io.EOF {
		return nil, restarted, false, err
	}
	t.off += int64(n)
	more = t.off < fi.Size()
	data := append(t.part, buf[:n]...)
	t.part = nil
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(data) <= maxLine && !t.skip {
				t.part = bytes.Clone(data)
			} else if !t.skip {
				entries = append(entries, RejectEntry{})
				t.skip = true
			}
			break
		}
		if t.skip {
			t.skip = false
		} else if i > 0 {
			entries = append(entries, parseReject(data[:i]))
		}
		data = data[i+1:]
	}
	return entries, restarted, more, nil
}

func parseReject(line []byte) RejectEntry {
	var e struct {
		From   string    `json:"from"`
		Reason rule.Code `json:"reason"`
	}
	if len(line) > maxLine || json.Unmarshal(line, &e) != nil || len(e.Reason) > 64 {
		return RejectEntry{}
	}
	return RejectEntry{From: e.From, Reason: e.Reason}
}
