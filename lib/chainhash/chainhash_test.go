package chainhash

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

// h64 is a hash whose digits count up, so a shifted or swapped digit shows.
const h64 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func TestParseHash(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"64 digits", h64, true},
		{"all f", strings.Repeat("f", 64), true},
		{"63 digits", h64[:63], false},
		{"65 digits", h64 + "0", false},
		{"62 digits", h64[:62], false},
		{"66 digits", h64 + "00", false},
		{"empty", "", false},
		{"uppercase", strings.ToUpper(h64), false},
		{"one uppercase digit", h64[:63] + "F", false},
		{"uppercase first digit", "A" + h64[1:], false},
		{"g", h64[:10] + "g" + h64[11:], false},
		{"space", " " + h64[1:], false},
		{"0x prefix", "0x" + h64[2:], false},
		{"NUL", h64[:5] + "\x00" + h64[6:], false},
		{"high byte", h64[:5] + "\xff" + h64[6:], false},
		{"32 digits (an id)", h64[:32], false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := ParseHash(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("ParseHash(%q) = %v, %v", c.in, h, err)
			}
			if err != nil {
				if !rule.Is(err, rule.BadHex) {
					t.Fatalf("error %v, want bad-hex", err)
				}
				return
			}
			if h.String() != c.in || string(h.AppendHex([]byte("x"))) != "x"+c.in {
				t.Fatalf("%q prints back as %q", c.in, h.String())
			}
		})
	}
}

func TestParseHashBytes(t *testing.T) {
	h, err := ParseHash(h64)
	if err != nil {
		t.Fatal(err)
	}
	for i := range h {
		if h[i] != byte(i) {
			t.Fatalf("byte %d is %#x, want %#x (bytes in the order printed)", i, h[i], i)
		}
	}
	var raw [32]byte = h // a Hash is a [32]byte
	if Hash(raw) != h {
		t.Fatal("conversion changed the hash")
	}
}

func TestParseID(t *testing.T) {
	id32 := h64[:32]
	for _, c := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"32 digits", id32, true},
		{"31 digits", id32[:31], false},
		{"33 digits", id32 + "0", false},
		{"empty", "", false},
		{"uppercase", strings.ToUpper(id32), false},
		{"not hex", "z" + id32[1:], false},
		{"64 digits (a hash)", h64, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := ParseID(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("ParseID(%q) = %v, %v", c.in, id, err)
			}
			if err != nil {
				if !rule.Is(err, rule.BadHex) {
					t.Fatalf("error %v, want bad-hex", err)
				}
				return
			}
			if id.String() != c.in || string(id.AppendHex(nil)) != c.in || id[15] != 0x0f {
				t.Fatalf("%q reads as %x, prints as %q", c.in, id[:], id.String())
			}
		})
	}
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		in   string
		want []byte // nil: refused
		msg  string
	}{
		{"empty into nothing", 0, "", []byte{}, ""},
		{"one byte", 1, "a5", []byte{0xa5}, ""},
		{"one digit too few", 1, "a", nil, "bad-hex: want 2 hex digits, got 1"},
		{"one digit too many", 1, "a50", nil, "bad-hex: want 2 hex digits, got 3"},
		{"empty, want one", 1, "", nil, "bad-hex: want 2 hex digits, got 0"},
		{"uppercase", 1, "A5", nil, "bad-hex: not lowercase hex"},
		{"low digit bad", 2, "a5g0", nil, "bad-hex: not lowercase hex"},
		{"last digit bad", 2, "a50/", nil, "bad-hex: not lowercase hex"},
		{"colon after 9", 1, "9:", nil, "bad-hex: not lowercase hex"},
		{"backquote before a", 1, "`a", nil, "bad-hex: not lowercase hex"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := make([]byte, c.n)
			err := Decode(dst, c.in)
			if c.want == nil {
				var re *rule.Error
				if !errors.As(err, &re) || err.Error() != c.msg {
					t.Fatalf("Decode(%q) = %v, want %q", c.in, err, c.msg)
				}
				return
			}
			if err != nil || !bytes.Equal(dst, c.want) {
				t.Fatalf("Decode(%q) = %x, %v", c.in, dst, err)
			}
		})
	}
}

// TestDecodeQuotesNothing: the error never holds the input (a key file's
// seed goes through Decode).
func TestDecodeQuotesNothing(t *testing.T) {
	secret := "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e7SECR"
	for _, in := range []string{secret, secret[:40], strings.ToUpper(secret)} {
		err := Decode(make([]byte, 32), in)
		if err == nil || strings.Contains(err.Error(), in[:8]) || strings.Contains(err.Error(), "5ec2") {
			t.Fatalf("Decode error %v quotes its input", err)
		}
	}
}

func FuzzParseHash(f *testing.F) {
	f.Add(h64)
	f.Add(strings.ToUpper(h64))
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		if err != nil {
			if h != (Hash{}) {
				t.Fatalf("ParseHash(%q) returned %v with error %v", s, h, err)
			}
			if !rule.Is(err, rule.BadHex) {
				t.Fatalf("ParseHash(%q): error %v without bad-hex", s, err)
			}
			return
		}
		if h.String() != s {
			t.Fatalf("ParseHash(%q) prints back as %q", s, h.String())
		}
	})
}

func FuzzParseID(f *testing.F) {
	f.Add(h64[:32])
	f.Add(h64[:31] + "G")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			if id != (ID{}) {
				t.Fatalf("ParseID(%q) returned %v with error %v", s, id, err)
			}
			if !rule.Is(err, rule.BadHex) {
				t.Fatalf("ParseID(%q): error %v without bad-hex", s, err)
			}
			return
		}
		if id.String() != s || string(id.AppendHex(nil)) != s {
			t.Fatalf("ParseID(%q) prints back as %q", s, id.String())
		}
	})
}
