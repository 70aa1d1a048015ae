package chaindir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

func TestLogReject(t *testing.T) {
	d := Dir(t.TempDir())
	id := make([]byte, 16)
	id[15] = 0xab
	hash := make([]byte, 32)
	hash[0] = 0xcd
	cases := []struct {
		r    Reject
		want string
	}{
		{Reject{Time: 1700000000, From: "127.0.0.5", Reason: rule.BadSignature, ID: id, Msg: "transaction 1: signature does not verify"},
			`{"time":1700000000,"from":"127.0.0.5","reason":"bad-signature","id":"000000000000000000000000000000ab","msg":"transaction 1: signature does not verify"}`},
		{Reject{Time: 5, Reason: rule.HighHash, Hash: hash, Msg: `quote " and \ newline` + "\n"},
			`{"time":5,"from":"","reason":"high-hash","hash":"cd00000000000000000000000000000000000000000000000000000000000000","msg":"quote \" and \\ newline\n"}`},
		{Reject{Time: 6, Reason: rule.BadJSON, Line: 42, Msg: "bad"},
			`{"time":6,"from":"","reason":"bad-json","line":42,"msg":"bad"}`},
	}
	var want []string
	for _, c := range cases {
		if err := d.LogReject(c.r); err != nil {
			t.Fatal(err)
		}
		want = append(want, c.want)
	}
	if got := string(readFile(t, d.File(RejectsFile))); got != strings.Join(want, "\n")+"\n" {
		t.Fatalf("rejects.log:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if err := d.LogReject(Reject{Reason: rule.BadHex, ID: []byte{1}}); err == nil {
		t.Fatal("a 1-byte id was logged")
	}
	if err := d.LogReject(Reject{Line: 1}); err == nil {
		t.Fatal("a reject without a reason was logged")
	}
	// Concurrent loggers never interleave within a line.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				d.LogReject(Reject{Time: int64(j), Reason: rule.LowFee, Line: j, Msg: strings.Repeat("x", 300)})
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, d.File(RejectsFile))), "\n"), "\n")
	if len(lines) != 3+400 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
	}
}

// TestRejectTail: the tail gives the lines appended since it last read,
// one entry per complete line (a line being written waits for its end;
// an unreadable line is an entry without a reason), and starts over when
// the file is removed or replaced.
func TestRejectTail(t *testing.T) {
	d := Dir(t.TempDir())
	appendTo := func(s string) {
		f, err := os.OpenFile(d.File(RejectsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	appendTo(`{"time":1,"from":"127.0.0.9","reason":"bad-json","line":1,"msg":""}` + "\n")
	tail := d.TailRejects(true) // starts at the end: the old line is not read
	read := func() (got []string, restarted bool) {
		t.Helper()
		for {
			es, r, more, err := tail.Read()
			if err != nil {
				t.Fatal(err)
			}
			restarted = restarted || r
			for _, e := range es {
				got = append(got, e.From+"/"+string(e.Reason))
			}
			if !more {
				return got, restarted
			}
		}
	}
	if got, _ := read(); got != nil {
		t.Fatalf("old lines read: %q", got)
	}
	d.LogReject(Reject{Time: 5, From: "127.0.0.66", Reason: rule.TooLarge, Line: 3, Msg: "line over 9 bytes"})
	appendTo(`{"time":1,"from":"","reason":"bad-json","line":1,"msg":""}` + "\n\n") // local input, a blank line
	appendTo(`garbage` + "\n")
	appendTo(strings.Repeat("x", maxLine+10) + "\n")
	appendTo(`{"time":1,"from":"127.0.0.69","rea`) // being written
	want := []string{"127.0.0.66/too-large", "/bad-json", "/", "/"}
	if got, restarted := read(); !slices.Equal(got, want) || restarted {
		t.Fatalf("read %q (restarted %v), want %q", got, restarted, want)
	}
	appendTo(`son":"bad-json","line":1,"msg":""}` + "\n")
	if got, _ := read(); !slices.Equal(got, []string{"127.0.0.69/bad-json"}) {
		t.Fatalf("the line finished later: %q", got)
	}
	// A line longer than the tail keeps, arriving in pieces, is one entry.
	appendTo(strings.Repeat("y", maxLine+5))
	if got, _ := read(); !slices.Equal(got, []string{"/"}) {
		t.Fatalf("a long line being written: %q", got)
	}
	appendTo(strings.Repeat("y", 100) + "\n" + `{"from":"10.1.1.1","reason":"low-fee"}` + "\n")
	if got, _ := read(); !slices.Equal(got, []string{"10.1.1.1/low-fee"}) {
		t.Fatalf("after a long line: %q", got)
	}
	// A removed file, then a new one, is read from its start.
	os.Remove(d.File(RejectsFile))
	if got, restarted := read(); got != nil || !restarted {
		t.Fatalf("removed file: %q, restarted %v", got, restarted)
	}
	for i := range 3 {
		appendTo(fmt.Sprintf(`{"time":1,"from":"10.0.0.%d","reason":"bad-json","line":1,"msg":""}`+"\n", i))
	}
	if got, _ := read(); len(got) != 3 {
		t.Fatalf("new file: %q, want 3 entries", got)
	}
	// A file replaced under the tail is read again from its start.
	os.WriteFile(d.File(RejectsFile)+".new", []byte(`{"from":"10.2.2.2","reason":"high-hash"}`+"\n"), 0o644)
	os.Rename(d.File(RejectsFile)+".new", d.File(RejectsFile))
	if got, restarted := read(); !slices.Equal(got, []string{"10.2.2.2/high-hash"}) || !restarted {
		t.Fatalf("replaced file: %q, restarted %v", got, restarted)
	}
	// A symbolic link is not followed out of the directory.
	other := t.TempDir() + "/secret"
	os.WriteFile(other, []byte(`{"reason":"secret"}`+"\n"), 0o644)
	os.Remove(d.File(RejectsFile))
	os.Symlink(other, d.File(RejectsFile))
	if es, _, _, err := d.TailRejects(false).Read(); err == nil || len(es) > 0 {
		t.Fatalf("read through a link leaving the directory: %v %v", es, err)
	}
}

// TestRejectsRotation: rejects.log never grows past MaxRejectsLog by more
// than a line: the line that reaches it renames the file to
// rejects.log.1, replacing the one before. Loggers writing at once across
// a rotation lose and tear no line, and a tail reads every line once,
// across the rotation, without starting over.
func TestRejectsRotation(t *testing.T) {
	d := Dir(t.TempDir())
	tail := d.TailRejects(true)
	msg := strings.Repeat("m", 400)
	r := Reject{Time: 1, From: "127.0.0.5", Reason: rule.UnknownParent, Line: 1, Msg: msg}
	lineLen := len(r.AppendJSON(nil)) + 1
	perMax := (MaxRejectsLog + lineLen - 1) / lineLen // lines that reach the size
	total := perMax + perMax/2                        // one rotation, and half a file more
	var wg sync.WaitGroup
	const loggers = 8
	for g := range loggers {
		wg.Go(func() {
			for j := g; j < total; j += loggers {
				if err := d.LogReject(r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// The tail reads while the loggers write.
	got, restarted := 0, false
	readAll := func() {
		for {
			es, rs, more, err := tail.Read()
			if err != nil {
				t.Fatal(err)
			}
			restarted = restarted || rs
			for _, e := range es {
				if e.Reason != rule.UnknownParent || e.From != "127.0.0.5" {
					t.Fatalf("entry %+v", e)
				}
			}
			got += len(es)
			if !more {
				return
			}
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for loop := true; loop; {
		select {
		case <-done:
			loop = false
		default:
			readAll()
		}
	}
	readAll()
	cur, old := readFile(t, d.File(RejectsFile)), readFile(t, d.File(RejectsOldFile))
	if len(old) < MaxRejectsLog || len(old) > MaxRejectsLog+loggers*lineLen {
		t.Errorf("rejects.log.1 holds %d bytes, want %d up to a line per logger more", len(old), MaxRejectsLog)
	}
	if len(cur) >= MaxRejectsLog {
		t.Errorf("rejects.log holds %d bytes after the rotation", len(cur))
	}
	if n := strings.Count(string(cur), "\n") + strings.Count(string(old), "\n"); n != total || len(cur)+len(old) != total*lineLen {
		t.Errorf("%d lines, %d bytes in the two files; %d were logged", n, len(cur)+len(old), total)
	}
	if got != total || restarted {
		t.Errorf("the tail read %d entries (restarted %v), want %d across the rotation", got, restarted, total)
	}
	// A second rotation replaces rejects.log.1; the tail, reading just
	// after it, before a line starts the new file, misses nothing either.
	logged := 0
	for {
		d.LogReject(r)
		logged++
		if _, err := os.Stat(d.File(RejectsFile)); err != nil {
			break
		}
	}
	if old2 := readFile(t, d.File(RejectsOldFile)); len(old2) >= MaxRejectsLog+lineLen || len(old2) < MaxRejectsLog {
		t.Errorf("after a second rotation rejects.log.1 holds %d bytes", len(old2))
	}
	got = 0
	readAll()
	d.LogReject(r)
	readAll()
	if got != logged+1 || restarted {
		t.Errorf("the tail read %d entries (restarted %v) across the second rotation, want %d", got, restarted, logged+1)
	}
}

// TestRejectTailID: a transfer's refusal comes back with its id, time and
// message, as LogReject wrote them; a block's or a line's has no id.
func TestRejectTailID(t *testing.T) {
	d := Dir(t.TempDir())
	id := bytes.Repeat([]byte{0xab}, 16)
	d.LogReject(Reject{Time: 7, From: "", Reason: rule.InsufficientFunds, ID: id, Msg: "has 3, needs 9"})
	d.LogReject(Reject{Time: 8, From: "10.0.0.1", Reason: rule.HighHash, Hash: bytes.Repeat([]byte{1}, 32), Msg: "m"})
	es, _, _, err := d.TailRejects(false).Read()
	if err != nil || len(es) != 2 {
		t.Fatalf("read %v, %v", es, err)
	}
	if e := es[0]; !e.HasID || !bytes.Equal(e.ID[:], id) || e.Time != 7 || e.Msg != "has 3, needs 9" || e.Reason != rule.InsufficientFunds {
		t.Fatalf("transfer's reject read as %+v", e)
	}
	if es[1].HasID {
		t.Fatalf("a block's reject read with an id: %+v", es[1])
	}
}
