package chaindir

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chainhash"
)

// TestPeerTips: the last tip each peer claimed is kept, a newer claim
// replaces an older, claims older than PeerExpiry and bad lines are
// left out, anything but HOST:PORT is not recorded, and the file keeps
// the MaxPeers most recent.
func TestPeerTips(t *testing.T) {
	d := Dir(t.TempDir())
	now := time.Unix(1_800_000_000, 0)
	h1, h2 := chainhash.Hash{1}, chainhash.Hash{2}
	if err := d.NotePeerTips(now, PeerTip{Peer: "127.0.0.2:56230", Time: now.Unix(), Height: 5, Hash: h1},
		PeerTip{Peer: "bad peer", Time: now.Unix(), Height: 9, Hash: h1}); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	if err := d.NotePeerTips(later, PeerTip{Peer: "127.0.0.3:56230", Time: later.Unix(), Height: 7, Hash: h2}); err != nil {
		t.Fatal(err)
	}
	m, err := d.PeerTips(later)
	if err != nil || len(m) != 2 || m["127.0.0.2:56230"].Height != 5 || m["127.0.0.2:56230"].Hash != h1 || m["127.0.0.3:56230"].Height != 7 {
		t.Fatalf("PeerTips = %v, %v", m, err)
	}
	if err := d.NotePeerTips(later, PeerTip{Peer: "127.0.0.2:56230", Time: later.Unix(), Height: 8, Hash: h2}); err != nil {
		t.Fatal(err)
	}
	if m, _ := d.PeerTips(later); m["127.0.0.2:56230"].Height != 8 || m["127.0.0.2:56230"].Hash != h2 {
		t.Fatalf("a newer claim: %v", m)
	}
	// The same claim soon after is not written again; after
	// PeerTipRefresh it is.
	if err := d.NotePeerTips(later, PeerTip{Peer: "127.0.0.3:56230", Time: later.Unix() + 60, Height: 7, Hash: h2}); err != nil {
		t.Fatal(err)
	}
	if m, _ := d.PeerTips(later); m["127.0.0.3:56230"].Time != later.Unix() {
		t.Fatalf("the same claim a minute later was written: %v", m)
	}
	refresh := later.Unix() + int64(PeerTipRefresh/time.Second)
	if err := d.NotePeerTips(later, PeerTip{Peer: "127.0.0.3:56230", Time: refresh, Height: 7, Hash: h2}); err != nil {
		t.Fatal(err)
	}
	if m, _ := d.PeerTips(later); m["127.0.0.3:56230"].Time != refresh {
		t.Fatalf("the same claim after PeerTipRefresh was not written: %v", m)
	}
	if m, _ := d.PeerTips(later.Add(PeerExpiry)); len(m) != 2 { // 127.0.0.2's time is later's
		t.Fatalf("at PeerExpiry: %v", m)
	}
	if m, _ := d.PeerTips(later.Add(PeerExpiry + PeerTipRefresh + time.Second)); len(m) != 0 {
		t.Fatalf("past PeerExpiry: %v", m)
	}
	// A damaged line is skipped, the others read.
	f, err := os.OpenFile(d.File(PeerTipsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "{\"peer\":\"127.0.0.4:56230\",\"time\":%d,\"height\":1,\"hash\":\"zz\"}\n{\"peer\":\n", later.Unix())
	f.Close()
	if m, err := d.PeerTips(later); err != nil || len(m) != 2 {
		t.Fatalf("with damaged lines: %v, %v", m, err)
	}
	// At most MaxPeers lines, the most recent.
	var tips []PeerTip
	for i := range MaxPeers + 1 {
		tips = append(tips, PeerTip{Peer: fmt.Sprintf("10.0.%d.%d:56230", i/200, i%200), Time: later.Unix() + int64(i), Height: uint64(i), Hash: h1})
	}
	if err := d.NotePeerTips(later, tips...); err != nil {
		t.Fatal(err)
	}
	m, _ = d.PeerTips(later)
	if len(m) != MaxPeers || m["10.0.0.0:56230"].Peer != "" || m[tips[MaxPeers].Peer].Height != uint64(MaxPeers) {
		t.Fatalf("%d peers kept, want the %d most recent", len(m), MaxPeers)
	}
}
