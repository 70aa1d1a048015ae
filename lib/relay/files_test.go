package relay

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

func TestRejectTail(t *testing.T) {
	dir := chaindir.Dir(t.TempDir())
	path := dir.File(chaindir.RejectsFile)
	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	appendTo(`{"time":1,"from":"127.0.0.9","reason":"bad-json","line":1,"msg":""}` + "\n")
	tail := newRejectTail(dir) // starts at the end: the old line is not counted
	poll := func() []string {
		es, _, err := tail.poll()
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range es {
			if e.orphan() {
				s = append(s, e.ip.String()+" (orphan)")
			} else {
				s = append(s, e.ip.String())
			}
		}
		return s
	}
	if got := poll(); got != nil {
		t.Fatalf("old lines counted: %q", got)
	}
	now := time.Unix(1_700_000_000, 0)
	if err := logReject(dir, netip.MustParseAddr("127.0.0.66"), 3, rule.Errorf(rule.TooLarge, "line over 9 bytes"), now); err != nil {
		t.Fatal(err)
	}
	logReject(dir, netip.MustParseAddr("127.0.0.67"), 4, errors.New("plain"), now)
	appendTo(`{"time":1,"from":"","reason":"bad-json","line":1,"msg":""}` + "\n") // local input
	appendTo(`{"time":1,"from":"::ffff:127.0.0.68","reason":"bad-json","line":1,"msg":""}` + "\n")
	appendTo(`{"time":1,"from":"127.0.0.70","reason":"unknown-parent","hash":"` + strings.Repeat("0", 64) + `","msg":""}` + "\n") // an orphan
	appendTo(`garbage` + "\n")
	appendTo(`{"time":1,"from":"127.0.0.69","rea`) // being written
	if got, want := poll(), []string{"127.0.0.66", "127.0.0.67", "127.0.0.68", "127.0.0.70 (orphan)"}; !slices.Equal(got, want) {
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
