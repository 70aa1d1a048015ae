package testscripts

// cnj-relay as real processes on 127.0.0.60 to 127.0.0.79 with the real
// port 5050: every test has its own addresses. Fake peers (a slowloris, a
// rogue, a peer that never reads) are Go connections bound to their own
// loopback address. Every wait polls with a deadline.

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// lockedBuf is a process's stdout or stderr, read while it runs.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// count returns the lines holding sub.
func (l *lockedBuf) count(sub string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, sub) {
			n++
		}
	}
	return n
}

// proc is a running command or shell pipeline, in its own process group.
type proc struct {
	cmd      *exec.Cmd
	in       io.WriteCloser
	out, err *lockedBuf
	done     chan struct{}
	exit     error
}

// startProc starts a command line with sh (pipelines welcome), the fresh
// binaries first on PATH, in dir.
func startProc(t testing.TB, dir, line string) *proc {
	t.Helper()
	if BinDir() == "" {
		t.Fatal("the commands were not built")
	}
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = netEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &proc{cmd: cmd, out: &lockedBuf{}, err: &lockedBuf{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.err
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exit = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s\nstdout:\n%s\nstderr:\n%s", line, tail(p.out.String()), p.err.String())
		}
	})
	return p
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// stop sends SIGTERM to the process group and waits; it returns the exit
// status of the shell (the last command of a pipeline).
func (p *proc) stop(t testing.TB) int {
	t.Helper()
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		t.Errorf("%s: still running 5 s after SIGTERM", p.cmd.Args[2])
	}
	return p.cmd.ProcessState.ExitCode()
}

// wait waits for the process to exit by itself and returns its status.
func (p *proc) wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s: still running after %v\nstderr:\n%s", p.cmd.Args[2], d, p.err)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) send(t *testing.T, lines ...[]byte) {
	t.Helper()
	for _, l := range lines {
		if _, err := p.in.Write(append(l, '\n')); err != nil {
			t.Fatal(err)
		}
	}
}

func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newChain creates a devnet chain directory under a fresh temporary
// directory and returns both and the network.
func newChain(t *testing.T) (work, chain string, p *params.Params) {
	t.Helper()
	work = t.TempDir()
	chain = filepath.Join(work, "c")
	cmd := exec.Command(filepath.Join(BinDir(), "cnj-mine"), "--genesis", "--network", "devnet", "--chain", chain)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cnj-mine --genesis: %v\n%s", err, out)
	}
	p, err := chaindir.Dir(chain).ReadGenesis()
	if err != nil {
		t.Fatal(err)
	}
	return work, chain, p
}

// copyChain makes another node's chain directory of the same network.
func copyChain(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-R", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

// txs returns n distinct signed transfer lines of p from a key with no
// funds: they decode, and cnj-verify rejects them.
func txs(p *params.Params, seed byte, n int) [][]byte {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	from := keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	lines := make([][]byte, n)
	for i := range lines {
		x := &tx.Tx{Sender: from, Receiver: from, Amount: uint64(i + 1), Fee: p.MinFee, Timestamp: time.Now().Unix()}
		x.ID[0], x.ID[1], x.ID[2], x.ID[15] = byte(i), byte(i>>8), byte(i>>16), seed
		x.Sign(p.Hash(), priv)
		lines[i] = x.AppendJSON(nil)
	}
	return lines
}

// listening waits for a listener's start line.
func listening(t *testing.T, p *proc, addr string) {
	t.Helper()
	eventually(t, "cnj-relay listen on "+addr, 10*time.Second, func() bool {
		return p.err.count("cnj-relay: listening on "+addr) == 1
	})
}

// dialRelay connects from the loopback address from to the relay at to
// and sends a hello of p announcing announce; ok says the relay answered.
func dialRelay(from, to string, p *params.Params, announce string) (c net.Conn, br *bufio.Reader, ok bool) {
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", to)
	if err != nil {
		return nil, nil, false
	}
	h := &wire.Hello{Network: p.Hash(), Version: wire.Version, Address: announce}
	c.Write(append(h.Encode(), '\n'))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	br = bufio.NewReader(c)
	line, err := br.ReadBytes('\n')
	c.SetReadDeadline(time.Time{})
	if err != nil {
		return c, br, false
	}
	_, err = wire.DecodeHello(bytes.TrimSuffix(line, []byte("\n")))
	return c, br, err == nil
}

// rawPeer connects from the loopback address from to the relay at to and
// sends a hello of p; hello reports whether the relay answered.
func rawPeer(t *testing.T, from, to string, p *params.Params) (c net.Conn, br *bufio.Reader, hello bool) {
	t.Helper()
	c, br, hello = dialRelay(from, to, p, from+":5050")
	if c == nil {
		t.Fatalf("%s to %s: cannot connect", from, to)
	}
	t.Cleanup(func() { c.Close() })
	return c, br, hello
}

// closedByPeer reports whether the other side closed c within d.
func closedByPeer(c net.Conn, br *bufio.Reader, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	for {
		if _, err := br.ReadByte(); err != nil {
			return err == io.EOF || strings.Contains(err.Error(), "reset")
		}
	}
}

// webApp starts cnj-serve on ip's web port, a node's web app (which a
// listener asks before it records the node's address), and waits for it.
func webApp(t *testing.T, work, ip, dir string) *proc {
	t.Helper()
	s := startProc(t, work, fmt.Sprintf("exec cnj-serve --listen %s:56230 --chain %s", ip, dir))
	eventually(t, "cnj-serve on "+ip, 10*time.Second, func() bool { return s.err.count("cnj-serve: serving") == 1 })
	return s
}

// TestRelayTwoNodes: a line sent from 127.0.0.61 reaches the listener on
// 127.0.0.60 tagged with the sending address; the sender, whose web app
// answers as a node of the network, is recorded as a peer; both exit as
// they should.
func TestRelayTwoNodes(t *testing.T) {
	work, chain, p := newChain(t)
	l := startProc(t, work, "exec cnj-relay listen --listen 127.0.0.60:5050 --chain c")
	listening(t, l, "127.0.0.60:5050")
	webApp(t, work, "127.0.0.61", "c")
	s := startProc(t, work, "exec cnj-relay send --bind 127.0.0.61 --to 127.0.0.60 --chain c")
	lines := txs(p, 1, 2)
	s.send(t, lines[0], lines[1], lines[0])
	s.in.Close()
	if code := s.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("send exited %d", code)
	}
	if s.err.String() != "" {
		t.Errorf("send logged: %s", s.err)
	}
	want := "127.0.0.61 " + string(lines[0]) + "\n127.0.0.61 " + string(lines[1]) + "\n"
	eventually(t, "both lines at the listener", 5*time.Second, func() bool { return l.out.String() == want })
	eventually(t, "the sender recorded", 10*time.Second, func() bool {
		return l.err.count("cnj-relay: 127.0.0.61: new peer 127.0.0.61:5050 recorded") == 1
	})
	peers, err := os.ReadFile(filepath.Join(chain, "peers"))
	if err != nil || string(peers) != "127.0.0.61:5050\n" {
		t.Errorf("peers file %q (%v), want 127.0.0.61:5050", peers, err)
	}
	if code := l.stop(t); code != 0 {
		t.Errorf("listen exited %d after SIGTERM, want 0", code)
	}
	time.Sleep(50 * time.Millisecond)
	if l.out.String() != want {
		t.Errorf("listener stdout:\n%s\nwant\n%s", l.out, want)
	}
}

// TestRelayMeshNoLoop: three validators in a full mesh, each
// "listen | tee | send"; a line sent to one of them is printed once by
// each listener, and never again.
func TestRelayMeshNoLoop(t *testing.T) {
	work, chain, p := newChain(t)
	ips := []string{"127.0.0.62", "127.0.0.63", "127.0.0.64"}
	var nodes []*proc
	for i, ip := range ips {
		dir := fmt.Sprintf("n%d", i)
		copyChain(t, chain, filepath.Join(work, dir))
		var peers []string
		for _, other := range ips {
			if other != ip {
				peers = append(peers, other+":5050")
			}
		}
		os.WriteFile(filepath.Join(work, dir, "peers"), []byte(strings.Join(peers, "\n")+"\n"), 0o644)
		n := startProc(t, work, fmt.Sprintf("cnj-relay listen --listen %s:5050 --chain %s | tee %s.out | cnj-relay send --bind %s --peers %s/peers --chain %s",
			ip, dir, dir, ip, dir, dir))
		listening(t, n, ip+":5050")
		nodes = append(nodes, n)
	}
	count := func(i int, line []byte) int {
		b, _ := os.ReadFile(filepath.Join(work, fmt.Sprintf("n%d.out", i)))
		return bytes.Count(b, line)
	}
	lines := txs(p, 2, 2)
	for k, line := range lines {
		// Sent to the first node the first time, to the last the second.
		to := ips[0]
		if k == 1 {
			to = ips[2]
		}
		s := startProc(t, work, "exec cnj-relay send --bind 127.0.0.65 --to "+to+" --chain c")
		s.send(t, line)
		s.in.Close()
		if code := s.wait(t, 15*time.Second); code != 0 {
			t.Fatalf("send exited %d", code)
		}
		eventually(t, "the line at every node", 10*time.Second, func() bool {
			return count(0, line) == 1 && count(1, line) == 1 && count(2, line) == 1
		})
	}
	time.Sleep(500 * time.Millisecond) // room for an echo, if there were one
	for i := range ips {
		for k, line := range lines {
			if n := count(i, line); n != 1 {
				t.Errorf("node %d printed line %d %d times", i, k, n)
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(work, "n0.out"))
	if !bytes.HasPrefix(b, []byte("127.0.0.65 {")) {
		t.Errorf("the first node's first line is not tagged with the sender: %.40s", b)
	}
	for _, n := range nodes {
		if n.err.count(": refused: ") != 0 || n.err.count("dropped") != 0 {
			t.Errorf("a node logged a problem:\n%s", n.err)
		}
	}
}

// TestRelayOtherNetwork: a sender of another devnet is refused with a log
// line on both sides, and its lines go nowhere.
func TestRelayOtherNetwork(t *testing.T) {
	work, _, p := newChain(t)
	other := filepath.Join(work, "other")
	if out, err := exec.Command(filepath.Join(BinDir(), "cnj-mine"), "--genesis", "--network", "devnet", "--chain", other).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	op, _ := chaindir.Dir(other).ReadGenesis()
	l := startProc(t, work, "exec cnj-relay listen --listen 127.0.0.66:5050 --chain c")
	listening(t, l, "127.0.0.66:5050")
	s := startProc(t, work, "exec cnj-relay send --bind 127.0.0.67 --to 127.0.0.66 --chain other")
	s.send(t, txs(op, 3, 1)...)
	s.in.Close()
	if code := s.wait(t, 15*time.Second); code != 1 {
		t.Fatalf("send exited %d, want 1", code)
	}
	ph, oh := p.Hash(), op.Hash()
	for _, want := range []string{
		fmt.Sprintf("cnj-relay: 127.0.0.66:5050: cannot connect: refused: other network %x, this node is on %x", ph, oh),
		"cnj-relay: send: 127.0.0.66:5050: 1 line not delivered: refused: other network",
	} {
		if s.err.count(want) != 1 {
			t.Errorf("send's stderr lacks %q:\n%s", want, s.err)
		}
	}
	eventually(t, "the listener's refusal", 5*time.Second, func() bool {
		return l.err.count(fmt.Sprintf("cnj-relay: 127.0.0.67: refused: other network %x, this node is on %x", oh, ph)) == 1
	})
	if l.out.String() != "" {
		t.Errorf("listener printed %q", l.out)
	}
}

// TestRelayHostilePeers: a slowloris, garbage, an oversized line and too
// many connections from one IP are cut and logged by IP while an honest
// peer's lines keep flowing.
func TestRelayHostilePeers(t *testing.T) {
	work, chain, p := newChain(t)
	l := startProc(t, work, "exec cnj-relay listen --listen 127.0.0.68:5050 --chain c --handshake-timeout 1s --max-per-ip 2")
	listening(t, l, "127.0.0.68:5050")
	honest := startProc(t, work, "exec cnj-relay send --bind 127.0.0.70 --to 127.0.0.68 --chain c")
	good := txs(p, 4, 4)
	honest.send(t, good[0])
	const to = "127.0.0.68:5050"

	// Slowloris: connects and sends nothing.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.69")}}
	slow, err := d.Dial("tcp", to)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	if !closedByPeer(slow, bufio.NewReader(slow), 5*time.Second) {
		t.Fatal("the slowloris connection stayed open")
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("slowloris cut after %v, want the 1s handshake timeout", d)
	}
	honest.send(t, good[1])

	// Garbage and an oversized transfer after a good hello: dropped,
	// logged, the connection stays; a line over the block limit closes it.
	c, br, ok := rawPeer(t, "127.0.0.69", to, p)
	if !ok {
		t.Fatal("the rogue's hello was not answered")
	}
	big := bytes.Replace(good[3], []byte(`"tx",`), append([]byte(`"tx",`), bytes.Repeat([]byte(" "), params.MaxTxLine)...), 1)
	c.Write([]byte("\x00\xffgarbage\n" + string(big) + "\n"))
	eventually(t, "two drops logged", 5*time.Second, func() bool { return l.err.count("cnj-relay: 127.0.0.69: line") == 2 })
	c.Write(bytes.Repeat([]byte("{"), wire.MaxLine(p)+10))
	if !closedByPeer(c, br, 5*time.Second) {
		t.Fatal("a line over the limit did not close the connection")
	}
	honest.send(t, good[2])

	// Per-IP cap: two connections, the third refused.
	rawPeer(t, "127.0.0.71", to, p)
	rawPeer(t, "127.0.0.71", to, p)
	if _, _, ok := rawPeer(t, "127.0.0.71", to, p); ok {
		t.Fatal("a third connection from one IP was answered")
	}

	want := "127.0.0.70 " + string(good[0]) + "\n127.0.0.70 " + string(good[1]) + "\n127.0.0.70 " + string(good[2]) + "\n"
	eventually(t, "the honest lines", 5*time.Second, func() bool { return l.out.String() == want })
	for _, line := range []string{
		"cnj-relay: 127.0.0.69: closed: no hello within 1s",
		"cnj-relay: 127.0.0.69: line 1 dropped: bad-json",
		"cnj-relay: 127.0.0.69: line 2 dropped: too-large: transaction line of",
		fmt.Sprintf("cnj-relay: 127.0.0.69: line 3 dropped: too-large: line over %d bytes, connection closed", wire.MaxLine(p)),
		"cnj-relay: 127.0.0.71: refused: 2 connections from this address already",
	} {
		// The listener logs from its connection goroutines: wait for the
		// line rather than racing them on a loaded machine.
		eventually(t, "the log line "+line, 5*time.Second, func() bool { return l.err.count(line) >= 1 })
		if n := l.err.count(line); n != 1 {
			t.Errorf("listener logged %q %d times, want once", line, n)
		}
	}
	rejects, _ := os.ReadFile(filepath.Join(chain, "rejects.log"))
	if n := bytes.Count(rejects, []byte(`"from":"127.0.0.69"`)); n != 3 {
		t.Errorf("rejects.log holds %d lines from 127.0.0.69, want 3:\n%s", n, rejects)
	}
	if n := bytes.Count(rejects, []byte(`"reason":"too-large"`)); n != 2 {
		t.Errorf("rejects.log holds %d too-large lines, want 2", n)
	}
	honest.in.Close()
	if code := honest.wait(t, 15*time.Second); code != 0 {
		t.Errorf("the honest sender exited %d", code)
	}
}

// TestRelayCutOff: lines that cnj-verify keeps rejecting cut their sender
// off for the cool-off, logged once; honest lines keep flowing; the
// cut-off ends.
func TestRelayCutOff(t *testing.T) {
	work, _, p := newChain(t)
	l := startProc(t, work, "cnj-relay listen --listen 127.0.0.72:5050 --chain c --max-rejects 5 --cool-off 2s | tee listen.out | cnj-verify --chain c")
	listening(t, l, "127.0.0.72:5050")
	const to = "127.0.0.72:5050"
	rogue, br, ok := rawPeer(t, "127.0.0.73", to, p)
	if !ok {
		t.Fatal("no hello")
	}
	for _, line := range txs(p, 5, 8) { // no funds: rejected
		rogue.Write(append(line, '\n'))
	}
	eventually(t, "the cut-off logged", 10*time.Second, func() bool {
		return l.err.count("cnj-relay: 127.0.0.73: cut off for 2s: 5 rejects") == 1
	})
	cutAt := time.Now()
	if !closedByPeer(rogue, br, 3*time.Second) {
		t.Fatal("the rogue's connection stayed open")
	}
	if _, _, ok := rawPeer(t, "127.0.0.73", to, p); ok && time.Since(cutAt) < 1500*time.Millisecond {
		t.Fatal("the rogue was answered during its cool-off")
	}
	honest := startProc(t, work, "exec cnj-relay send --bind 127.0.0.74 --to 127.0.0.72 --chain c")
	line := txs(p, 6, 1)[0]
	honest.send(t, line)
	eventually(t, "the honest line passed on", 5*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(work, "listen.out"))
		return bytes.Contains(b, append([]byte("127.0.0.74 "), line...))
	})
	time.Sleep(time.Until(cutAt.Add(2100 * time.Millisecond)))
	if _, _, ok := rawPeer(t, "127.0.0.73", to, p); !ok {
		t.Fatal("the cool-off did not end")
	}
	if n := l.err.count("cut off"); n != 1 {
		t.Errorf("%d cut-offs logged, want 1", n)
	}
}

// stuckPeer listens on ip:5050 like a relay, answers hellos, and then
// never reads.
func stuckPeer(t *testing.T, ip string, p *params.Params) {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":5050")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetReadBuffer(4096)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				bufio.NewReaderSize(c, 4096).ReadSlice('\n')
				h := &wire.Hello{Network: p.Hash(), Version: wire.Version, Address: ip + ":5050"}
				c.Write(append(h.Encode(), '\n'))
			}()
		}
	}()
}

// TestRelaySlowPeer: a peer that stops reading is dropped, and the peer
// that reads gets every line without delay.
func TestRelaySlowPeer(t *testing.T) {
	work, _, p := newChain(t)
	l := startProc(t, work, "exec cnj-relay listen --listen 127.0.0.76:5050 --chain c --rate 100000")
	listening(t, l, "127.0.0.76:5050")
	stuckPeer(t, "127.0.0.77", p)
	s := startProc(t, work, "exec cnj-relay send --bind 127.0.0.75 --to 127.0.0.76 --to 127.0.0.77 --queue 1000 --chain c")
	lines := txs(p, 7, 3000)
	var worst time.Duration
	for i := 0; i < len(lines); i += 100 {
		start := time.Now()
		s.send(t, lines[i:i+100]...)
		want := append(append([]byte("127.0.0.75 "), lines[i+99]...), '\n')
		eventually(t, fmt.Sprintf("line %d at the reading peer", i+100), 5*time.Second, func() bool {
			return strings.HasSuffix(l.out.String(), string(want))
		})
		worst = max(worst, time.Since(start))
		time.Sleep(100 * time.Millisecond) // the stuck peer's stall grows

	}
	if worst > time.Second {
		t.Errorf("the reading peer waited up to %v for 100 lines", worst)
	}
	eventually(t, "the stuck peer dropped", 10*time.Second, func() bool {
		return s.err.count("cnj-relay: 127.0.0.77:5050: disconnected: dropped: not reading") >= 1
	})
	if n := strings.Count(l.out.String(), "\n"); n != len(lines) {
		t.Errorf("the reading peer got %d lines, want %d", n, len(lines))
	}
	if s.err.count("127.0.0.76") != 0 {
		t.Errorf("the reading peer had trouble:\n%s", s.err)
	}
}

// TestRelayPeersFile: send re-reads its peers file: a peer added later is
// connected and gets the lines sent after; the listener records the
// sender (a node: its web app answers) in its own peers file.
func TestRelayPeersFile(t *testing.T) {
	work, chain, p := newChain(t)
	copyChain(t, chain, filepath.Join(work, "l"))
	l := startProc(t, work, "exec cnj-relay listen --listen 127.0.0.79:5050 --chain l")
	listening(t, l, "127.0.0.79:5050")
	webApp(t, work, "127.0.0.78", "c")
	peers := filepath.Join(work, "peers")
	os.WriteFile(peers, []byte("# no peers yet\n"), 0o644)
	s := startProc(t, work, "exec cnj-relay send --bind 127.0.0.78 --peers peers --chain c")
	lines := txs(p, 8, 2)
	s.send(t, lines[0])
	time.Sleep(200 * time.Millisecond)
	os.WriteFile(peers, []byte("# no peers yet\n127.0.0.79\n"), 0o644)
	eventually(t, "the sender recorded by the listener", 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(work, "l", "peers"))
		return string(b) == "127.0.0.78:5050\n"
	})
	s.send(t, lines[1])
	want := "127.0.0.78 " + string(lines[1]) + "\n"
	eventually(t, "the line sent after the change", 5*time.Second, func() bool { return l.out.String() == want })
	s.in.Close()
	if code := s.wait(t, 15*time.Second); code != 0 {
		t.Errorf("send exited %d", code)
	}
	// A peers file naming the node itself: never connected to.
	os.WriteFile(peers, []byte("127.0.0.78:5050\n127.0.0.79:5050\n"), 0o644)
	s = startProc(t, work, "exec cnj-relay send --bind 127.0.0.78 --peers peers --chain c")
	s.send(t, txs(p, 9, 1)...)
	s.in.Close()
	if code := s.wait(t, 15*time.Second); code != 0 || s.err.String() != "" {
		t.Errorf("send to a file naming itself: exit %d\n%s", code, s.err)
	}
}

// TestRelayJoin: a new validator that knows only its source node ends up
// connected both ways: the source records it (its web app answers as a
// node of the network) and connects back.
func TestRelayJoin(t *testing.T) {
	work, chain, p := newChain(t)
	copyChain(t, chain, filepath.Join(work, "a"))
	copyChain(t, chain, filepath.Join(work, "b"))
	os.WriteFile(filepath.Join(work, "b", "peers"), []byte("127.0.0.60\n"), 0o644)
	node := func(ip, dir string) *proc {
		n := startProc(t, work, fmt.Sprintf("cnj-relay listen --listen %s:5050 --chain %s | tee %s.out | cnj-relay send --bind %s --peers %s/peers --chain %s",
			ip, dir, dir, ip, dir, dir))
		listening(t, n, ip+":5050")
		return n
	}
	node("127.0.0.60", "a")
	webApp(t, work, "127.0.0.61", "b")
	node("127.0.0.61", "b")
	eventually(t, "the source records the newcomer", 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(work, "a", "peers"))
		return string(b) == "127.0.0.61:5050\n"
	})
	// The source connects to the newcomer once it re-read its peers file:
	// lines sent to the source until then reach the newcomer only through
	// the newcomer's own connection, so keep sending until one comes the
	// other way.
	s := startProc(t, work, "exec cnj-relay send --bind 127.0.0.62 --to 127.0.0.60 --chain c")
	lines := txs(p, 10, 100)
	sent := 0
	eventually(t, "a line from the source at the newcomer", 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(work, "b.out"))
		if bytes.Contains(b, []byte("127.0.0.60 {")) {
			return true
		}
		if sent < len(lines) {
			s.send(t, lines[sent])
			sent++
		}
		time.Sleep(50 * time.Millisecond)
		return false
	})
	s.in.Close()
	if code := s.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("send exited %d", code)
	}
}
