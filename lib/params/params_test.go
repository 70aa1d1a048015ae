package params

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

func TestMainAndDevnet(t *testing.T) {
	m := Main()
	if m.Network != "main" || m.AddressPrefix != "cnj" || m.Spacing != 600 || m.Maturity != 100 {
		t.Fatalf("main params changed: %+v", m)
	}
	if Main().Hash() != m.Hash() {
		t.Fatal("main genesis hash is not stable")
	}
	a, err := NewDevnet(DevnetOptions{Timestamp: 1795000000})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewDevnet(DevnetOptions{Timestamp: 1795000000})
	if a.Hash() == b.Hash() {
		t.Fatal("two devnets share a genesis hash: the salt is not random")
	}
	if c, _ := NewDevnet(DevnetOptions{Timestamp: 1, NoRetarget: true}); c.RetargetWindow != 0 {
		t.Fatal("NoRetarget kept a retarget window")
	}
	if _, err := ByName("devnet"); err == nil {
		t.Fatal("devnet is not built in")
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, p := range []*Params{Main(), mustDevnet(t)} {
		q, err := Parse(p.JSON())
		if err != nil {
			t.Fatalf("%s: %v", p.Network, err)
		}
		if q.Hash() != p.Hash() || !bytes.Equal(q.JSON(), p.JSON()) {
			t.Fatalf("%s: round trip changed the genesis", p.Network)
		}
	}
}

func mustDevnet(t *testing.T) *Params {
	p, err := NewDevnet(DevnetOptions{Timestamp: 1795000000})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSubsidy(t *testing.T) {
	p := Main()
	for _, c := range []struct{ h, want uint64 }{
		{0, 0}, {1, 50e8}, {210000, 50e8}, {210001, 25e8}, {420001, 12.5e8}, {210000*64 + 1, 0}, {^uint64(0), 0},
	} {
		if got := p.Subsidy(c.h); got != c.want {
			t.Errorf("Subsidy(%d) = %d, want %d", c.h, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := string(Main().JSON())
	cases := []struct {
		name, line string
		code       rule.Code
	}{
		{"not json", "genesis", rule.BadJSON},
		{"wrong type", strings.Replace(good, `"type":"genesis"`, `"type":"block"`, 1), rule.BadType},
		{"unknown field", strings.Replace(good, `{"type"`, `{"extra":1,"type"`, 1), rule.UnknownField},
		{"missing field", strings.Replace(good, `"maturity":100,`, ``, 1), rule.MissingField},
		{"float", strings.Replace(good, `"spacing":600`, `"spacing":600.0`, 1), rule.BadNumber},
		{"short salt", strings.Replace(good, `"salt":"`, `"salt":"00`, 1), rule.BadHex},
		{"zero spacing", strings.Replace(good, `"spacing":600`, `"spacing":0`, 1), rule.BadGenesis},
		{"huge spacing", strings.Replace(good, `"spacing":600`, `"spacing":86401`, 1), rule.BadGenesis},
		{"zero target", strings.Replace(good, `"initial_target":"00000fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"`, `"initial_target":"`+strings.Repeat("0", 64)+`"`, 1), rule.BadGenesis},
		{"upper hex target", strings.Replace(good, `"initial_target":"00000fff`, `"initial_target":"00000FFF`, 1), rule.BadHex},
		{"zero fee", strings.Replace(good, `"min_fee":1000`, `"min_fee":0`, 1), rule.BadGenesis},
		{"small blocks", strings.Replace(good, `"max_block_bytes":1048576`, `"max_block_bytes":4095`, 1), rule.BadGenesis},
		{"upper network", strings.Replace(good, `"network":"main"`, `"network":"Main"`, 1), rule.BadGenesis},
		{"long prefix", strings.Replace(good, `"address_prefix":"cnj"`, `"address_prefix":"abcdefghijk"`, 1), rule.BadGenesis},
		{"too long", good + strings.Repeat(" ", MaxGenesisLine), rule.TooLarge},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.line))
		if got := rule.CodeOf(err); got != c.code {
			t.Errorf("%s: code %q (%v), want %q", c.name, got, err, c.code)
		}
	}
	// At the limits: accepted.
	for _, line := range []string{
		strings.Replace(good, `"spacing":600`, `"spacing":86400`, 1),
		strings.Replace(good, `"max_block_bytes":1048576`, `"max_block_bytes":4096`, 1),
	} {
		if _, err := Parse([]byte(line)); err != nil {
			t.Errorf("at the limit refused: %v", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Main().JSON())
	f.Add([]byte(`{"type":"genesis"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		p, err := Parse(line)
		if (p == nil) == (err == nil) {
			t.Fatalf("Parse returned %v and %v", p, err)
		}
		if err != nil {
			if rule.CodeOf(err) == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		q, err := Parse(p.JSON())
		if err != nil || q.Hash() != p.Hash() {
			t.Fatalf("accepted genesis does not re-encode to itself: %v", err)
		}
	})
}
