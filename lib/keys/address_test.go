package keys

import (
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

// Spec vector: the key whose seed is the bytes 00 01 02 ... 1f.
const (
	vecPub = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
	// payload = SHA-256("CNJ-ADDR" || pub)[:20]
	vecPayload = "332a1dc4765ba687d2cad109c8d6251402f1e458"
	vecMain    = "cnj1" +
		vecPayload +
		"05ba9769" // SHA-256("cnj1" || payload)[:4]
	vecDevnet = "dcnj1" +
		vecPayload +
		"879f65b6" // SHA-256("dcnj1" || payload)[:4]
	vecLongHRP = "zzzzzzzzzz1" + vecPayload + "da82e35f"
)

func vecKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if got := hex.EncodeToString(priv.Public().(ed25519.PublicKey)); got != vecPub {
		t.Fatalf("vector pubkey = %s, want %s", got, vecPub)
	}
	return priv
}

func TestAddress(t *testing.T) {
	pub := vecKey(t).Public().(ed25519.PublicKey)
	tests := []struct {
		name, hrp, want string
	}{
		{"main", MainHRP, vecMain},
		{"devnet", DevnetHRP, vecDevnet},
		{"ten letter prefix", "zzzzzzzzzz", vecLongHRP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Address(tt.hrp, pub)
			if got != tt.want {
				t.Fatalf("Address(%q) = %s, want %s", tt.hrp, got, tt.want)
			}
			hrp, payload, err := ParseAddress(got)
			if err != nil {
				t.Fatalf("ParseAddress(%s): %v", got, err)
			}
			if hrp != tt.hrp || hex.EncodeToString(payload[:]) != vecPayload {
				t.Fatalf("ParseAddress(%s) = %q, %x; want %q, %s", got, hrp, payload, tt.hrp, vecPayload)
			}
			if err := CheckAddress(got, tt.hrp); err != nil {
				t.Fatalf("CheckAddress(%s, %q): %v", got, tt.hrp, err)
			}
		})
	}
}

func TestAddressRandomKeys(t *testing.T) {
	for i := 0; i < 20; i++ {
		priv, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		pub := priv.Public().(ed25519.PublicKey)
		for _, hrp := range []string{MainHRP, DevnetHRP} {
			a := Address(hrp, pub)
			if len(a) != len(hrp)+1+48 {
				t.Fatalf("Address = %q: length %d", a, len(a))
			}
			if err := CheckAddress(a, hrp); err != nil {
				t.Fatalf("CheckAddress(%s): %v", a, err)
			}
		}
	}
}

func TestAddressPanics(t *testing.T) {
	pub := vecKey(t).Public().(ed25519.PublicKey)
	tests := []struct {
		name string
		hrp  string
		pub  []byte
	}{
		{"short pubkey", MainHRP, pub[:31]},
		{"long pubkey", MainHRP, append(append([]byte{}, pub...), 0)},
		{"nil pubkey", MainHRP, nil},
		{"empty prefix", "", pub},
		{"prefix too long", "abcdefghijk", pub},
		{"uppercase prefix", "CNJ", pub},
		{"digit in prefix", "cnj1", pub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("Address(%q, %x) did not panic", tt.hrp, tt.pub)
				}
			}()
			Address(tt.hrp, tt.pub)
		})
	}
}

// TestAddressMutations changes every character of a valid address to every
// other character an address could plausibly contain: each result must be
// refused, and when it still has the shape of an address, for its checksum.
func TestAddressMutations(t *testing.T) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for _, valid := range []string{vecMain, vecDevnet} {
		sep := strings.IndexByte(valid, '1')
		for i := 0; i < len(valid); i++ {
			for _, c := range []byte(alphabet) {
				if c == valid[i] {
					continue
				}
				m := valid[:i] + string(c) + valid[i+1:]
				_, _, err := ParseAddress(m)
				if !rule.Is(err, rule.BadAddress) {
					t.Fatalf("ParseAddress(%s) (char %d -> %q) = %v, want bad-address", m, i, c, err)
				}
				sameShape := (i < sep && c >= 'a' && c <= 'z') ||
					(i > sep && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f'))
				if sameShape && !strings.Contains(err.Error(), "checksum") {
					t.Fatalf("ParseAddress(%s) = %v, want a checksum error", m, err)
				}
			}
		}
	}
}

// TestAddressTranspositions swaps every pair of adjacent distinct characters.
func TestAddressTranspositions(t *testing.T) {
	for _, valid := range []string{vecMain, vecDevnet} {
		for i := 0; i+1 < len(valid); i++ {
			if valid[i] == valid[i+1] {
				continue
			}
			b := []byte(valid)
			b[i], b[i+1] = b[i+1], b[i]
			if _, _, err := ParseAddress(string(b)); !rule.Is(err, rule.BadAddress) {
				t.Fatalf("ParseAddress(%s) = %v, want bad-address", b, err)
			}
		}
	}
}

func TestParseAddressErrors(t *testing.T) {
	data := vecMain[len("cnj1"):] // 48 hex characters, valid for "cnj"
	tests := []struct {
		name   string
		in     string
		reason string // a word the message must contain
	}{
		{"empty", "", "separator"},
		{"no separator", "cnj" + strings.ReplaceAll(data, "1", "2"), "separator"},
		{"only prefix", "cnj", "separator"},
		{"only separator", "1", "empty prefix"},
		{"empty prefix", "1" + data, "empty prefix"},
		{"prefix too long", "abcdefghijk1" + data, "prefix is 11 characters"},
		{"whole thing uppercase", strings.ToUpper(vecMain), "lowercase"},
		{"uppercase prefix", "CNJ1" + data, "lowercase"},
		{"mixed case prefix", "Cnj1" + data, "lowercase"},
		{"uppercase hex", "cnj1" + strings.ToUpper(data), "uppercase"},
		{"one uppercase hex digit", "cnj1" + strings.Replace(data, "a", "A", 1), "uppercase"},
		{"digit in prefix", "c2j1" + data, "lowercase"},
		{"dash in prefix", "c-j1" + data, "lowercase"},
		{"space in prefix", " cnj1" + data, "lowercase"},
		{"non-ascii prefix", "cnjé1" + data, "lowercase"},
		{"data 47", vecMain[:len(vecMain)-1], "47 characters"},
		{"data 49", vecMain + "0", "49 characters"},
		{"data 0", "cnj1", "0 characters"},
		{"data 40 (no checksum)", "cnj1" + data[:40], "40 characters"},
		{"trailing newline", vecMain + "\n", "49 characters"},
		{"leading space in data", "cnj1 " + data[1:], "hex"},
		{"non-hex letter", "cnj1" + "g" + data[1:], "hex"},
		{"hex prefix 0x", "cnj10x" + data[2:], "hex"},
		{"checksum", vecMain[:len(vecMain)-1] + "0", "checksum"},
		{"checksum of other prefix", "cnj1" + vecDevnet[len("dcnj1"):], "checksum"},
		{"very long prefix", strings.Repeat("a", 1000) + "1" + data, "prefix is 1000 characters"},
		{"very long data", "cnj1" + strings.Repeat(data, 100), "4800 characters"},
		{"separator twice", "cnj11" + data[1:], "checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hrp, payload, err := ParseAddress(tt.in)
			if !rule.Is(err, rule.BadAddress) {
				t.Fatalf("ParseAddress(%q) = %q, %x, %v; want bad-address", tt.in, hrp, payload, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("ParseAddress(%q) error %q does not say %q", tt.in, err, tt.reason)
			}
			if hrp != "" || payload != [PayloadSize]byte{} {
				t.Fatalf("ParseAddress(%q) returned %q, %x with an error", tt.in, hrp, payload)
			}
			if len(err.Error()) > 100 {
				t.Fatalf("error too long (%d): %q", len(err.Error()), err)
			}
			// CheckAddress refuses it for the same reason on any network.
			if err := CheckAddress(tt.in, MainHRP); !rule.Is(err, rule.BadAddress) {
				t.Fatalf("CheckAddress(%q) = %v, want bad-address", tt.in, err)
			}
		})
	}
}

func TestCheckAddress(t *testing.T) {
	pub := vecKey(t).Public().(ed25519.PublicKey)
	tests := []struct {
		name string
		addr string
		hrp  string
		code rule.Code
		msg  string
	}{
		{"main on main", vecMain, MainHRP, "", ""},
		{"devnet on devnet", vecDevnet, DevnetHRP, "", ""},
		{"devnet on main", vecDevnet, MainHRP, rule.WrongNetwork,
			"wrong-network: address is for devnet, this chain is main"},
		{"main on devnet", vecMain, DevnetHRP, rule.WrongNetwork,
			"wrong-network: address is for main, this chain is devnet"},
		{"other network on main", Address("test", pub), MainHRP, rule.WrongNetwork,
			"wrong-network: address is for test, this chain is main"},
		{"main on other network", vecMain, "zz", rule.WrongNetwork,
			"wrong-network: address is for main, this chain is zz"},
		{"bad checksum beats network", vecDevnet[:len(vecDevnet)-1] + "0", MainHRP, rule.BadAddress, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAddress(tt.addr, tt.hrp)
			if got := rule.CodeOf(err); got != tt.code || (tt.code == "" && err != nil) {
				t.Fatalf("CheckAddress(%s, %q) = %v, want code %q", tt.addr, tt.hrp, err, tt.code)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Fatalf("CheckAddress(%s, %q) = %q, want %q", tt.addr, tt.hrp, err, tt.msg)
			}
		})
	}
}

func TestNetworkName(t *testing.T) {
	tests := []struct{ hrp, want string }{
		{"cnj", "main"},
		{"dcnj", "devnet"},
		{"test", "test"},
		{"tcnj", "tcnj"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NetworkName(tt.hrp); got != tt.want {
			t.Errorf("NetworkName(%q) = %q, want %q", tt.hrp, got, tt.want)
		}
	}
}

func TestValidHRP(t *testing.T) {
	tests := []struct {
		hrp  string
		want bool
	}{
		{"cnj", true}, {"dcnj", true}, {"a", true}, {"abcdefghij", true},
		{"", false}, {"abcdefghijk", false}, {"Cnj", false}, {"cn1", false},
		{"c j", false}, {"cnj-", false}, {"é", false},
	}
	for _, tt := range tests {
		if got := ValidHRP(tt.hrp); got != tt.want {
			t.Errorf("ValidHRP(%q) = %v, want %v", tt.hrp, got, tt.want)
		}
	}
}

// FuzzParseAddress: ParseAddress never panics, returns exactly one of a
// result and an error (always bad-address), and whatever it accepts is
// rebuilt byte for byte from its hrp and payload.
func FuzzParseAddress(f *testing.F) {
	f.Add(vecMain)
	f.Add(vecDevnet)
	f.Fuzz(func(t *testing.T, s string) {
		hrp, payload, err := ParseAddress(s)
		if err != nil {
			if !rule.Is(err, rule.BadAddress) {
				t.Fatalf("ParseAddress(%q) error %v has code %q", s, err, rule.CodeOf(err))
			}
			if hrp != "" || payload != [PayloadSize]byte{} {
				t.Fatalf("ParseAddress(%q) returned %q, %x with an error", s, hrp, payload)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if !ValidHRP(hrp) {
			t.Fatalf("ParseAddress(%q) accepted prefix %q", s, hrp)
		}
		sum := checksum(hrp, payload)
		if again := hrp + "1" + hex.EncodeToString(payload[:]) + hex.EncodeToString(sum[:]); again != s {
			t.Fatalf("ParseAddress(%q) = %q, %x, which re-encodes to %q", s, hrp, payload, again)
		}
		if err := CheckAddress(s, hrp); err != nil {
			t.Fatalf("CheckAddress(%q, %q) = %v", s, hrp, err)
		}
	})
}

// TestPayload: Payload reads the payload ParseAddress reads from a checked
// address, and refuses what has no address's shape.
func TestPayload(t *testing.T) {
	for i := range 20 {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i)
		for _, hrp := range []string{MainHRP, DevnetHRP, "abcdefghij"} {
			a := Address(hrp, ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
			_, want, err := ParseAddress(a)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := Payload(a); !ok || got != want {
				t.Fatalf("Payload(%s) = %x, %v; want %x", a, got, ok, want)
			}
		}
	}
	good := Address(MainHRP, ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey))
	for _, s := range []string{"", "1", good[3:], good[:len(good)-1], "cnj2" + good[4:], strings.ToUpper(good)} {
		if _, ok := Payload(s); ok {
			t.Errorf("Payload(%q) took it", s)
		}
	}
}
