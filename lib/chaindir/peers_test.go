package chaindir

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReadPeers: the one policy for every reader. Bare IPs take the relay
// port, HOST:PORT lines are canonical, comments and blank lines are
// skipped, duplicates count once, and a bad line is reported and skipped,
// never the reason to refuse the rest.
func TestReadPeers(t *testing.T) {
	d := Dir(t.TempDir())
	if p, bad, err := d.ReadPeers(); p != nil || bad != nil || err != nil {
		t.Fatalf("missing file: %q %q %v, want nothing", p, bad, err)
	}
	os.WriteFile(d.File(PeersFile), []byte("# my peers\n127.0.0.2:5050\n\n  127.0.0.3  \n127.0.0.2\nnot a:peer\n[::1]:6000\nNode.Example\n# end"), 0o644)
	peers, bad, err := d.ReadPeers()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.2:5050", "127.0.0.3:5050", "[::1]:6000", "node.example:5050"}; !slices.Equal(peers, want) {
		t.Errorf("peers %q, want %q", peers, want)
	}
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "line 6: ") {
		t.Errorf("bad %q, want line 6", bad)
	}
	// One peer per host: a second port of a host is reported.
	peers, bad = ParsePeers([]byte("127.0.0.2:5050\n127.0.0.3\n127.0.0.2:6000\n127.0.0.2:5050\n"))
	if !slices.Equal(peers, []string{"127.0.0.2:5050", "127.0.0.3:5050"}) ||
		!slices.Equal(bad, []string{"line 3: 127.0.0.2:6000: 127.0.0.2 is named already (127.0.0.2:5050), one peer per host"}) {
		t.Errorf("two ports of a host: %q, bad %q", peers, bad)
	}
}

// TestPeersBound: a file gives at most MaxPeers peers.
func TestPeersBound(t *testing.T) {
	var b strings.Builder
	for i := range MaxPeers + 1 {
		fmt.Fprintf(&b, "10.0.%d.%d\n", i/250, i%250+1)
	}
	peers, bad := ParsePeers([]byte(b.String()))
	if len(peers) != MaxPeers || bad != nil {
		t.Fatalf("%d peers, bad %q; want %d", len(peers), bad, MaxPeers)
	}
	peers, _ = ParsePeers([]byte(b.String()[:strings.LastIndex(strings.TrimSuffix(b.String(), "\n"), "\n")+1]))
	if len(peers) != MaxPeers {
		t.Fatalf("a file of exactly %d: %d peers", MaxPeers, len(peers))
	}
}

func TestWritePeers(t *testing.T) {
	d := Dir(t.TempDir())
	if err := d.WritePeers([]string{"127.0.0.2", "[0:0:0:0:0:0:0:1]:5050", "Node.Example:5051"}); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, d.File(PeersFile))); got != "127.0.0.2:5050\n[::1]:5050\nnode.example:5051\n" {
		t.Fatalf("peers = %q", got)
	}
	for _, bad := range []string{"0.0.0.0", "a b:1", "x:1\ny:2", "", "127.0.0.2:0"} {
		if err := d.WritePeers([]string{bad}); err == nil {
			t.Errorf("WritePeers(%q) succeeded", bad)
		}
	}
	if got := string(readFile(t, d.File(PeersFile))); got != "127.0.0.2:5050\n[::1]:5050\nnode.example:5051\n" {
		t.Fatalf("a refused write changed the file: %q", got)
	}
}

// TestRecordPeer: a peer's own hello adds its host once; a later one with
// another port changes the port of that line; the file keeps its other
// lines and comments and stops at MaxPeers.
func TestRecordPeer(t *testing.T) {
	d := Dir(t.TempDir())
	path := d.File(PeersFile)
	now := time.Unix(1_700_000_000, 0)
	for _, step := range []struct {
		addr string
		what Recorded
		file string
	}{
		{"127.0.0.2:5050", PeerAdded, "127.0.0.2:5050\n"},
		{"127.0.0.2:5050", PeerKnown, "127.0.0.2:5050\n"},
		{"127.0.0.3", PeerAdded, "127.0.0.2:5050\n127.0.0.3:5050\n"},
		{"127.0.0.2:6000", PeerUpdated, "127.0.0.2:6000\n127.0.0.3:5050\n"},
	} {
		what, err := d.RecordPeer(step.addr, now)
		if err != nil || what != step.what {
			t.Fatalf("RecordPeer(%s) = %v, %v; want %v", step.addr, what, err, step.what)
		}
		if b, _ := os.ReadFile(path); string(b) != step.file {
			t.Fatalf("after %s the file is %q, want %q", step.addr, b, step.file)
		}
	}
	// One IP announcing a thousand ports holds one line.
	for port := 1; port <= 1000; port++ {
		if _, err := d.RecordPeer(fmt.Sprintf("127.0.0.9:%d", port), now); err != nil {
			t.Fatal(err)
		}
	}
	if peers, _, _ := d.ReadPeers(); !slices.Equal(peers, []string{"127.0.0.2:6000", "127.0.0.3:5050", "127.0.0.9:1000"}) {
		t.Fatalf("after a thousand ports of one IP: %q", peers)
	}
	// Comments, bad lines and a missing last newline are kept.
	os.WriteFile(path, []byte("# seeds\nnot a peer\n127.0.0.2"), 0o644)
	if what, err := d.RecordPeer("127.0.0.2:5050", now); what != PeerKnown || err != nil {
		t.Fatalf("a peer written without its port was added again: %v %v", what, err)
	}
	d.RecordPeer("127.0.0.4:5050", now)
	if b, _ := os.ReadFile(path); string(b) != "# seeds\nnot a peer\n127.0.0.2\n127.0.0.4:5050\n" {
		t.Fatalf("file %q", b)
	}
	if _, err := d.RecordPeer("not a peer", now); err == nil {
		t.Fatal("RecordPeer took a bad address")
	}
	// The file is bounded.
	var fill []string
	for i := 2; i < MaxPeers; i++ {
		fill = append(fill, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
	if added, full, err := d.AddPeers(now, fill...); err != nil || full || len(added) != len(fill) {
		t.Fatalf("AddPeers: %d added, full %v, %v", len(added), full, err)
	}
	if what, err := d.RecordPeer("10.9.9.11:5050", now); what != PeerKnown || err != ErrPeersFull {
		t.Fatalf("a peer past the bound: %v %v, want ErrPeersFull", what, err)
	}
	if what, err := d.RecordPeer("10.0.0.3:5051", now); what != PeerUpdated || err != nil {
		t.Fatalf("a known peer's new port in a full file: %v %v", what, err)
	}
	if m, _ := filepath.Glob(path + ".tmp*"); len(m) > 0 {
		t.Fatalf("temporary files left: %q", m)
	}
}

// TestAddPeers: peers that others name are added by host, never change a
// known host's port, and stop at MaxPeers.
func TestAddPeers(t *testing.T) {
	d := Dir(t.TempDir())
	now := time.Unix(1_700_000_000, 0)
	d.WritePeers([]string{"127.0.0.2:5050"})
	added, full, err := d.AddPeers(now, "127.0.0.2:6000", "127.0.0.3", "127.0.0.3:7000")
	if err != nil || full || !slices.Equal(added, []string{"127.0.0.3:5050"}) {
		t.Fatalf("AddPeers = %q, %v, %v", added, full, err)
	}
	if b, _ := os.ReadFile(d.File(PeersFile)); string(b) != "127.0.0.2:5050\n127.0.0.3:5050\n" {
		t.Fatalf("file %q", b)
	}
	if _, _, err := d.AddPeers(now, "127.0.0.4", "not a peer"); err == nil {
		t.Fatal("AddPeers took a bad address")
	}
	var fill []string
	for i := range MaxPeers {
		fill = append(fill, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
	added, full, err = d.AddPeers(now, fill...)
	if err != nil || !full || len(added) != MaxPeers-2 {
		t.Fatalf("AddPeers at the bound: %d added, full %v, %v", len(added), full, err)
	}
}

// TestPeersAgeOut: the entries that commands added age out after
// PeerExpiry unseen, at the next write; a sighting keeps one; a line a
// person wrote stays; peers.seen holds the records of the file's entries
// only.
func TestPeersAgeOut(t *testing.T) {
	d := Dir(t.TempDir())
	t0 := time.Unix(1_700_000_000, 0)
	os.WriteFile(d.File(PeersFile), []byte("# mine\n127.0.0.2\n"), 0o644)
	d.RecordPeer("127.0.0.3:5050", t0)
	d.AddPeers(t0, "127.0.0.4:5050")
	d.RecordPeer("127.0.0.5:5050", t0)
	// Seen on the relay, and on the web app, a day before the expiry.
	day := t0.Add(PeerExpiry - 24*time.Hour)
	d.RecordPeer("127.0.0.3:5050", day)
	d.SeePeers(day, "127.0.0.4", "127.0.0.2", "127.0.0.99")
	// Past the expiry of the first sightings, a write ages 127.0.0.5 out.
	late := t0.Add(PeerExpiry + time.Hour)
	if err := d.SeePeers(late); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(d.File(PeersFile)); string(b) != "# mine\n127.0.0.2\n127.0.0.3:5050\n127.0.0.4:5050\n" {
		t.Fatalf("after the expiry: %q", b)
	}
	seen, _ := os.ReadFile(d.File(PeersSeenFile))
	want := fmt.Sprintf(`{"peer":"127.0.0.3:5050","seen":%d}`+"\n"+`{"peer":"127.0.0.4:5050","seen":%d}`+"\n", day.Unix(), day.Unix())
	if string(seen) != want {
		t.Fatalf("peers.seen %q, want %q", seen, want)
	}
	// Long after, every added entry is gone, the person's line stays.
	if err := d.SeePeers(late.Add(PeerExpiry)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(d.File(PeersFile)); string(b) != "# mine\n127.0.0.2\n" {
		t.Fatalf("much later: %q", b)
	}
	if seen, _ := os.ReadFile(d.File(PeersSeenFile)); len(seen) != 0 {
		t.Fatalf("peers.seen %q, want empty", seen)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
