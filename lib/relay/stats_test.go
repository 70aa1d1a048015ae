package relay

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// lowerStats makes the stats files quick for a test.
func lowerStats(t *testing.T) {
	t.Helper()
	every, beat, stale, ka := StatsEvery, StatsHeartbeat, StatsStale, KeepAlive
	StatsEvery, StatsHeartbeat, StatsStale = 10*time.Millisecond, 200*time.Millisecond, time.Second
	// No keep-alive byte in the counts.
	KeepAlive = time.Minute
	t.Cleanup(func() { StatsEvery, StatsHeartbeat, StatsStale, KeepAlive = every, beat, stale, ka })
}

// blockLine returns a block line of p that decodes (it is not valid).
func blockLine(p *params.Params) []byte {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	miner := keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	b := &block.Block{
		Header: block.Header{Index: 1, Timestamp: p.Timestamp, Miner: miner},
		Reward: tx.Reward{Receiver: miner, Amount: 1, Index: 1},
	}
	return b.JSON()
}

// statsLine is a stats file as written: the time, the pid, the counters.
type statsLine[T any] struct {
	Time     int64 `json:"time"`
	PID      int   `json:"pid"`
	Counters T
}

// readStats reads a stats file strictly: one line, every field known.
func readStats[T any](t *testing.T, path string) (statsLine[T], bool) {
	t.Helper()
	var s statsLine[T]
	b, err := os.ReadFile(path)
	if err != nil {
		return s, false
	}
	if bytes.Count(b, []byte("\n")) != 1 || !bytes.HasSuffix(b, []byte("\n")) || !bytes.HasPrefix(b, []byte(`{"time":`)) {
		t.Fatalf("%s is not one line that starts with the time: %q", path, b)
	}
	// The counters are the fields after time and pid: decode the line
	// into a struct that has them all.
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	json.Unmarshal(all["time"], &s.Time)
	json.Unmarshal(all["pid"], &s.PID)
	delete(all, "time")
	delete(all, "pid")
	rest, _ := json.Marshal(all)
	d := json.NewDecoder(bytes.NewReader(rest))
	d.DisallowUnknownFields()
	if err := d.Decode(&s.Counters); err != nil {
		t.Fatalf("%s: %v: %s", path, err, b)
	}
	return s, true
}

// waitStats waits until the stats file at path satisfies ok.
func waitStats[T any](t *testing.T, path string, what string, ok func(T) bool) statsLine[T] {
	t.Helper()
	var s statsLine[T]
	deadline := time.Now().Add(3 * time.Second)
	for {
		var found bool
		if s, found = readStats[T](t, path); found && ok(s.Counters) {
			return s
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("%s: %s never came: %s", path, what, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStatsFiles sends real traffic from a sender to a listener and checks
// that both stats files count it.
func TestStatsFiles(t *testing.T) {
	lower(t)
	lowerStats(t)
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", nil)
	sendDir := t.TempDir()
	lines := txLines(p, 3)
	blk := blockLine(p)
	spath := filepath.Join(sendDir, SendStatsName)
	pr, pw := io.Pipe()
	log := &logBuf{}
	done := make(chan error, 1)
	go func() {
		done <- Send(context.Background(), SendConfig{Params: p, To: []string{l.Addr().String()}, Chain: sendDir, Logf: log.logf}, pr)
	}()
	for _, b := range [][]byte{lines[0], lines[1], lines[0], []byte("garbage"), blk} {
		pw.Write(append(b, '\n'))
	}
	wantBytes := uint64(len(lines[0]) + len(lines[1]) + len(blk) + 3)
	want := SendStats{Peers: 1, Connected: 1, LinesTx: 2, LinesBlock: 1, Bytes: wantBytes, Duplicates: 1, BadLines: 1}
	s := waitStats(t, spath, "the lines sent", func(c SendStats) bool { return c.LinesBlock == 1 })
	if s.PID != os.Getpid() || time.Since(time.Unix(s.Time, 0)) > 5*time.Second {
		t.Errorf("time %d, pid %d; want now and %d", s.Time, s.PID, os.Getpid())
	}
	if s.Counters != want {
		t.Errorf("send counters\n%+v, want\n%+v", s.Counters, want)
	}
	// Send writes its last counters as it returns: no peer then.
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("Send: %v\n%s", err, log)
	}
	s, _ = readStats[SendStats](t, spath)
	want.Peers, want.Connected = 0, 0
	if s.Counters != want {
		t.Errorf("send counters at the end\n%+v, want\n%+v", s.Counters, want)
	}

	// The listener counts the same lines and bytes, and the connection.
	lpath := filepath.Join(l.dir, ListenStatsName)
	waitStats(t, lpath, "the sender's lines, its connection closed", func(c ListenStats) bool {
		return c.LinesTx == 2 && c.LinesBlock == 1 && c.Connected == 0
	})
	if got, want := l.Stats(), (ListenStats{Accepted: 1, LinesTx: 2, LinesBlock: 1, Bytes: wantBytes}); got != want {
		t.Errorf("listen counters\n%+v, want\n%+v", got, want)
	}

	// A peer that resends a line and sends garbage; one of another network.
	c, _, h := dial(t, l.Addr(), "127.0.0.2", p, "127.0.0.2:5050")
	if h == nil {
		t.Fatal("no hello")
	}
	c.Write([]byte(string(lines[0]) + "\ngarbage\n" + string(lines[2]) + "\n"))
	if _, _, h := dial(t, l.Addr(), "127.0.0.3", devnet(t), "127.0.0.3:5050"); h == nil {
		t.Fatal("no hello for another network")
	}
	ls := waitStats(t, lpath, "the second peer's lines", func(c ListenStats) bool {
		return c.LinesTx == 3 && c.BadLines == 1 && c.HelloFailed == 1
	})
	wantL := ListenStats{
		Connected: 1, Accepted: 3, HelloFailed: 1, LinesTx: 3, LinesBlock: 1, Duplicates: 1, BadLines: 1,
		Bytes: wantBytes + uint64(len(lines[0])+len("garbage")+len(lines[2])+3),
	}
	if ls.Counters != wantL {
		t.Errorf("listen counters\n%+v, want\n%+v", ls.Counters, wantL)
	}
	if ls.PID != os.Getpid() {
		t.Errorf("pid %d, want %d", ls.PID, os.Getpid())
	}
	if strings.Contains(l.log.String(), ListenStatsName) {
		t.Errorf("the listener logged about its stats file:\n%s", l.log)
	}
}

// TestStatsFileLifetime: the file is rewritten on a heartbeat when nothing
// changed, and once more when the listener stops, with no peer connected.
func TestStatsFileLifetime(t *testing.T) {
	lower(t)
	lowerStats(t)
	p := devnet(t)
	dir := t.TempDir()
	logs := &logBuf{}
	l, err := NewListener(ListenConfig{Addr: "127.0.0.1:0", Params: p, Chain: dir, Out: &outBuf{}, Logf: logs.logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	var once sync.Once
	var serveErr error
	stop := func() error { once.Do(func() { cancel(); serveErr = <-done }); return serveErr }
	defer stop()
	path := filepath.Join(dir, ListenStatsName)
	dial(t, l.Addr(), "127.0.0.1", p, "127.0.0.1:5050")
	waitStats(t, path, "the peer connected", func(c ListenStats) bool { return c.Connected == 1 })
	fi1, _ := os.Stat(path)
	time.Sleep(50 * time.Millisecond)
	if fi2, _ := os.Stat(path); !os.SameFile(fi1, fi2) {
		t.Error("the file was rewritten though nothing changed")
	}
	time.Sleep(StatsHeartbeat)
	if fi2, _ := os.Stat(path); os.SameFile(fi1, fi2) {
		t.Error("no heartbeat")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s, _ := readStats[ListenStats](t, path)
	if s.Counters.Connected != 0 || s.Counters.Accepted != 1 {
		t.Errorf("after Serve returned: %+v, want 1 accepted, none connected", s.Counters)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*tmp*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
}

// TestStatsFileKeeper: a process leaves alone the file of another running
// process, and takes over that of one that is gone or went quiet.
func TestStatsFileKeeper(t *testing.T) {
	lowerStats(t)
	dir := t.TempDir()
	path := filepath.Join(dir, SendStatsName)
	logs := &logBuf{}
	f := newStatsFile(dir, SendStatsName, logs.logf)
	other := func(pid int, age time.Duration) {
		line := fmt.Sprintf(`{"time":%d,"pid":%d,"peers":9}`+"\n", time.Now().Add(-age).Unix(), pid)
		if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mine := func() bool {
		s, _ := readStats[SendStats](t, path)
		return s.PID == os.Getpid()
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	tests := []struct {
		name  string
		setup func()
		mine  bool
	}{
		{"no file", func() { os.Remove(path) }, true},
		{"this process's", func() {}, true},
		{"a running process's", func() { other(os.Getppid(), 0) }, false},
		{"a running process's, again", func() {}, false},
		{"a running process's, stale", func() { other(os.Getppid(), 2*StatsStale) }, true},
		{"a process that is gone", func() { other(gone.Process.Pid, 0) }, true},
		{"garbage", func() { os.WriteFile(path, []byte("junk"), 0o644) }, true},
		{"too big", func() { os.WriteFile(path, bytes.Repeat([]byte(" "), maxStatsFile+1), 0o644) }, true},
	}
	for i, tt := range tests {
		tt.setup()
		f.update(SendStats{Peers: int64(i)}, true)
		if mine() != tt.mine {
			t.Errorf("%s: written %v, want %v", tt.name, mine(), tt.mine)
		}
	}
	if n := logs.count("kept by process"); n != 1 {
		t.Errorf("%d log lines about the other process, want 1:\n%s", n, logs)
	}
}
