package relay

// In-process tests: listeners and senders on loopback addresses with
// ports the system picks, limits lowered so that every case takes well
// under a second.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// lowerListen lowers the limits of a listener that a test left zero.
func lowerListen(c *ListenConfig) {
	c.HandshakeTimeout = cmp.Or(c.HandshakeTimeout, 2*time.Second)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, 10*time.Second)
	c.RejectsPoll = cmp.Or(c.RejectsPoll, 10*time.Millisecond)
}

// lowerSend lowers the limits of a sender that a test left zero.
func lowerSend(c *SendConfig) {
	c.HandshakeTimeout = cmp.Or(c.HandshakeTimeout, 2*time.Second)
	c.KeepAlive = cmp.Or(c.KeepAlive, time.Second)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, 2*time.Second)
	c.BackoffMin = cmp.Or(c.BackoffMin, 20*time.Millisecond)
	c.BackoffMax = cmp.Or(c.BackoffMax, 200*time.Millisecond)
	c.DrainTimeout = cmp.Or(c.DrainTimeout, 3*time.Second)
	c.PeersPoll = cmp.Or(c.PeersPoll, 20*time.Millisecond)
	c.SendBuffer = cmp.Or(c.SendBuffer, 16<<10)
}

// sendLowered runs Send with the limits lowered.
func sendLowered(ctx context.Context, cfg SendConfig, in io.Reader) error {
	lowerSend(&cfg)
	return Send(ctx, cfg, in)
}

func devnet(t testing.TB) *params.Params {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// txLines returns n distinct signed transfer lines of p (decodable; no
// funds behind them).
func txLines(p *params.Params, n int) [][]byte {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	from := keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	lines := make([][]byte, n)
	for i := range lines {
		x := &tx.Tx{Sender: from, Receiver: from, Amount: uint64(i + 1), Fee: p.MinFee, Timestamp: p.Timestamp}
		x.ID[0], x.ID[1], x.ID[2] = byte(i), byte(i>>8), byte(i>>16)
		x.Sign(p.Hash(), priv)
		lines[i] = x.AppendJSON(nil)
	}
	return lines
}

// logBuf collects log lines.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuf) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// outBuf is what a listener or a helper process writes, read while it
// runs.
type outBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *outBuf) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *outBuf) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

func (o *outBuf) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := strings.TrimSuffix(o.b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// eventually bounds waitFor: on a loaded machine (make test runs the
// packages side by side on two cores) a few milliseconds of work can take
// seconds, and a test must not fail for it.
const eventually = 15 * time.Second

// waitFor waits until cond holds, and fails the test when it still does
// not after eventually.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", eventually, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type testListener struct {
	*Listener
	out *outBuf
	log *logBuf
	dir string
}

// listen starts a listener on ip (port chosen by the system) with a chain
// directory holding no genesis (the listener needs only its path).
func listen(t *testing.T, p *params.Params, ip string, edit func(*ListenConfig)) *testListener {
	t.Helper()
	tl := &testListener{out: &outBuf{}, log: &logBuf{}, dir: t.TempDir()}
	cfg := ListenConfig{Addr: ip + ":0", Params: p, Chain: tl.dir, Out: tl.out, Logf: tl.log.logf, Rate: 1e6, Burst: 1000}
	if edit != nil {
		edit(&cfg)
	}
	lowerListen(&cfg)
	l, err := NewListener(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tl.Listener = l
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return tl
}

// dial connects from local IP from and sends a hello of p announcing
// announce; it returns the connection and the hello answered (nil when
// the listener closed without one).
func dial(t *testing.T, to netip.AddrPort, from string, p *params.Params, announce string) (net.Conn, *bufio.Reader, *wire.Hello) {
	t.Helper()
	d := net.Dialer{Timeout: time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	h := &wire.Hello{Network: p.Hash(), Version: wire.Version, Address: announce}
	c.Write(append(h.Encode(), '\n'))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	br := bufio.NewReader(c)
	line, err := br.ReadBytes('\n')
	c.SetReadDeadline(time.Time{})
	if err != nil {
		return c, br, nil
	}
	got, err := wire.DecodeHello(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		t.Fatalf("the listener's hello: %v", err)
	}
	return c, br, got
}

// send runs Send with the lines as input and returns its error.
func send(t *testing.T, cfg SendConfig, lines ...[]byte) (error, *logBuf) {
	t.Helper()
	log := &logBuf{}
	cfg.Logf = log.logf
	in := bytes.Join(lines, []byte("\n"))
	err := sendLowered(context.Background(), cfg, bytes.NewReader(append(in, '\n')))
	return err, log
}

func TestExchange(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", nil)
	lines := txLines(p, 3)
	err, log := send(t, SendConfig{Params: p, To: []string{l.Addr().String()}},
		lines[0], lines[1], lines[0], []byte("garbage"), nil, []byte("127.0.0.9 "+string(lines[2])))
	if err != nil {
		t.Fatalf("Send: %v\n%s", err, log)
	}
	waitFor(t, "3 lines at the listener", func() bool { return len(l.out.lines()) >= 3 })
	time.Sleep(20 * time.Millisecond)
	got := l.out.lines()
	want := []string{"127.0.0.1 " + string(lines[0]), "127.0.0.1 " + string(lines[1]), "127.0.0.1 " + string(lines[2])}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("listener printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if log.count("input line 4: skipped: bad-json") != 1 {
		t.Errorf("the garbage line is not logged:\n%s", log)
	}
	// A sender with neither Bind nor Self is no node: not recorded.
	if b, err := os.ReadFile(chaindir.Dir(l.dir).File(chaindir.PeersFile)); err == nil {
		t.Errorf("peers file %q, want none", b)
	}
	// One with Bind is, once a line it sent came out of cnj-verify (the
	// node's sender says so in relay-delivered.jsonl).
	err, log = send(t, SendConfig{Params: p, Bind: netip.MustParseAddr("127.0.0.1"), To: []string{l.Addr().String()}}, txLines(p, 4)[3])
	if err != nil {
		t.Fatalf("Send: %v\n%s", err, log)
	}
	waitFor(t, "the line", func() bool { return len(l.out.lines()) == 4 })
	time.Sleep(100 * time.Millisecond)
	if b, err := os.ReadFile(chaindir.Dir(l.dir).File(chaindir.PeersFile)); err == nil {
		t.Errorf("a peer that proved nothing recorded: %q", b)
	}
	chaindir.Dir(l.dir).MergeDelivered([]chaindir.Delivered{{IP: netip.MustParseAddr("127.0.0.1"), Tx: time.Now().Unix()}}, time.Now())
	waitFor(t, "the peer recorded", func() bool {
		b, _ := os.ReadFile(chaindir.Dir(l.dir).File(chaindir.PeersFile))
		return string(b) == "127.0.0.1:5050\n"
	})
	// The listener logs after it wrote the file: wait for the line too.
	waitFor(t, "the peer logged", func() bool {
		return l.log.count("127.0.0.1: new peer 127.0.0.1:5050 recorded") >= 1
	})
	if l.log.count("127.0.0.1: new peer 127.0.0.1:5050 recorded") != 1 {
		t.Errorf("listener log:\n%s", l.log)
	}
}

func TestSendNotDelivered(t *testing.T) {
	p := devnet(t)
	// A port nobody listens on: bind one, close it.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	err, log := send(t, SendConfig{Params: p, To: []string{addr}}, txLines(p, 2)...)
	var nd *NotDeliveredError
	if !errors.As(err, &nd) || len(nd.Peers) != 1 || nd.Peers[0].Lines != 2 || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Send = %v, want 2 lines not delivered to %s", err, addr)
	}
	if log.count(addr+": cannot connect") != 1 {
		t.Errorf("log:\n%s", log)
	}
}

func TestOtherNetwork(t *testing.T) {
	p, other := devnet(t), devnet(t)
	l := listen(t, p, "127.0.0.1", nil)
	err, log := send(t, SendConfig{Params: other, To: []string{l.Addr().String()}}, txLines(other, 1)...)
	if err == nil || !strings.Contains(err.Error(), "refused: other network") {
		t.Fatalf("Send = %v, want refused: other network", err)
	}
	if log.count("refused: other network") != 1 {
		t.Errorf("send log:\n%s", log)
	}
	waitFor(t, "the listener's log line", func() bool {
		return l.log.count(fmt.Sprintf("127.0.0.1: refused: other network %x, this node is on %x", other.Hash(), p.Hash())) == 1
	})
	if len(l.out.lines()) != 0 {
		t.Fatalf("lines of another network printed: %q", l.out.lines())
	}
	if _, err := os.Stat(chaindir.Dir(l.dir).File(chaindir.PeersFile)); err == nil {
		t.Fatal("a peer of another network was recorded")
	}
}

func TestRateLimit(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.Rate, c.Burst = 50, 1 })
	c, _, h := dial(t, l.Addr(), "127.0.0.1", p, "127.0.0.1:5050")
	if h == nil {
		t.Fatal("no hello")
	}
	start := time.Now()
	for _, line := range txLines(p, 11) {
		c.Write(append(line, '\n'))
	}
	waitFor(t, "11 lines", func() bool { return len(l.out.lines()) == 11 })
	// 50 lines a second, one at once: ten waits of 20 ms.
	if d := time.Since(start); d < 180*time.Millisecond {
		t.Fatalf("11 lines read in %v, faster than 50 a second", d)
	}
	// The limit is per IP: a second connection shares it.
	c2, _, _ := dial(t, l.Addr(), "127.0.0.1", p, "127.0.0.1:5050")
	start = time.Now()
	for _, line := range txLines(p, 22)[11:] {
		c.Write(append(line, '\n'))
		c2.Write(append(line, '\n'))
	}
	waitFor(t, "22 lines", func() bool { return len(l.out.lines()) == 22 })
	if d := time.Since(start); d < 380*time.Millisecond {
		t.Fatalf("22 lines on two connections read in %v, faster than 50 a second", d)
	}
}

func TestConnectionLimits(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.MaxConnsPerIP, c.MaxConns = 2, 3 })
	for i := range 2 {
		if _, _, h := dial(t, l.Addr(), "127.0.0.2", p, "127.0.0.2:5050"); h == nil {
			t.Fatalf("connection %d refused", i+1)
		}
	}
	if _, _, h := dial(t, l.Addr(), "127.0.0.2", p, "127.0.0.2:5050"); h != nil {
		t.Fatal("a third connection from one IP answered")
	}
	waitFor(t, "the per-IP log line", func() bool {
		return l.log.count("127.0.0.2: refused: 2 connections from this address already") == 1
	})
	if _, _, h := dial(t, l.Addr(), "127.0.0.3", p, "127.0.0.3:5050"); h == nil {
		t.Fatal("another IP refused")
	}
	if _, _, h := dial(t, l.Addr(), "127.0.0.4", p, "127.0.0.4:5050"); h != nil {
		t.Fatal("a fourth connection answered")
	}
	waitFor(t, "the total log line", func() bool {
		return l.log.count("127.0.0.4: refused: 3 connections, this node's limit") == 1
	})
}

func TestHostilePeers(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.HandshakeTimeout = 200 * time.Millisecond })
	lines := txLines(p, 4)
	honest, _, _ := dial(t, l.Addr(), "127.0.0.5", p, "127.0.0.5:5050")
	honest.Write(append(lines[0], '\n'))

	// Slowloris: connect, send nothing.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.6")}}
	slow, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	slow.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := slow.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("slowloris: read %d, %v; want EOF", n, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > time.Second {
		t.Fatalf("slowloris cut after %v, want the handshake timeout", d)
	}
	// A hello that is garbage.
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	io.Copy(io.Discard, c)
	c.Close()

	// After the hello: garbage, a tagged line, a transfer over its limit,
	// a line over the reader's cap.
	bad, _, _ := dial(t, l.Addr(), "127.0.0.7", p, "127.0.0.7:5050")
	// A valid transfer with blanks: over params.MaxTxLine.
	big := bytes.Replace(lines[1], []byte(`"tx",`), append([]byte(`"tx",`), bytes.Repeat([]byte(" "), params.MaxTxLine)...), 1)
	for _, b := range [][]byte{[]byte("garbage"), []byte("127.0.0.9 " + string(lines[1])), big} {
		bad.Write(append(b, '\n'))
	}
	honest.Write(append(lines[2], '\n'))
	waitFor(t, "three drops logged", func() bool { return l.log.count("127.0.0.7: line") == 3 })
	huge := bytes.Repeat([]byte("x"), wire.MaxLine(p)+100)
	bad.Write(huge) // the listener closes when the cap is passed
	waitFor(t, "the oversized line logged", func() bool {
		return l.log.count(fmt.Sprintf("127.0.0.7: line 4 dropped: too-large: line over %d bytes, connection closed", wire.MaxLine(p))) == 1
	})
	honest.Write(append(lines[3], '\n'))
	waitFor(t, "the honest lines", func() bool { return len(l.out.lines()) == 3 })
	for i, want := range []int{0, 2, 3} {
		if got := l.out.lines()[i]; got != "127.0.0.5 "+string(lines[want]) {
			t.Fatalf("line %d printed: %.60s", i, got)
		}
	}
	for _, want := range []string{
		"127.0.0.6: closed: no hello within 200ms",
		"127.0.0.6: refused: bad hello: bad-json",
		"127.0.0.7: line 1 dropped: bad-json",
		"127.0.0.7: line 2 dropped: bad-json: a peer's line carries a sender tag",
		"127.0.0.7: line 3 dropped: too-large: transaction line of",
	} {
		if l.log.count(want) != 1 {
			t.Errorf("log lacks %q:\n%s", want, l.log)
		}
	}
	b, _ := os.ReadFile(chaindir.Dir(l.dir).File(chaindir.RejectsFile))
	if n := bytes.Count(b, []byte(`"from":"127.0.0.7"`)); n != 4 {
		t.Errorf("rejects.log holds %d lines from 127.0.0.7, want 4:\n%s", n, b)
	}
}

func TestCutOff(t *testing.T) {
	p := devnet(t)
	bans := &Bans{Threshold: 3, Window: time.Minute, CoolOff: 300 * time.Millisecond, MaxCoolOff: time.Second, Forget: time.Hour}
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.Bans = bans })
	rogue, br, _ := dial(t, l.Addr(), "127.0.0.8", p, "127.0.0.8:5050")
	honest, _, _ := dial(t, l.Addr(), "127.0.0.5", p, "127.0.0.5:5050")
	// cnj-verify's rejects, as it logs them.
	f, err := os.OpenFile(chaindir.Dir(l.dir).File(chaindir.RejectsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		fmt.Fprintf(f, `{"time":1,"from":"127.0.0.8","reason":"bad-signature","id":"00000000000000000000000000000000","msg":""}`+"\n")
	}
	f.Close()
	waitFor(t, "the cut-off logged", func() bool { return l.log.count("127.0.0.8: cut off for 300ms: 3 rejects") == 1 })
	rogue.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("the rogue's connection is open: %v", err)
	}
	if _, _, h := dial(t, l.Addr(), "127.0.0.8", p, "127.0.0.8:5050"); h != nil {
		t.Fatal("a cut-off IP was answered")
	}
	lines := txLines(p, 1)
	honest.Write(append(lines[0], '\n'))
	waitFor(t, "the honest line", func() bool { return len(l.out.lines()) == 1 })
	time.Sleep(300 * time.Millisecond)
	if _, _, h := dial(t, l.Addr(), "127.0.0.8", p, "127.0.0.8:5050"); h == nil {
		t.Fatal("the cut-off did not end")
	}
	if l.log.count("cut off") != 1 {
		t.Fatalf("log:\n%s", l.log)
	}
}

// nonReader accepts relay connections on ip, answers the hello and then
// reads nothing.
func nonReader(t *testing.T, p *params.Params, ip string) string {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetReadBuffer(4096)
			t.Cleanup(func() { c.Close() })
			go func() {
				bufio.NewReader(c).ReadBytes('\n')
				h := &wire.Hello{Network: p.Hash(), Version: wire.Version, Address: ln.Addr().String()}
				c.Write(append(h.Encode(), '\n'))
			}()
		}
	}()
	return ln.Addr().String()
}

func TestNonReaderDropped(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", nil)
	stuck := nonReader(t, p, "127.0.0.2")
	lines := txLines(p, 3000)
	pr, pw := io.Pipe()
	log := &logBuf{}
	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		done <- sendLowered(context.Background(), SendConfig{Params: p, To: []string{l.Addr().String(), stuck}, Chain: dir, Logf: log.logf, StatsEvery: 10 * time.Millisecond}, pr)
	}()
	start := time.Now()
	for _, line := range lines {
		pw.Write(append(line, '\n'))
	}
	waitFor(t, "every line at the reading peer", func() bool { return len(l.out.lines()) == len(lines) })
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the reading peer got its lines in %v", d)
	}
	waitFor(t, "the stuck peer dropped", func() bool { return log.count(stuck+": disconnected: dropped: not reading") >= 1 })
	// The stats file counts the drop and the lines written.
	path := filepath.Join(dir, chaindir.RelayStatsName(chaindir.RelaySend, os.Getpid()))
	waitStats(t, path, "the drop and the lines written", func(c chaindir.RelaySendStats) bool {
		return c.NotReading >= 1 && c.LinesTx >= uint64(len(lines))
	})
	pw.Close()
	<-done
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stats file is left after Send returned: %v", err)
	}
}

func TestSendPeersFile(t *testing.T) {
	p := devnet(t)
	a := listen(t, p, "127.0.0.1", nil)
	b := listen(t, p, "127.0.0.2", nil)
	file := filepath.Join(t.TempDir(), "peers")
	os.WriteFile(file, []byte(a.Addr().String()+"\n"), 0o644)
	pr, pw := io.Pipe()
	log := &logBuf{}
	done := make(chan error, 1)
	go func() {
		done <- sendLowered(context.Background(), SendConfig{Params: p, PeersFile: file, Logf: log.logf, Bind: netip.MustParseAddr("127.0.0.3")}, pr)
	}()
	lines := txLines(p, 3)
	pw.Write(append(lines[0], '\n'))
	waitFor(t, "line 1 at a", func() bool { return len(a.out.lines()) == 1 })
	if got := a.out.lines()[0]; !strings.HasPrefix(got, "127.0.0.3 {") {
		t.Fatalf("a printed %.40s, want the bind address as tag", got)
	}
	os.WriteFile(file, []byte(a.Addr().String()+"\n# b joined\n"+b.Addr().String()+"\n"), 0o644)
	waitFor(t, "b's connection", func() bool { return b.Stats().Connected == 1 })
	pw.Write(append(lines[1], '\n'))
	waitFor(t, "line 2 at a and b", func() bool { return len(a.out.lines()) == 2 && len(b.out.lines()) == 1 })
	os.WriteFile(file, []byte(b.Addr().String()+"\n"), 0o644)
	waitFor(t, "a left", func() bool { return log.count(a.Addr().String()+": no longer a peer") == 1 })
	pw.Write(append(lines[2], '\n'))
	waitFor(t, "line 3 at b", func() bool { return len(b.out.lines()) == 2 })
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(a.out.lines()) != 2 {
		t.Fatalf("a got a line after it left the peers file")
	}
}

func TestSendOriginAndSelf(t *testing.T) {
	p := devnet(t)
	a := listen(t, p, "127.0.0.1", nil)
	b := listen(t, p, "127.0.0.2", nil)
	lines := txLines(p, 2)
	// A line tagged with a's IP goes to b only; a line of no one to both.
	err, log := send(t, SendConfig{Params: p, To: []string{a.Addr().String(), b.Addr().String()}},
		[]byte("127.0.0.1 "+string(lines[0])), lines[1])
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	waitFor(t, "the lines", func() bool { return len(a.out.lines()) == 1 && len(b.out.lines()) == 2 })
	// A peer that answers with this node's own address is left.
	self := a.Addr()
	err, log = send(t, SendConfig{Params: p, Self: self, To: []string{"localhost:" + fmt.Sprint(self.Port())}}, txLines(p, 3)[2])
	if err != nil || log.count("that is this node's own address: left") != 1 {
		t.Fatalf("Send to itself: %v\n%s", err, log)
	}
	if len(a.out.lines()) != 1 {
		t.Fatal("a node sent lines to itself")
	}
}

func TestKeepAlive(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.IdleTimeout = 200 * time.Millisecond })
	pr, pw := io.Pipe()
	log := &logBuf{}
	done := make(chan error, 1)
	go func() {
		done <- sendLowered(context.Background(), SendConfig{Params: p, To: []string{l.Addr().String()}, Logf: log.logf, KeepAlive: 50 * time.Millisecond}, pr)
	}()
	lines := txLines(p, 2)
	pw.Write(append(lines[0], '\n'))
	time.Sleep(600 * time.Millisecond)
	pw.Write(append(lines[1], '\n'))
	waitFor(t, "both lines", func() bool { return len(l.out.lines()) == 2 })
	pw.Close()
	<-done
	if l.log.count("idle") != 0 || log.count("disconnected") != 0 {
		t.Fatalf("a quiet connection was closed:\n%s\n%s", l.log, log)
	}
	// A peer that sends nothing after its hello is closed when idle.
	c, br, _ := dial(t, l.Addr(), "127.0.0.1", p, "127.0.0.1:5050")
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: %v", err)
	}
	waitFor(t, "the idle log line", func() bool { return l.log.count("127.0.0.1: closed: idle for 200ms") == 1 })
}

func TestQueueBounded(t *testing.T) {
	p := devnet(t)
	cfg := SendConfig{Params: p, Queue: 3, QueueBytes: 100}
	lowerSend(&cfg)
	s, err := newSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	line := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	tests := []struct {
		name      string
		connected bool
		stalled   bool
		lines     []int // sizes enqueued
		queued    int   // lines left in the queue
		dropped   bool
	}{
		{"within the bounds", true, false, []int{10, 10, 10}, 3, false},
		{"line bound, peer reads", true, false, []int{10, 10, 10, 10}, 3, false},
		{"byte bound, peer reads", true, false, []int{60, 60}, 1, false},
		{"line bound, peer stalled", true, true, []int{10, 10, 10, 10}, 0, true},
		{"byte bound, peer stalled", true, true, []int{60, 60}, 0, true},
		{"not connected", false, true, []int{10, 10, 10, 10}, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := newPeer(s, "127.0.0.2:5050")
			a, b := net.Pipe()
			defer b.Close()
			if tt.connected {
				pr.conn, pr.progress = a, time.Now()
				if tt.stalled {
					pr.progress = time.Now().Add(-s.cfg.StallTimeout - time.Second)
				}
			}
			full, notReading := s.st.queueFull.Load(), s.st.notReading.Load()
			for _, n := range tt.lines {
				pr.enqueue(outLine{b: line(n)})
			}
			if len(pr.q) != tt.queued || (pr.dropped != nil) != tt.dropped {
				t.Fatalf("%d lines queued, dropped %v; want %d, %v", len(pr.q), pr.dropped, tt.queued, tt.dropped)
			}
			// Every line the peer does not get is counted: refused, or
			// thrown away with the queue of a peer dropped.
			full, notReading = s.st.queueFull.Load()-full, s.st.notReading.Load()-notReading
			if want := uint64(len(tt.lines) - tt.queued); full != want {
				t.Errorf("%d lines counted as missed, want %d", full, want)
			}
			if (notReading == 1) != tt.dropped || notReading > 1 {
				t.Errorf("%d peers counted as dropped, want dropped %v", notReading, tt.dropped)
			}
			if tt.dropped {
				if _, err := a.Write([]byte("x")); err == nil {
					t.Fatal("the dropped peer's connection is open")
				}
			}
		})
	}
}
