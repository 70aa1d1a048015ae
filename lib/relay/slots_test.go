package relay

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
)

func TestNetGroup(t *testing.T) {
	for _, c := range []struct{ ip, group string }{
		{"127.0.0.5", "127.0.0.5/32"},
		{"10.1.2.3", "10.1.2.3/32"},
		{"192.168.1.7", "192.168.1.7/32"},
		{"fe80::1", "fe80::1/128"},
		{"203.0.113.77", "203.0.113.0/24"},
		{"2001:db8:1:2::7", "2001:db8:1::/48"},
	} {
		if got := netGroup(netip.MustParseAddr(c.ip)).String(); got != c.group {
			t.Errorf("netGroup(%s) = %s, want %s", c.ip, got, c.group)
		}
	}
}

// closed reports whether the listener closed c within d.
func closed(c net.Conn, br *bufio.Reader, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	_, err := br.ReadByte()
	return err != nil && !os.IsTimeout(err)
}

// TestEviction: a full listener takes a newcomer at once by evicting the
// youngest connection of the network group with the most connections,
// never one of the peers file, of a peer that delivered lately, or of the
// ProtectOldest longest-connected; keep-alives buy nothing.
func TestEviction(t *testing.T) {
	p := devnet(t)
	now := time.Now()
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) {
		c.MaxConns, c.MaxConnsPerIP = 13, 4
		d := chaindir.Dir(c.Chain)
		d.WritePeers([]string{"127.0.0.41:5050"})
		d.MergeDelivered([]chaindir.Delivered{{IP: netip.MustParseAddr("127.0.0.42"), Block: now.Unix()}}, now)
	})
	type conn struct {
		c  net.Conn
		br *bufio.Reader
	}
	open := func(ip string) conn {
		t.Helper()
		c, br, h := dial(t, l.Addr(), ip, p, ip+":5050")
		if h == nil {
			t.Fatalf("%s: no hello", ip)
		}
		c.Write([]byte("\n")) // a keep-alive
		return conn{c, br}
	}
	var oldest []conn
	for _, ip := range []string{"127.0.0.30", "127.0.0.31"} {
		for range 4 {
			oldest = append(oldest, open(ip))
		}
	}
	b1, b2 := open("127.0.0.32"), open("127.0.0.32")
	single, x := open("127.0.0.33"), open("127.0.0.34")
	listed := open("127.0.0.41")
	// Full: 13. A newcomer is answered at once; the youngest connection
	// of the biggest unprotected group goes.
	start := time.Now()
	useful := open("127.0.0.42")
	if d := time.Since(start); d > time.Second {
		t.Errorf("the newcomer waited %v", d)
	}
	if !closed(b2.c, b2.br, 5*time.Second) {
		t.Fatal("the youngest connection of the biggest unprotected group is open")
	}
	waitFor(t, "the eviction logged", func() bool { return l.log.count("127.0.0.32: evicted for 127.0.0.42: 13 connections") == 1 })
	// Between groups of as many connections, the newest goes, but for
	// those of the peers file and of the peers that delivered.
	h := open("127.0.0.40")
	if !closed(x.c, x.br, 5*time.Second) {
		t.Fatal("the newest unprotected connection is open")
	}
	for name, c := range map[string]conn{"the older of its group": b1, "an older one of a group as small": single,
		"the peers file's": listed, "the one that delivered a block": useful, "the newcomer": h} {
		if closed(c.c, c.br, 50*time.Millisecond) {
			t.Errorf("%s was closed", name)
		}
	}
	for i, c := range oldest {
		if closed(c.c, c.br, 10*time.Millisecond) {
			t.Errorf("old connection %d was closed", i)
		}
	}
	// The next newcomer takes the slot of the last one (as in Bitcoin
	// Core; a newcomer stays once it delivers, or is recorded as a peer).
	open("127.0.0.43")
	if !closed(h.c, h.br, 5*time.Second) {
		t.Fatal("between groups of one connection, the newest is open")
	}
}

// TestGroupLimit: connections from one network group are bounded.
func TestGroupLimit(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.MaxConnsPerIP, c.MaxConnsPerGroup = 4, 2 })
	for i := range 2 {
		if _, _, h := dial(t, l.Addr(), "127.0.0.50", p, "127.0.0.50:5050"); h == nil {
			t.Fatalf("connection %d refused", i+1)
		}
	}
	if _, _, h := dial(t, l.Addr(), "127.0.0.50", p, "127.0.0.50:5050"); h != nil {
		t.Fatal("a third connection of one group answered")
	}
	waitFor(t, "the group's log line", func() bool {
		return l.log.count("127.0.0.50: refused: 2 connections from 127.0.0.50/32 already") == 1
	})
}
