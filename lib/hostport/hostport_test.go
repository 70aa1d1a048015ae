package hostport

import (
	"net"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, want string // want "" means an error
	}{
		{"127.0.0.2", "127.0.0.2:56230"},
		{"127.0.0.2:80", "127.0.0.2:80"},
		{"Node.Example.ORG", "node.example.org:56230"},
		{"node-1.example:1", "node-1.example:1"},
		{"::1", "[::1]:56230"},
		{"[::1]", "[::1]:56230"},
		{"[::1]:5050", "[::1]:5050"},
		{"[0:0:0:0:0:0:0:1]:5050", "[::1]:5050"},
		{"[::ffff:127.0.0.2]:5", "127.0.0.2:5"},
		{"", ""},
		{":5050", ""},
		{"127.0.0.2:", ""},
		{"127.0.0.2:0", ""},
		{"127.0.0.2:65536", ""},
		{"127.0.0.2:05050", ""},
		{"127.0.0.2:+5", ""},
		{"0.0.0.0:5050", ""},
		{"[::]:5050", ""},
		{"224.0.0.1:5050", ""},
		{"[fe80::1%eth0]:5050", ""},
		{"a b:5050", ""},
		{"-bad.example", ""},
		{"bad-.example", ""},
		{"a..b", ""},
		{"under_score.example", ""},
		{"http://127.0.0.2", ""},
		{"127.0.0.2:5050\n", ""},
		{strings.Repeat("a", 64) + ".example", ""},
		// Read by cnj-relay (default RelayPort in those cases: given here).
		{"127.0.0.2:6000", "127.0.0.2:6000"},
		{"[2001:DB8::7]:5050", "[2001:db8::7]:5050"},
		{"::ffff:127.0.0.2", "127.0.0.2:56230"},
		{"Node.Example:80", "node.example:80"},
		{" 127.0.0.2:5050 ", ""}, // callers trim the lines of a file
		{"127.0.0.2:x", ""},
		{"fe80::1%eth0", ""},
		{"1:2:3", ""},
	} {
		got, err := Parse(c.in, WebPort)
		if c.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %q, %v, want %q", c.in, got, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"127.0.0.2", "[::1]:5050", "node.example:80", "a b", "::", "x:0", "[::ffff:1.2.3.4]", "a:b:c", "[fe80::1%lo]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hp, err := Parse(s, RelayPort)
		if err != nil {
			return
		}
		again, err := Parse(hp, 1)
		if err != nil || again != hp {
			t.Fatalf("Parse(%q) = %q, which gives %q, %v", s, hp, again, err)
		}
		if _, _, err := net.SplitHostPort(hp); err != nil {
			t.Fatalf("Parse(%q) = %q, not HOST:PORT: %v", s, hp, err)
		}
		if strings.ContainsAny(hp, " \t\r\n#/") {
			t.Fatalf("Parse(%q) = %q", s, hp)
		}
	})
}

func TestWebRelay(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.2:5050": "127.0.0.2:56230",
		"127.0.0.2":      "127.0.0.2:56230",
		"[::1]:5051":     "[::1]:56230",
		"n.example:9":    "n.example:56230",
	} {
		if got, err := Web(in, WebPort); err != nil || got != want {
			t.Errorf("Web(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := Web("a b", WebPort); err == nil {
		t.Error("Web accepted a bad address")
	}
	if got := Relay("127.0.0.2:56230"); got != "127.0.0.2:5050" {
		t.Errorf("Relay = %q", got)
	}
}
