package chaindir

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"
)

// TestDelivered: merges keep the later time of each IP, drop the IPs idle
// for DeliveredKeep, keep the MaxDelivered most recent, most recent first;
// the stamp tells a reader whether the file changed.
func TestDelivered(t *testing.T) {
	d := Dir(t.TempDir())
	if es, st, err := d.ReadDelivered(); es != nil || st != (Stamp{}) || err != nil {
		t.Fatalf("no file: %v %v %v", es, st, err)
	}
	now := time.Unix(1_700_000_000, 0)
	a, b, c := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("::ffff:127.0.0.4")
	if err := d.MergeDelivered([]Delivered{{a, 100, 0}, {b, 0, 50}}, now); err == nil {
		es, _, _ := d.ReadDelivered()
		if len(es) != 0 {
			t.Fatalf("deliveries older than a day kept: %v", es)
		}
	} else {
		t.Fatal(err)
	}
	t1 := now.Unix()
	d.MergeDelivered([]Delivered{{a, t1 - 10, 0}, {b, 0, t1 - 5}}, now)
	_, st1, _ := d.ReadDelivered()
	d.MergeDelivered([]Delivered{{a, t1 - 20, t1 - 1}, {c, t1 - 30, 0}}, now)
	es, st2, err := d.ReadDelivered()
	if err != nil || st1 == st2 {
		t.Fatalf("stamps %v %v, %v", st1, st2, err)
	}
	want := []Delivered{{a, t1 - 10, t1 - 1}, {b, 0, t1 - 5}, {netip.MustParseAddr("127.0.0.4"), t1 - 30, 0}}
	if !slices.Equal(es, want) {
		t.Fatalf("read %v, want %v", es, want)
	}
	b0, _ := os.ReadFile(d.File(DeliveredFile))
	if want := fmt.Sprintf(`{"ip":"127.0.0.2","block":%d,"tx":%d}`+"\n", t1-10, t1-1); string(b0[:len(want)]) != want {
		t.Fatalf("first line %q, want %q", b0, want)
	}
	var many []Delivered
	for i := range MaxDelivered + 10 {
		many = append(many, Delivered{netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), t1 - int64(i), 0})
	}
	d.MergeDelivered(many, now)
	es, _, _ = d.ReadDelivered()
	if len(es) != MaxDelivered || es[0].IP != many[0].IP {
		t.Fatalf("%d entries, first %v; want %d, the newest first", len(es), es[0], MaxDelivered)
	}
}
