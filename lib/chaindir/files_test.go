package chaindir

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

func TestPeers(t *testing.T) {
	dir, _ := newDir(t)
	d := mustOpen(t, dir)
	defer d.Close()
	if ps, err := d.ReadPeers(); err != nil || ps != nil {
		t.Fatalf("no peers file: %v %v", ps, err)
	}
	want := []string{"127.0.0.2:5050", "[::1]:5050", "node.example:5051"}
	if err := d.WritePeers(want); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, filepath.Join(dir, peersFile))); got != strings.Join(want, "\n")+"\n" {
		t.Fatalf("peers = %q", got)
	}
	ps, err := d.ReadPeers()
	if err != nil || strings.Join(ps, ",") != strings.Join(want, ",") {
		t.Fatalf("%v %v", ps, err)
	}
	for _, bad := range []string{"127.0.0.1", "a b:1", "x:1\ny:2", ""} {
		if err := d.WritePeers([]string{bad}); err == nil {
			t.Errorf("WritePeers(%q) succeeded", bad)
		}
	}
	appendFile(t, filepath.Join(dir, peersFile), []byte("# comment\n\nnot-a-peer\n"))
	if _, err := d.ReadPeers(); err == nil || !strings.Contains(err.Error(), "peers line 6") {
		t.Fatalf("bad peers line: %v", err)
	}
}

func TestRejectLog(t *testing.T) {
	dir, _ := newDir(t)
	d := mustOpen(t, dir)
	defer d.Close()
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
	if got := string(readFile(t, filepath.Join(dir, rejectsFile))); got != strings.Join(want, "\n")+"\n" {
		t.Fatalf("rejects.log:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if err := d.LogReject(Reject{Reason: rule.BadHex, ID: []byte{1}}); err == nil {
		t.Fatal("a 1-byte id was logged")
	}
	// Concurrent loggers never interleave within a line.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				d.LogReject(Reject{Time: int64(j), Reason: rule.LowFee, Line: j, Msg: strings.Repeat("x", 300)})
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, filepath.Join(dir, rejectsFile))), "\n"), "\n")
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

// TestReadFileMax: a file of up to limit bytes is read whole, into the
// buffer given when it fits; one byte more is refused unread.
func TestReadFileMax(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	got, err := ReadFileMax(path, 10, buf)
	if err != nil || string(got) != "0123456789" || &got[0] != &buf[:1][0] {
		t.Fatalf("at the limit: %q %v (in the buffer given: %v)", got, err, err == nil && &got[0] == &buf[:1][0])
	}
	if got, err := ReadFileMax(path, 9, nil); err == nil || !strings.Contains(err.Error(), "10 bytes, more than 9") {
		t.Fatalf("one byte over: %q %v", got, err)
	}
	if _, err := ReadFileMax(filepath.Join(t.TempDir(), "none"), 9, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
