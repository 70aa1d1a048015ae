package relay

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// Stats file times of the tests. The file's time is in seconds: a file
// rewritten every 200 ms can look over a second old. testStatsStale keeps
// a margin over that.
const (
	testStatsEvery     = 10 * time.Millisecond
	testStatsHeartbeat = 200 * time.Millisecond
	testStatsStale     = 2 * time.Second
)

var testStatsTimes = statsTimes{testStatsEvery, testStatsHeartbeat, testStatsStale}

// quickStatsListen makes a listener's stats file quick for a test.
func quickStatsListen(c *ListenConfig) {
	c.StatsEvery, c.StatsHeartbeat, c.StatsStale = testStatsEvery, testStatsHeartbeat, testStatsStale
}

// quickStatsSend makes a sender's stats file quick for a test, with no
// keep-alive byte in the counts.
func quickStatsSend(c *SendConfig) {
	c.StatsEvery, c.StatsHeartbeat, c.StatsStale = testStatsEvery, testStatsHeartbeat, testStatsStale
	c.KeepAlive = time.Minute
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
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", quickStatsListen)
	sendDir := t.TempDir()
	lines := txLines(p, 3)
	blk := blockLine(p)
	spath := filepath.Join(sendDir, chaindir.RelayStatsName(chaindir.RelaySend, os.Getpid()))
	pr, pw := io.Pipe()
	log := &logBuf{}
	done := make(chan error, 1)
	go func() {
		cfg := SendConfig{Params: p, To: []string{l.Addr().String()}, Chain: sendDir, Logf: log.logf}
		quickStatsSend(&cfg)
		done <- sendLowered(context.Background(), cfg, pr)
	}()
	for _, b := range [][]byte{lines[0], lines[1], lines[0], []byte("garbage"), blk} {
		pw.Write(append(b, '\n'))
	}
	wantBytes := uint64(len(lines[0]) + len(lines[1]) + len(blk) + 3)
	want := chaindir.RelaySendStats{Peers: 1, Connected: 1, LinesTx: 2, LinesBlock: 1, Bytes: wantBytes, Duplicates: 1, BadLines: 1}
	s := waitStats(t, spath, "the lines sent", func(c chaindir.RelaySendStats) bool { return c.LinesBlock == 1 })
	if s.PID != os.Getpid() || time.Since(time.Unix(s.Time, 0)) > 5*time.Second {
		t.Errorf("time %d, pid %d; want now and %d", s.Time, s.PID, os.Getpid())
	}
	if s.Counters != want {
		t.Errorf("send counters\n%+v, want\n%+v", s.Counters, want)
	}
	// Send removes its file as it returns.
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("Send: %v\n%s", err, log)
	}
	if _, err := os.Stat(spath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stats file is left after Send returned: %v", err)
	}

	// The listener counts the same lines and bytes, and the connection.
	lpath := filepath.Join(l.dir, chaindir.RelayStatsName(chaindir.RelayListen, os.Getpid()))
	waitStats(t, lpath, "the sender's lines, its connection closed", func(c chaindir.RelayListenStats) bool {
		return c.LinesTx == 2 && c.LinesBlock == 1 && c.Connected == 0
	})
	if got, want := l.Stats(), (chaindir.RelayListenStats{Accepted: 1, LinesTx: 2, LinesBlock: 1, Bytes: wantBytes}); got != want {
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
	ls := waitStats(t, lpath, "the second peer's lines", func(c chaindir.RelayListenStats) bool {
		return c.LinesTx == 3 && c.BadLines == 1 && c.HelloFailed == 1
	})
	wantL := chaindir.RelayListenStats{
		Connected: 1, Accepted: 3, HelloFailed: 1, LinesTx: 3, LinesBlock: 1, Duplicates: 1, BadLines: 1,
		Bytes: wantBytes + uint64(len(lines[0])+len("garbage")+len(lines[2])+3),
	}
	if ls.Counters != wantL {
		t.Errorf("listen counters\n%+v, want\n%+v", ls.Counters, wantL)
	}
	if ls.PID != os.Getpid() {
		t.Errorf("pid %d, want %d", ls.PID, os.Getpid())
	}
	if strings.Contains(l.log.String(), "relay-listen") {
		t.Errorf("the listener logged about its stats file:\n%s", l.log)
	}
}

// TestStatsFileLifetime: the file is written as the listener starts,
// rewritten on a heartbeat when nothing changed, and removed when the
// listener stops.
func TestStatsFileLifetime(t *testing.T) {
	p := devnet(t)
	dir := t.TempDir()
	logs := &logBuf{}
	cfg := ListenConfig{Addr: "127.0.0.1:0", Params: p, Chain: dir, Out: &outBuf{}, Logf: logs.logf}
	lowerListen(&cfg)
	quickStatsListen(&cfg)
	l, err := NewListener(cfg)
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
	path := filepath.Join(dir, chaindir.RelayStatsName(chaindir.RelayListen, os.Getpid()))
	waitStats(t, path, "the file of a listener with no peer", func(c chaindir.RelayListenStats) bool { return c == chaindir.RelayListenStats{} })
	dial(t, l.Addr(), "127.0.0.1", p, "127.0.0.1:5050")
	waitStats(t, path, "the peer connected", func(c chaindir.RelayListenStats) bool { return c.Connected == 1 })
	fi1, _ := os.Stat(path)
	time.Sleep(50 * time.Millisecond)
	if fi2, _ := os.Stat(path); !os.SameFile(fi1, fi2) {
		t.Error("the file was rewritten though nothing changed")
	}
	time.Sleep(testStatsHeartbeat)
	if fi2, _ := os.Stat(path); os.SameFile(fi1, fi2) {
		t.Error("no heartbeat")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "relay-*")); len(left) != 0 {
		t.Errorf("files left after Serve returned: %q", left)
	}
	if logs.count("relay-listen") != 0 {
		t.Errorf("logged about the stats file:\n%s", logs)
	}
}

// TestStatsSweep: a relay process removes the stats files, of both kinds,
// that other processes did not rewrite for their stale time, and their
// temporary files; it leaves alone fresh files, its own, and whatever is
// not a stats file.
func TestStatsSweep(t *testing.T) {
	dir := t.TempDir()
	logs := &logBuf{}
	f := newStatsFile(dir, chaindir.RelaySend, logs.logf, testStatsTimes)
	now := time.Now()
	old, ahead := now.Add(-2*testStatsStale), now.Add(2*testStatsStale)
	line := func(at time.Time, pid int) string {
		return fmt.Sprintf(`{"time":%d,"pid":%d,"peers":1}`+"\n", at.Unix(), pid)
	}
	own := chaindir.RelayStatsName(chaindir.RelaySend, os.Getpid())
	tests := []struct {
		name, file, content string
		mtime               time.Time // of the file
		swept               bool
	}{
		{"a sender's, stale", "relay-send-7.json", line(old, 7), old, true},
		{"a listener's, stale", "relay-listen-7.json", line(old, 7), old, true},
		{"a running sender's", "relay-send-8.json", line(now, 8), now, false},
		{"a running listener's", "relay-listen-8.json", line(now, 8), now, false},
		{"fresh, with an old mtime: the time counts", "relay-send-9.json", line(now, 9), old, false},
		{"stale, with a new mtime: the time counts", "relay-send-10.json", line(old, 10), now, true},
		{"written ahead of the clock", "relay-send-11.json", line(ahead, 11), now, true},
		{"this process's, stale", own, line(old, os.Getpid()), old, false},
		{"empty, old", "relay-send-12.json", "", old, true},
		{"empty, new", "relay-send-13.json", "", now, false},
		{"garbage, old", "relay-send-14.json", "junk", old, true},
		{"too big, old", "relay-send-15.json", strings.Repeat(" ", chaindir.MaxRelayStats+1), old, true},
		{"a temporary file, old", "relay-send-16.json.tmp123", "{", old, true},
		{"a temporary file, new", "relay-send-17.json.tmp123", "{", now, false},
		{"this process's temporary file", own + ".tmp123", "{", old, false},
		{"the one file of an older cnj-relay", "relay-send.json", line(old, 18), old, true},
		{"a leading zero", "relay-send-019.json", line(old, 19), old, false},
		{"pid 0", "relay-send-0.json", line(old, 1), old, false},
		{"no pid", "relay-send-.json", line(old, 1), old, false},
		{"not a number", "relay-send-x.json", line(old, 1), old, false},
		{"another name", "relay-sends-20.json", line(old, 20), old, false},
		{"another suffix", "relay-send-21.jsonl", line(old, 21), old, false},
		{"the peers file", "peers", "", old, false},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.file)
		if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, tt.mtime, tt.mtime); err != nil {
			t.Fatal(err)
		}
	}
	// Not files a relay wrote: a directory, a link (to a stale file).
	os.Mkdir(filepath.Join(dir, "relay-send-22.json"), 0o755)
	outside := filepath.Join(t.TempDir(), "stats.json")
	os.WriteFile(outside, []byte(line(old, 23)), 0o644)
	os.Chtimes(outside, old, old)
	os.Symlink(outside, filepath.Join(dir, "relay-send-23.json"))

	f.sweep(now)
	swept := 0
	for _, tt := range tests {
		_, err := os.Lstat(filepath.Join(dir, tt.file))
		if gone := errors.Is(err, fs.ErrNotExist); gone != tt.swept {
			t.Errorf("%s (%s): removed %v, want %v", tt.name, tt.file, gone, tt.swept)
		}
		if tt.swept {
			swept++
			if logs.count(tt.file+": removed, not rewritten for ") != 1 {
				t.Errorf("%s (%s): removal not logged:\n%s", tt.name, tt.file, logs)
			}
		}
	}
	for _, name := range []string{"relay-send-22.json", "relay-send-23.json"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the link's target: %v", err)
	}
	if n := logs.count(": removed"); n != swept {
		t.Errorf("%d removals logged, want %d:\n%s", n, swept, logs)
	}
}

// Environment of TestStatsHelperSender.
const (
	helperChain = "CNJ_RELAY_TEST_CHAIN" // the chain directory, with genesis.json
	helperTo    = "CNJ_RELAY_TEST_TO"    // the listener
)

// TestStatsHelperSender is not a test: TestStatsTwoSenders runs the test
// binary with it as a sender process of its own, on its stdin.
func TestStatsHelperSender(t *testing.T) {
	dir := os.Getenv(helperChain)
	if dir == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(dir, "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := params.Parse(bytes.TrimSpace(b))
	if err != nil {
		t.Fatal(err)
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "sender %d: "+format+"\n", append([]any{os.Getpid()}, args...)...)
	}
	cfg := SendConfig{Params: p, To: []string{os.Getenv(helperTo)}, Chain: dir, Logf: logf}
	quickStatsSend(&cfg)
	if err := sendLowered(context.Background(), cfg, os.Stdin); err != nil {
		t.Fatal(err)
	}
}

// helperSender is a sender process on the chain directory dir; it sends
// what is written to in.
type helperSender struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *outBuf // its stdout and stderr
	path string  // its stats file
}

func (o *outBuf) count(sub string) int { return strings.Count(o.String(), sub) }

func startSender(t *testing.T, dir, to string) *helperSender {
	t.Helper()
	h := &helperSender{out: &outBuf{}}
	h.cmd = exec.Command(os.Args[0], "-test.run=^TestStatsHelperSender$", "-test.v")
	h.cmd.Env = append(os.Environ(), helperChain+"="+dir, helperTo+"="+to)
	h.cmd.Stdout, h.cmd.Stderr = h.out, h.out
	var err error
	if h.in, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h.path = filepath.Join(dir, chaindir.RelayStatsName(chaindir.RelaySend, h.cmd.Process.Pid))
	t.Cleanup(func() {
		if h.cmd.ProcessState == nil {
			h.cmd.Process.Kill()
			h.cmd.Wait()
		}
	})
	return h
}

// TestStatsTwoSenders runs two senders on one chain directory, each in a
// process of its own, as a node that mines does: each writes its own
// file, and both count. The file of the one killed stays until the other
// sweeps it, once stale; the other's own file stays all along.
func TestStatsTwoSenders(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", quickStatsListen)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "genesis.json"), append(p.JSON(), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := txLines(p, 2)
	a := startSender(t, dir, l.Addr().String())
	b := startSender(t, dir, l.Addr().String())
	fmt.Fprintf(a.in, "%s\n%s\n", lines[0], lines[1])
	fmt.Fprintf(b.in, "%s\n", lines[0])

	for _, x := range []struct {
		h     *helperSender
		lines uint64
	}{{a, 2}, {b, 1}} {
		s := waitStats(t, x.h.path, "the lines sent", func(c chaindir.RelaySendStats) bool { return c.LinesTx == x.lines && c.Connected == 1 })
		if s.PID != x.h.cmd.Process.Pid {
			t.Errorf("%s: pid %d, want %d", x.h.path, s.PID, x.h.cmd.Process.Pid)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "relay-send-*.json")); len(files) != 2 {
		t.Errorf("stats files %q, want two", files)
	}
	waitFor(t, "the listener got the line twice", func() bool {
		st := l.Stats()
		return st.LinesTx == 2 && st.Duplicates == 1
	})

	// a is killed: its file stays until b finds it stale.
	killed := time.Now()
	a.cmd.Process.Kill()
	a.cmd.Wait()
	if _, err := os.Stat(a.path); err != nil {
		t.Fatalf("the killed sender's file is gone at once: %v", err)
	}
	deadline := killed.Add(testStatsStale + 2*time.Second + 2*testStatsHeartbeat)
	for {
		if _, err := os.Stat(b.path); err != nil {
			t.Fatalf("the running sender's file: %v\n%s", err, b.out)
		}
		_, err := os.Stat(a.path)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed sender's file is still there %v after: %v\n%s", time.Since(killed), err, b.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Its time is in whole seconds: the file can look up to a second
	// older than it is.
	if d := time.Since(killed); d < testStatsStale-time.Second-2*testStatsHeartbeat {
		t.Errorf("the killed sender's file was swept %v after, before it was stale", d)
	}

	// b stops: no file is left.
	b.in.Close()
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("sender: %v\n%s", err, b.out)
	}
	// All b wrote is read once it is waited for.
	if b.out.count(filepath.Base(a.path)+": removed, not rewritten for ") != 1 {
		t.Errorf("the sweep is not logged:\n%s", b.out)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "relay-*")); len(left) != 0 {
		t.Errorf("files left: %q", left)
	}
}
