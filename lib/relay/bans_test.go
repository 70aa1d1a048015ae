package relay

import (
	"net/netip"
	"testing"
	"time"
)

func TestBans(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.66")
	other := netip.MustParseAddr("127.0.0.67")
	t0 := time.Unix(1_700_000_000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type step struct {
		at     float64 // seconds after t0
		ip     netip.Addr
		cut    time.Duration // the cut-off the strike starts, 0 for none
		banned bool          // Banned(ip) right after
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"below the threshold", []step{{0, ip, 0, false}, {1, ip, 0, false}}},
		{"threshold reached", []step{{0, ip, 0, false}, {1, ip, 0, false}, {2, ip, 10 * time.Second, true}}},
		{"other IPs do not count", []step{{0, ip, 0, false}, {1, other, 0, false}, {2, ip, 0, false}, {3, ip, 10 * time.Second, true}}},
		{"old rejects leave the window", []step{{0, ip, 0, false}, {1, ip, 0, false}, {61, ip, 0, false}, {62, ip, 0, false}, {63, ip, 10 * time.Second, true}}},
		{"strikes while cut off are ignored", []step{
			{0, ip, 0, false}, {0, ip, 0, false}, {0, ip, 10 * time.Second, true},
			{1, ip, 0, true}, {2, ip, 0, true}, {3, ip, 0, true},
			{10, ip, 0, false}, // the cool-off is over; counting starts again
		}},
		{"repeat offences double, capped", []step{
			{0, ip, 0, false}, {0, ip, 0, false}, {0, ip, 10 * time.Second, true},
			{10, ip, 0, false}, {10, ip, 0, false}, {10, ip, 20 * time.Second, true},
			{30, ip, 0, false}, {30, ip, 0, false}, {30, ip, 40 * time.Second, true},
			{70, ip, 0, false}, {70, ip, 0, false}, {70, ip, 50 * time.Second, true},
			{120, ip, 0, false}, {120, ip, 0, false}, {120, ip, 50 * time.Second, true},
			{169, ip, 0, true}, {170, ip, 0, false}, // never for good
		}},
		{"offences forgotten", []step{
			{0, ip, 0, false}, {0, ip, 0, false}, {0, ip, 10 * time.Second, true},
			{1000, ip, 0, false}, {1000, ip, 0, false}, {1000, ip, 10 * time.Second, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Bans{Threshold: 3, Window: time.Minute, CoolOff: 10 * time.Second, MaxCoolOff: 50 * time.Second, Forget: 500 * time.Second}
			for i, s := range tt.steps {
				c := b.Strike(s.ip, at(s.at))
				switch {
				case s.cut == 0 && c != nil:
					t.Fatalf("step %d: cut off for %v, want no cut-off", i, c.For)
				case s.cut != 0 && c == nil:
					t.Fatalf("step %d: no cut-off, want %v", i, s.cut)
				case c != nil && (c.For != s.cut || c.IP != s.ip || c.Rejects != 3):
					t.Fatalf("step %d: %+v, want %v of %v after 3 rejects", i, c, s.cut, s.ip)
				}
				if got, _ := b.Banned(s.ip, at(s.at)); got != s.banned {
					t.Fatalf("step %d: Banned = %v, want %v", i, got, s.banned)
				}
			}
		})
	}
}

func TestBansPrune(t *testing.T) {
	b := &Bans{Threshold: 2, Window: time.Second, CoolOff: time.Second, MaxCoolOff: time.Second, Forget: time.Second}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range maxTracked {
		b.Strike(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	}
	late := t0.Add(time.Hour)
	ip := netip.MustParseAddr("127.0.0.66")
	b.Strike(ip, late)
	if c := b.Strike(ip, late); c == nil {
		t.Fatal("a new IP is not tracked once the table was full of stale ones")
	}
	if len(b.ips) > 1 {
		t.Fatalf("%d IPs tracked after pruning, want 1", len(b.ips))
	}
}
