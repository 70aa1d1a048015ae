package relay

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
)

// TestBansOrphans: every OrphanWeight orphans within a window are one
// strike; orphans and other rejects add up; a window of orphans starts
// again after Window.
func TestBansOrphans(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.66")
	t0 := time.Unix(1_700_000_000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	newBans := func() *Bans {
		return &Bans{Threshold: 3, Window: time.Minute, CoolOff: 10 * time.Second, MaxCoolOff: time.Minute, Forget: time.Hour, OrphanWeight: 4}
	}
	orphans := func(b *Bans, n int, s float64) (cuts int, at0 int) {
		for i := range n {
			if c := b.Orphan(ip, at(s)); c != nil {
				cuts++
				at0 = i + 1
			}
		}
		return cuts, at0
	}
	b := newBans()
	if cuts, n := orphans(b, 12, 0); cuts != 1 || n != 12 {
		t.Fatalf("12 orphans with weight 4 and threshold 3: %d cut-offs, at orphan %d; want one, at the 12th", cuts, n)
	}
	b = newBans()
	if cuts, _ := orphans(b, 11, 0); cuts != 0 {
		t.Fatal("11 orphans cut off")
	}
	b = newBans()
	b.Strike(ip, at(0))
	b.Strike(ip, at(1))
	if cuts, n := orphans(b, 4, 2); cuts != 1 || n != 4 {
		t.Fatalf("two rejects and four orphans: %d cut-offs at orphan %d, want one at the 4th", cuts, n)
	}
	b = newBans()
	orphans(b, 3, 0)
	if cuts, _ := orphans(b, 3, 61); cuts != 0 {
		t.Fatal("3 orphans, then 3 more after the window, made a strike")
	}
	if got, _ := b.Banned(ip, at(61)); got {
		t.Fatal("banned")
	}
	// The default weight applies to Bans built without one.
	b = &Bans{Threshold: 1, Window: time.Minute, CoolOff: time.Second, MaxCoolOff: time.Second, Forget: time.Hour}
	if cuts, n := orphans(b, 2*DefaultOrphanWeight, 0); cuts != 1 || n != DefaultOrphanWeight {
		t.Fatalf("threshold 1, no weight set: %d cut-offs at orphan %d, want one at the %dth", cuts, n, DefaultOrphanWeight)
	}
}

// TestCutOffAtThreshold: a peer that sends thousands of bad lines at once
// is cut off at the threshold-th: no line after it is logged, neither in
// rejects.log nor on the log, and its connection is closed.
func TestCutOffAtThreshold(t *testing.T) {
	p := devnet(t)
	bans := &Bans{Threshold: 10, Window: time.Minute, CoolOff: time.Minute, MaxCoolOff: time.Minute, Forget: time.Hour}
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.Bans = bans; c.RejectsPoll = time.Second })
	// Below the threshold, the lines it logged itself are not counted
	// again when its poll of rejects.log reads them back.
	few, _, h := dial(t, l.Addr(), "127.0.0.7", p, "127.0.0.7:5050")
	if h == nil {
		t.Fatal("no hello")
	}
	few.Write(bytes.Repeat([]byte("bad\n"), 6))
	waitFor(t, "six lines dropped", func() bool { return l.log.count("127.0.0.7: line") == 6 })
	time.Sleep(2 * time.Second)
	if l.log.count("cut off") != 0 {
		t.Fatalf("six rejects cut off:\n%s", l.log)
	}
	// Four connections of one IP sending at once.
	rogue, br, h := dial(t, l.Addr(), "127.0.0.8", p, "127.0.0.8:5050")
	if h == nil {
		t.Fatal("no hello")
	}
	var others []net.Conn
	for range 3 {
		c, _, h := dial(t, l.Addr(), "127.0.0.8", p, "127.0.0.8:5050")
		if h == nil {
			t.Fatal("no hello")
		}
		others = append(others, c)
	}
	flood := bytes.Repeat([]byte("bad\n"), 5000)
	for _, c := range others {
		go c.Write(flood)
	}
	rogue.Write(flood)
	waitFor(t, "the cut-off logged", func() bool { return l.log.count("127.0.0.8: cut off for 1m: 10 rejects") == 1 })
	rogue.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("the rogue's connection is open")
	}
	time.Sleep(2 * time.Second) // a poll of rejects.log, which must not count its own lines again
	if n := l.log.count("127.0.0.8: line"); n != 10 {
		t.Errorf("%d of its lines logged, want 10", n)
	}
	b, _ := os.ReadFile(chaindir.Dir(l.dir).File(chaindir.RejectsFile))
	if n := bytes.Count(b, []byte(`"from":"127.0.0.8"`)); n != 10 {
		t.Errorf("rejects.log holds %d lines from the rogue, want 10", n)
	}
	if n := l.log.count("cut off"); n != 1 {
		t.Errorf("%d cut-offs logged:\n%s", n, l.log)
	}
}

// TestOrphansCutOff: unknown-parent rejects in rejects.log count as
// 1/OrphanWeight of a reject each: a few are forgiven, a flood cuts off.
func TestOrphansCutOff(t *testing.T) {
	p := devnet(t)
	bans := &Bans{Threshold: 2, Window: time.Minute, CoolOff: time.Minute, MaxCoolOff: time.Minute, Forget: time.Hour, OrphanWeight: 32}
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.Bans = bans })
	if _, _, h := dial(t, l.Addr(), "127.0.0.11", p, "127.0.0.11:5050"); h == nil {
		t.Fatal("no hello") // and the listener follows rejects.log from here
	}
	d := chaindir.Dir(l.dir)
	orphan := func(ip string, n int) {
		for i := range n {
			d.LogReject(chaindir.Reject{Time: 1, From: ip, Reason: "unknown-parent", Hash: bytes.Repeat([]byte{byte(i)}, 32), Msg: "no parent"})
		}
	}
	orphan("127.0.0.9", 63) // an honest node that is behind: not cut off
	orphan("127.0.0.10", 64)
	waitFor(t, "the flood cut off", func() bool { return l.log.count("127.0.0.10: cut off") == 1 })
	time.Sleep(100 * time.Millisecond)
	if l.log.count("127.0.0.9: cut off") != 0 {
		t.Fatalf("63 orphans cut off:\n%s", l.log)
	}
	if banned, _ := bans.Banned(netip.MustParseAddr("127.0.0.9"), time.Now()); banned {
		t.Fatal("63 orphans banned")
	}
}

// TestCutOffDropsQueued: lines of a peer that were queued for Out when it
// was cut off are not written: cnj-verify would only refuse and log them.
func TestCutOffDropsQueued(t *testing.T) {
	p := devnet(t)
	out := &outBuf{}
	bans := &Bans{Threshold: 1, Window: time.Minute, CoolOff: time.Minute, MaxCoolOff: time.Minute, Forget: time.Hour}
	l, err := NewListener(ListenConfig{Addr: "127.0.0.1:0", Params: p, Out: out, Bans: bans})
	if err != nil {
		t.Fatal(err)
	}
	defer l.ln.Close()
	rogue, honest := netip.MustParseAddr("127.0.0.8"), netip.MustParseAddr("127.0.0.5")
	lines := txLines(p, 3)
	l.out <- outLineOf{rogue, []byte("127.0.0.8 " + string(lines[0]) + "\n")}
	l.out <- outLineOf{honest, []byte("127.0.0.5 " + string(lines[1]) + "\n")}
	l.out <- outLineOf{rogue, []byte("127.0.0.8 " + string(lines[2]) + "\n")}
	bans.Strike(rogue, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.writeOut(ctx) }()
	waitFor(t, "the honest line", func() bool { return strings.Contains(out.String(), "127.0.0.5 ") })
	cancel()
	<-done
	if got, want := out.String(), fmt.Sprintf("127.0.0.5 %s\n", lines[1]); got != want {
		t.Fatalf("written:\n%s\nwant\n%s", got, want)
	}
}
