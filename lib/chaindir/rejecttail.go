package chaindir

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/rule"
)

// RejectEntry is what a reader of rejects.log needs of one line: who,
// why, and which transfer. Reason is "" for a line that is not a reject
// line (it does not parse, or has no reason); HasID is set when the line
// named a transfer's id.
type RejectEntry struct {
	Time   int64
	From   string
	Reason rule.Code
	ID     chainhash.ID
	HasID  bool
	Msg    string
}

// RejectTail follows rejects.log, across its rotations: each Read returns
// the entries of the complete lines appended since the last one. This is
// the one reader of rejects.log (cnj-relay's cut-offs, cnj-serve's
// /metrics). It opens the files through an os.Root on the directory,
// under their fixed names, and reads only regular files.
type RejectTail struct {
	dir string
	cur cursor // rejects.log
	// prev is the file rejects.log was before its last rotation, while
	// it is still rejects.log.1: a process that opened it before the
	// rename may still append its line.
	prev cursor
}

// cursor is where a tail is in one file.
type cursor struct {
	fi   os.FileInfo // nil: no file yet
	off  int64
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
			t.cur.off, t.cur.fi = fi.Size(), fi
		}
	}
	return t
}

// Read returns the entries of the lines appended since the last Read, at
// most about 4 MiB of them from each file (call again for more while more
// is true), and whether reading started over: the file was removed,
// replaced or shrank since, and is read again from its start. A rotation
// (LogReject renamed the file to rejects.log.1) is followed: the rest of
// the old file is read, then the new one from its start, and that is not
// starting over.
func (t *RejectTail) Read() (entries []RejectEntry, restarted, more bool, err error) {
	if t.prev.fi != nil {
		old, fi, err := t.open(RejectsOldFile)
		if err != nil {
			return nil, false, false, err
		}
		if old != nil && os.SameFile(fi, t.prev.fi) {
			entries, err = t.prev.read(old, fi)
			old.Close()
			if err != nil {
				return nil, false, false, err
			}
			more = t.prev.off < fi.Size()
		} else {
			if old != nil {
				old.Close()
			}
			t.prev = cursor{}
		}
	}
	f, fi, err := t.open(RejectsFile)
	if err != nil {
		return entries, false, more, err
	}
	if f == nil {
		// Removed, or renamed by a rotation that no line followed yet.
		if t.cur.fi != nil && t.rotated() {
			return entries, false, true, nil // the rest of the old file next
		}
		restarted = t.cur.fi != nil || t.cur.off > 0
		t.cur = cursor{}
		return entries, restarted, more, nil
	}
	defer f.Close()
	switch {
	case t.cur.fi != nil && !os.SameFile(t.cur.fi, fi):
		if t.rotated() {
			more = true // the rest of the old file next
		} else {
			restarted = true
		}
		t.cur = cursor{}
	case fi.Size() < t.cur.off:
		t.cur = cursor{}
		restarted = true
	}
	t.cur.fi = fi
	es, err := t.cur.read(f, fi)
	return append(entries, es...), restarted, more || t.cur.off < fi.Size(), err
}

// rotated reports whether the file the tail was reading is now
// rejects.log.1; then it reads the rest of it from there, later (prev),
// and the tail starts on the new rejects.log.
func (t *RejectTail) rotated() bool {
	old, fi, err := t.open(RejectsOldFile)
	if err != nil || old == nil {
		return false
	}
	old.Close()
	if !os.SameFile(fi, t.cur.fi) || fi.Size() < t.cur.off {
		return false
	}
	t.prev, t.cur = t.cur, cursor{}
	return true
}

// open opens a file of the directory through the root and returns it
// with its FileInfo, or nil when it does not exist.
func (t *RejectTail) open(name string) (*os.File, os.FileInfo, error) {
	return openRegular(t.dir, name)
}

// openRegular opens the file name of the directory dir through an
// os.Root and returns it with its FileInfo, or nil when it does not
// exist; anything but a regular file is an error.
func openRegular(dir, name string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenInRoot(dir, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New(name + " is not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// read reads f (whose FileInfo is fi) from the cursor, at most
// maxTailRead bytes, and returns the entries of the complete lines.
func (c *cursor) read(f *os.File, fi os.FileInfo) (entries []RejectEntry, err error) {
	err = c.lines(f, fi, func(line []byte) { entries = append(entries, parseReject(line)) })
	return entries, err
}

// lines reads f (whose FileInfo is fi) from the cursor, at most
// maxTailRead bytes, and calls each with every complete line read, but
// empty ones; a line longer than maxLine is given as nil, once.
func (c *cursor) lines(f *os.File, fi os.FileInfo, each func(line []byte)) error {
	if fi.Size() <= c.off {
		return nil
	}
	buf := make([]byte, min(fi.Size()-c.off, maxTailRead))
	n, err := f.ReadAt(buf, c.off)
	if err != nil && err != io.EOF {
		return err
	}
	c.off += int64(n)
	data := append(c.part, buf[:n]...)
	c.part = nil
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(data) <= maxLine && !c.skip {
				c.part = bytes.Clone(data)
			} else if !c.skip {
				each(nil)
				c.skip = true
			}
			break
		}
		if c.skip {
			c.skip = false
		} else if i > 0 {
			each(data[:i])
		}
		data = data[i+1:]
	}
	return nil
}

func parseReject(line []byte) RejectEntry {
	var e struct {
		Time   int64     `json:"time"`
		From   string    `json:"from"`
		Reason rule.Code `json:"reason"`
		ID     string    `json:"id"`
		Msg    string    `json:"msg"`
	}
	if len(line) > maxLine || json.Unmarshal(line, &e) != nil || len(e.Reason) > 64 {
		return RejectEntry{}
	}
	r := RejectEntry{Time: e.Time, From: e.From, Reason: e.Reason, Msg: e.Msg}
	if e.ID != "" {
		if id, err := chainhash.ParseID(e.ID); err == nil {
			r.ID, r.HasID = id, true
		}
	}
	return r
}
