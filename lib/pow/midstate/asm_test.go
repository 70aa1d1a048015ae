package midstate

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestAsmMatchesGo checks the SHA-NI assembly against the pure-Go
// compression on random midstates, bit lengths and proofs, without going
// through crypto/sha256: the two paths must agree word for word, and the
// candidate search must stop at the same index.
func TestAsmMatchesGo(t *testing.T) {
	if !hasAsm {
		t.Skip("no SHA-NI assembly on this build or CPU")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		var s State
		for i := range s {
			s[i] = rng.Uint32()
		}
		var c consts
		c.init(&s, 64*int(rng.Uint32N(1<<20)))
		p := rng.Uint64()
		var out [32]byte
		hashAsm(&c, p, &out)
		var got State
		for i := range got {
			got[i] = binary.BigEndian.Uint32(out[4*i:])
		}
		if want := c.final(p); got != want {
			t.Fatalf("state %x proof %#x: asm %x, go %x", s, p, got, want)
		}
	}
	for range 300 {
		var s State
		for i := range s {
			s[i] = rng.Uint32()
		}
		var c consts
		c.init(&s, 192)
		start := rng.Uint64()
		n := uint64(rng.IntN(64))
		t0 := rng.Uint32() >> rng.IntN(9) // leading-word thresholds from easy to 1 in 256
		got := searchAsm(&c, start, n, t0)
		var want uint64
		for want = 0; want < n; want++ {
			if c.final(start + want)[0] <= t0 {
				break
			}
		}
		if got != want {
			t.Fatalf("start %#x n %d t0 %#x: asm %d, go %d", start, n, t0, got, want)
		}
	}
}
