package chaindir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/coniunctum/cnj/lib/chainhash"
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
		b = chainhash.ID(r.ID).AppendHex(b)
		b = append(b, '"')
	case len(r.Hash) == 32:
		b = append(b, `,"hash":"`...)
		b = chainhash.Hash(r.Hash).AppendHex(b)
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

// MaxRejectsLog bounds rejects.log: the line that takes the file to this
// size or past it renames it to rejects.log.1 (replacing the one before),
// and the next line starts a new file. So the two files hold at most
// twice this size (and a line for each process caught writing at the
// moment of the rename), whatever peers send.
const MaxRejectsLog = 4 << 20

// LogReject appends r to the directory's rejects.log in a single O_APPEND
// write, so lines from processes logging at once never interleave, and
// rotates the file at MaxRejectsLog. It takes a lock (flock(2) on the file
// itself) only to rotate. This is the one writer of rejects.log.
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
	if err == nil {
		err = d.rotateRejects(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rotateRejects renames rejects.log to rejects.log.1 when f, the file just
// written, is still rejects.log and has reached MaxRejectsLog. The check
// and the rename happen under an flock of f, so that of processes that
// reach the size at once one renames and the others, finding the name
// taken by a new file, leave it: the file before is never lost to a
// second rename.
func (d Dir) rotateRejects(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() < MaxRejectsLog {
		return err
	}
	fd := int(f.Fd())
	if err := flock(fd, syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(fd, syscall.LOCK_UN)
	now, err := os.Lstat(d.File(RejectsFile))
	if err != nil || !os.SameFile(now, fi) {
		return nil // rotated by another process meanwhile
	}
	return os.Rename(d.File(RejectsFile), d.File(RejectsOldFile))
}
