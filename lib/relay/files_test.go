package relay

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/rule"
)

func TestReadPeersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers")
	if p, bad, err := ReadPeersFile(path); p != nil || bad != nil || err != nil {
		t.Fatalf("missing file: %q %q %v, want nothing", p, bad, err)
	}
	os.WriteFile(path, []byte("# my peers\n127.0.0.2:5050\n\n  127.0.0.3  \n127.0.0.2\nnot a:peer\n[::1]:6000\n# end"), 0o644)
	peers, bad, err := ReadPeersFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.2:5050", "127.0.0.3:5050", "[::1]:6000"}; !slices.Equal(peers, want) {
		t.Errorf("peers %q, want %q", peers, want)
	}
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "line 6: ") {
		t.Errorf("bad %q, want line 6", bad)
	}
}

func TestAddPeer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers")
	for _, step := range []struct {
		addr  string
		added bool
		file  string
	}{
		{"127.0.0.2:5050", true, "127.0.0.2:5050\n"},
		{"127.0.0.2:5050", false, "127.0.0.2:5050\n"},
		{"127.0.0.3:5050", true, "127.0.0.2:5050\n127.0.0.3:5050\n"},
	} {
		added, err := addPeer(path, step.addr, MaxPeers)
		if err != nil || added != step.added {
			t.Fatalf("addPeer(%s) = %v, %v; want %v", step.addr, added, err, step.added)
		}
		if b, _ := os.ReadFile(path); string(b) != step.file {
			t.Fatalf("after %s the file is %q, want %q", step.addr, b, step.file)
		}
	}
	// Comments and a missing last newline are kept.
	os.WriteFile(path, []byte("# seeds\n127.0.0.2"), 0o644)
	if added, err := addPeer(path, "127.0.0.2:5050", MaxPeers); added || err != nil {
		t.Fatalf("a peer written without its port was added again: %v %v", added, err)
	}
	addPeer(path, "127.0.0.4:5050", MaxPeers)
	if b, _ := os.ReadFile(path); string(b) != "# seeds\n127.0.0.2\n127.0.0.4:5050\n" {
		t.Fatalf("file %q", b)
	}
	// The file is bounded.
	if _, err := addPeer(path, "127.0.0.5:5050", 3); err != nil {
		t.Fatal(err)
	}
	if added, err := addPeer(path, "127.0.0.6:5050", 3); added || err == nil {
		t.Fatalf("a fourth peer: %v %v, want an error", added, err)
	}
	if m, _ := filepath.Glob(path + ".tmp*"); len(m) > 0 {
		t.Fatalf("temporary files left: %q", m)
	}
}

func TestRejectTail(t *testing.T) {
	dir := t.TempDir()
	path := rejectsPath(dir)
	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	appendTo(`{"time":1,"from":"127.0.0.9","reason":"bad-json","line":1,"msg":""}` + "\n")
	tail := newRejectTail(path) // starts at the end: the old line is not counted
	poll := func() []string {
		ips, err := tail.poll()
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, ip := range ips {
			s = append(s, ip.String())
		}
		return s
	}
	if got := poll(); got != nil {
		t.Fatalf("old lines counted: %q", got)
	}
	now := time.Unix(1_700_000_000, 0)
	if err := logReject(path, netip.MustParseAddr("127.0.0.66"), 3, rule.Errorf(rule.TooLarge, "line over 9 bytes"), now); err != nil {
		t.Fatal(err)
	}
	logReject(path, netip.MustParseAddr("127.0.0.67"), 4, errors.New("plain"), now)
	appendTo(`{"time":1,"from":"","reason":"bad-json","line":1,"msg":""}` + "\n") // local input
	appendTo(`{"time":1,"from":"::ffff:127.0.0.68","reason":"bad-json","line":1,"msg":""}` + "\n")
	appendTo(`{"time":1,"from":"127.0.0.70","reason":"unknown-parent","hash":"` + strings.Repeat("0", 64) + `","msg":""}` + "\n") // forgiven
	appendTo(`garbage` + "\n")
	appendTo(`{"time":1,"from":"127.0.0.69","rea`) // being written
	if got, want := poll(), []string{"127.0.0.66", "127.0.0.67", "127.0.0.68"}; !slices.Equal(got, want) {
		t.Fatalf("poll = %q, want %q", got, want)
	}
	appendTo(`son":"bad-json","line":1,"msg":""}` + "\n")
	if got := poll(); !slices.Equal(got, []string{"127.0.0.69"}) {
		t.Fatalf("the line finished later: %q", got)
	}
	b, _ := os.ReadFile(path)
	if want := `{"time":1700000000,"from":"127.0.0.66","reason":"too-large","line":3,"msg":"line over 9 bytes"}`; !strings.Contains(string(b), want+"\n") {
		t.Fatalf("rejects.log lacks %s:\n%s", want, b)
	}
	// A replaced file is read from its start.
	os.Remove(path)
	if got := poll(); got != nil {
		t.Fatalf("removed file: %q", got)
	}
	for i := range 3 {
		appendTo(fmt.Sprintf(`{"time":1,"from":"10.0.0.%d","reason":"bad-json","line":1,"msg":""}`+"\n", i))
	}
	if got := poll(); len(got) != 3 {
		t.Fatalf("new file: %q, want 3 IPs", got)
	}
}
