package chaindir

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/coniunctum/cnj/lib/rule"
)

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
