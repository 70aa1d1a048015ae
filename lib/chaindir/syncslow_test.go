package chaindir

import (
	"maps"
	"testing"
	"time"
)

// TestSlowPeers: a slow peer is remembered for SlowPeerMemory, forgotten
// at once when a sync from it succeeds; nothing is written for a peer
// that was never slow.
func TestSlowPeers(t *testing.T) {
	d := Dir(t.TempDir())
	now := time.Unix(1_700_000_000, 0)
	if err := d.NoteSlowPeer("127.0.0.5:56230", now, false); err != nil {
		t.Fatal(err)
	}
	if _, err := StampFile(d.File(SyncSlowFile)); err == nil {
		t.Fatal("a peer that was never slow was written down")
	}
	d.NoteSlowPeer("127.0.0.5:56230", now, true)
	d.NoteSlowPeer("127.0.0.6:56230", now.Add(time.Hour), true)
	m, err := d.SlowPeers(now.Add(time.Hour))
	if want := map[string]int64{"127.0.0.5:56230": now.Unix(), "127.0.0.6:56230": now.Unix() + 3600}; err != nil || !maps.Equal(m, want) {
		t.Fatalf("SlowPeers = %v, %v; want %v", m, err, want)
	}
	if m, _ := d.SlowPeers(now.Add(SlowPeerMemory + time.Minute)); len(m) != 1 || m["127.0.0.6:56230"] == 0 {
		t.Fatalf("after a day: %v, want the later one only", m)
	}
	d.NoteSlowPeer("127.0.0.6:56230", now.Add(2*time.Hour), false)
	if m, _ := d.SlowPeers(now.Add(2 * time.Hour)); len(m) != 1 || m["127.0.0.5:56230"] == 0 {
		t.Fatalf("after a good sync from one: %v", m)
	}
}
