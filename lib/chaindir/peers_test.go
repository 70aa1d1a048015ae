package chaindir

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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

func TestAddPeer(t *testing.T) {
	d := Dir(t.TempDir())
	path := d.File(PeersFile)
	for _, step := range []struct {
		addr  string
		added bool
		file  string
	}{
		{"127.0.0.2:5050", true, "127.0.0.2:5050\n"},
		{"127.0.0.2:5050", false, "127.0.0.2:5050\n"},
		{"127.0.0.3", true, "127.0.0.2:5050\n127.0.0.3:5050\n"},
	} {
		added, err := d.AddPeer(step.addr)
		if err != nil || added != step.added {
			t.Fatalf("AddPeer(%s) = %v, %v; want %v", step.addr, added, err, step.added)
		}
		if b, _ := os.ReadFile(path); string(b) != step.file {
			t.Fatalf("after %s the file is %q, want %q", step.addr, b, step.file)
		}
	}
	// Comments, bad lines and a missing last newline are kept.
	os.WriteFile(path, []byte("# seeds\nnot a peer\n127.0.0.2"), 0o644)
	if added, err := d.AddPeer("127.0.0.2:5050"); added || err != nil {
		t.Fatalf("a peer written without its port was added again: %v %v", added, err)
	}
	d.AddPeer("127.0.0.4:5050")
	if b, _ := os.ReadFile(path); string(b) != "# seeds\nnot a peer\n127.0.0.2\n127.0.0.4:5050\n" {
		t.Fatalf("file %q", b)
	}
	if _, err := d.AddPeer("not a peer"); err == nil {
		t.Fatal("AddPeer took a bad address")
	}
	// The file is bounded: one short of MaxPeers takes one, then none.
	var fill []string
	for i := 2; i < MaxPeers-1; i++ {
		fill = append(fill, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
	added, full, err := d.AddPeers(fill...)
	if err != nil || full || len(added) != len(fill) {
		t.Fatalf("AddPeers: %d added, full %v, %v", len(added), full, err)
	}
	added, full, err = d.AddPeers("10.9.9.9", "10.9.9.10", "127.0.0.4")
	if err != nil || !full || !slices.Equal(added, []string{"10.9.9.9:5050"}) {
		t.Fatalf("AddPeers at the bound: %q, full %v, %v", added, full, err)
	}
	if added, err := d.AddPeer("10.9.9.11:5050"); added || err != ErrPeersFull {
		t.Fatalf("a peer past the bound: %v %v, want ErrPeersFull", added, err)
	}
	if added, err := d.AddPeer("10.9.9.9"); added || err != nil {
		t.Fatalf("a known peer in a full file: %v %v", added, err)
	}
	if m, _ := filepath.Glob(path + ".tmp*"); len(m) > 0 {
		t.Fatalf("temporary files left: %q", m)
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
