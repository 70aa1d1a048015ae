package tx

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

func sample() (*Tx, [32]byte) {
	seed := sha256.Sum256([]byte("tx test"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	g := sha256.Sum256([]byte("genesis"))
	t := &Tx{Sender: "dcnj1" + strings.Repeat("a", 48), Receiver: "dcnj1" + strings.Repeat("b", 48), Amount: 5, Fee: 1000, Timestamp: 1795000000}
	t.ID[15] = 1
	t.Sign(g, priv)
	return t, g
}

// TestHashCoversEveryField: changing any signed field, or the network,
// changes the hash, so a signature never carries over.
func TestHashCoversEveryField(t *testing.T) {
	base, g := sample()
	h := base.ComputeHash(g)
	mut := []func(*Tx){
		func(t *Tx) { t.ID[0] ^= 1 },
		func(t *Tx) { t.PubKey[0] ^= 1 },
		func(t *Tx) { t.Sender = "dcnj1" + strings.Repeat("c", 48) },
		func(t *Tx) { t.Receiver = "dcnj1" + strings.Repeat("c", 48) },
		func(t *Tx) { t.Amount++ },
		func(t *Tx) { t.Fee++ },
		func(t *Tx) { t.Timestamp++ },
	}
	for i, m := range mut {
		c := *base
		m(&c)
		if c.ComputeHash(g) == h {
			t.Errorf("mutation %d keeps the hash", i)
		}
	}
	other := g
	other[0] ^= 1
	if base.ComputeHash(other) == h {
		t.Error("the hash is not bound to the network")
	}
	// Sender/receiver lengths are prefixed: moving a byte across the
	// boundary changes the preimage.
	c := *base
	c.Sender, c.Receiver = base.Sender+"x", base.Receiver[1:]
	if bytes.Equal(c.Preimage(g), base.Preimage(g)) {
		t.Error("field boundaries are ambiguous")
	}
	if !ed25519.Verify(base.PubKey[:], base.Hash[:], base.Signature[:]) {
		t.Error("Sign made a signature that does not verify")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	base, _ := sample()
	line := base.AppendJSON(nil)
	got, err := Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *base || !bytes.Equal(got.AppendJSON(nil), line) {
		t.Fatal("round trip changed the transfer")
	}
	r := &Reward{Receiver: "x", Amount: 1, Index: 2}
	if !bytes.Equal(r.AppendJSON(nil), []byte(`{"type":"reward","receiver":"x","amount":1,"index":2}`)) {
		t.Fatal("reward JSON changed")
	}
}

func TestParseErrors(t *testing.T) {
	base, _ := sample()
	good := string(base.AppendJSON(nil))
	cases := []struct {
		name, line string
		code       rule.Code
	}{
		{"reward as tx", `{"type":"reward","receiver":"x","amount":1,"index":2}`, rule.BadType},
		{"unknown type", strings.Replace(good, `"type":"tx"`, `"type":"coin"`, 1), rule.BadType},
		{"no type", strings.Replace(good, `"type":"tx",`, ``, 1), rule.MissingField},
		{"timestamp too big", strings.Replace(good, `"timestamp":1795000000`, `"timestamp":1099511627777`, 1), rule.BadField},
		{"string amount", strings.Replace(good, `"amount":5`, `"amount":"5"`, 1), rule.BadField},
		{"extra field", strings.Replace(good, `"fee":`, `"memo":"hi","fee":`, 1), rule.UnknownField},
		{"upper hex", strings.Replace(good, `"id":"0000`, `"id":"000A`, 1), rule.BadHex},
		{"case variant", strings.Replace(good, `"fee":1000`, `"fee":1000,"Fee":1000`, 1), rule.DuplicateKey},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.line))
		if got := rule.CodeOf(err); got != c.code {
			t.Errorf("%s: code %q (%v), want %q", c.name, got, err, c.code)
		}
	}
	if _, err := Parse([]byte(strings.Replace(good, `"timestamp":1795000000`, `"timestamp":1099511627776`, 1))); err != nil {
		t.Errorf("timestamp at the limit refused: %v", err)
	}
}
