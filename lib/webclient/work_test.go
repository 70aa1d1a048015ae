package webclient

import (
	"strings"
	"testing"
)

// TestParseWork and FuzzParseWork came with parseWork from lib/chainsync.

func TestParseWork(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"1", true}, {"abcdef0123456789", true}, {strings.Repeat("f", 80), true},
		{"", false}, {"00", false}, {"0a", false}, {"ABC", false}, {"-1", false}, {"+1", false},
		{"0x1", false}, {" 1", false}, {strings.Repeat("f", 81), false}, {"1g", false},
	} {
		w, err := parseWork(c.in)
		if (err == nil) != c.ok || (err == nil) != (w != nil) {
			t.Errorf("parseWork(%q) = %v, %v", c.in, w, err)
			continue
		}
		if c.ok && w.Text(16) != c.in {
			t.Errorf("parseWork(%q) re-encodes to %q", c.in, w.Text(16))
		}
	}
}

func FuzzParseWork(f *testing.F) {
	for _, s := range []string{"0", "1", "ff", "00", "FF", "-1", "b000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := parseWork(s)
		if (err == nil) == (w == nil) {
			t.Fatalf("parseWork(%q) = %v, %v", s, w, err)
		}
		if err == nil && w.Text(16) != s {
			t.Fatalf("parseWork(%q) re-encodes to %q", s, w.Text(16))
		}
	})
}
