package midstate

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// paths returns the implementations this machine can run, by name, and a
// function that selects one for the rest of the test.
func paths(t testing.TB) map[string]bool {
	t.Helper()
	p := map[string]bool{"go": false}
	if hasAsm {
		p["asm"] = true
	}
	saved := useAsm
	t.Cleanup(func() { useAsm = saved })
	return p
}

// message is prefix || bigendian64(proof).
func message(prefix []byte, proof uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), proof)
}

// header is a 192-byte block header prefix shaped like lib/block's.
func header() []byte {
	h := make([]byte, 192)
	copy(h, "CNJ-BK-1")
	binary.BigEndian.PutUint64(h[8:], 42)
	binary.BigEndian.PutUint64(h[16:], 1700000000)
	for i := 24; i < 120; i++ {
		h[i] = byte(i * 7)
	}
	miner := "dcnj1" + string(bytes.Repeat([]byte("ab"), 24))
	h[120] = byte(len(miner))
	copy(h[121:], miner)
	return h
}

var edgeProofs = []uint64{
	0, 1, 2, 0xff, 0x100, math.MaxUint32, 1 << 32, 1<<32 + 1,
	0x0123456789abcdef, 0x8000000000000000, math.MaxUint64 - 1, math.MaxUint64,
}

func TestHashMatchesSHA256(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, asm := range paths(t) {
		useAsm = asm
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{0, 64, 128, 192, 256, 1024} {
				for range 20 {
					prefix := make([]byte, n)
					for i := range prefix {
						prefix[i] = byte(rng.Uint32())
					}
					s := New(prefix)
					proofs := append(append([]uint64(nil), edgeProofs...), rng.Uint64(), rng.Uint64()>>32, rng.Uint64())
					for _, p := range proofs {
						got := s.Hash(n, p)
						want := sha256.Sum256(message(prefix, p))
						if got != want {
							t.Fatalf("len %d proof %#x: got %x, want %x", n, p, got, want)
						}
					}
				}
			}
		})
	}
}

func TestHashHeader(t *testing.T) {
	h := header()
	s := New(h)
	for name, asm := range paths(t) {
		useAsm = asm
		for _, p := range edgeProofs {
			if got, want := s.Hash(len(h), p), sha256.Sum256(message(h, p)); got != want {
				t.Errorf("%s: proof %#x: got %x, want %x", name, p, got, want)
			}
		}
	}
}

func TestBadLengthPanics(t *testing.T) {
	s := New(make([]byte, 64))
	var target [32]byte
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"New 63", func() { New(make([]byte, 63)) }},
		{"New 65", func() { New(make([]byte, 65)) }},
		{"Hash 191", func() { s.Hash(191, 0) }},
		{"Hash -64", func() { s.Hash(-64, 0) }},
		{"Search 200", func() { s.Search(200, 0, 1, &target) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f()
		})
	}
}

// bruteForce is the reference search: crypto/sha256 on every message.
func bruteForce(prefix []byte, start, count uint64, target *[32]byte) (uint64, [32]byte, bool) {
	for i := uint64(0); i < count; i++ {
		p := start + i
		h := sha256.Sum256(message(prefix, p))
		if bytes.Compare(h[:], target[:]) <= 0 {
			return p, h, true
		}
		if p == math.MaxUint64 {
			break
		}
	}
	return 0, [32]byte{}, false
}

// easyTarget accepts about one hash in 2^bits.
func easyTarget(bits int) *[32]byte {
	var t [32]byte
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < bits; i++ {
		t[i/8] &^= 0x80 >> (i % 8)
	}
	return &t
}

func TestSearchFindsFirst(t *testing.T) {
	prefix := header()
	s := New(prefix)
	rng := rand.New(rand.NewPCG(3, 4))
	for name, asm := range paths(t) {
		useAsm = asm
		t.Run(name, func(t *testing.T) {
			for _, bits := range []int{0, 1, 3, 5, 8, 10} {
				target := easyTarget(bits)
				for trial := range 30 {
					start := rng.Uint64()
					count := uint64(trial) // odd and even counts, 0 included
					if trial > 20 {
						count = 2000
					}
					gp, gh, gf := s.Search(len(prefix), start, count, target)
					wp, wh, wf := bruteForce(prefix, start, count, target)
					if gp != wp || gh != wh || gf != wf {
						t.Fatalf("bits %d start %#x count %d: got (%#x, %x, %v), want (%#x, %x, %v)",
							bits, start, count, gp, gh, gf, wp, wh, wf)
					}
				}
			}
		})
	}
}

// TestSearchLeadingWordTies makes targets whose leading word equals that of
// many hashes, so that candidates must be settled by the full compare.
func TestSearchLeadingWordTies(t *testing.T) {
	prefix := header()
	s := New(prefix)
	for name, asm := range paths(t) {
		useAsm = asm
		for p := uint64(1000); p < 1040; p++ {
			h := sha256.Sum256(message(prefix, p))
			for _, tail := range []byte{0x00, 0x80, 0xff} {
				target := h
				for i := 4; i < 32; i++ {
					target[i] = tail
				}
				start, count := p-7, uint64(15)
				gp, gh, gf := s.Search(len(prefix), start, count, &target)
				wp, wh, wf := bruteForce(prefix, start, count, &target)
				if gp != wp || gh != wh || gf != wf {
					t.Fatalf("%s: proof %d tail %#x: got (%d, %v), want (%d, %v)", name, p, tail, gp, gf, wp, wf)
				}
			}
		}
	}
}

func TestSearchTargetBoundary(t *testing.T) {
	prefix := header()
	s := New(prefix)
	for name, asm := range paths(t) {
		useAsm = asm
		for _, p := range edgeProofs {
			h := sha256.Sum256(message(prefix, p))
			// Exactly equal is accepted.
			if gp, gh, ok := s.Search(len(prefix), p, 1, &h); !ok || gp != p || gh != h {
				t.Errorf("%s: proof %#x, target = hash: got (%#x, %v)", name, p, gp, ok)
			}
			// One below is rejected.
			below := h
			for i := 31; i >= 0; i-- {
				below[i]--
				if below[i] != 0xff {
					break
				}
			}
			if gp, _, ok := s.Search(len(prefix), p, 1, &below); ok {
				t.Errorf("%s: proof %#x, target = hash-1: found %#x", name, p, gp)
			}
		}
	}
}

func TestSearchCountZero(t *testing.T) {
	s := New(header())
	for name, asm := range paths(t) {
		useAsm = asm
		for _, start := range []uint64{0, 5, math.MaxUint64} {
			if p, h, ok := s.Search(192, start, 0, easyTarget(0)); ok || p != 0 || h != [32]byte{} {
				t.Errorf("%s: start %#x count 0: got (%#x, %x, %v)", name, start, p, h, ok)
			}
		}
	}
}

func TestSearchNeverWraps(t *testing.T) {
	prefix := header()
	s := New(prefix)
	// The target is the hash of proof 0, so a search that wrapped would
	// find 0 unless something earlier qualified; the reference says which.
	h0 := sha256.Sum256(message(prefix, 0))
	for name, asm := range paths(t) {
		useAsm = asm
		for _, tc := range []struct {
			start, count uint64
			target       *[32]byte
		}{
			{math.MaxUint64, 1, easyTarget(0)},
			{math.MaxUint64, 5, easyTarget(0)},
			{math.MaxUint64 - 2, math.MaxUint64, easyTarget(0)},
			{math.MaxUint64 - 2, 10, &h0},
			{math.MaxUint64 - 1, 10, &h0},
			{math.MaxUint64, math.MaxUint64, &h0},
			{math.MaxUint64 - 50, 100, easyTarget(4)},
			{math.MaxUint64 - 50, 100, easyTarget(30)},
		} {
			gp, gh, gf := s.Search(len(prefix), tc.start, tc.count, tc.target)
			wp, wh, wf := bruteForce(prefix, tc.start, tc.count, tc.target)
			if gp != wp || gh != wh || gf != wf {
				t.Errorf("%s: start %#x count %#x: got (%#x, %v), want (%#x, %v)", name, tc.start, tc.count, gp, gf, wp, wf)
			}
		}
	}
}

// TestSearchLongRun crosses several assembly chunks before the find.
func TestSearchLongRun(t *testing.T) {
	prefix := header()
	s := New(prefix)
	target := easyTarget(17) // about one in 131072
	wp, wh, wf := bruteForce(prefix, 0, 1<<20, target)
	if !wf {
		t.Skip("no proof below 2^20 for this header")
	}
	for name, asm := range paths(t) {
		useAsm = asm
		gp, gh, gf := s.Search(len(prefix), 0, 1<<20, target)
		if gp != wp || gh != wh || gf != wf {
			t.Errorf("%s: got (%d, %v), want (%d, %v)", name, gp, gf, wp, wf)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	prefix := header()
	s := New(prefix)
	var target [32]byte // nothing qualifies
	for name, asm := range paths(t) {
		useAsm = asm
		// Three chunks and a ragged end: every branch of the driver loop.
		if n := testing.AllocsPerRun(5, func() { s.Search(len(prefix), 0, 3*chunk+5, &target) }); n != 0 {
			t.Errorf("%s: Search allocates %v times per run", name, n)
		}
		if n := testing.AllocsPerRun(100, func() { s.Hash(len(prefix), 7) }); n != 0 {
			t.Errorf("%s: Hash allocates %v times per run", name, n)
		}
	}
}

func FuzzHash(f *testing.F) {
	f.Add(header(), uint64(0))
	f.Add(make([]byte, 64), uint64(math.MaxUint64))
	f.Fuzz(func(t *testing.T, prefix []byte, proof uint64) {
		prefix = prefix[:len(prefix)-len(prefix)%64]
		want := sha256.Sum256(message(prefix, proof))
		s := New(prefix)
		for name, asm := range paths(t) {
			useAsm = asm
			if got := s.Hash(len(prefix), proof); got != want {
				t.Fatalf("%s: len %d proof %#x: got %x, want %x", name, len(prefix), proof, got, want)
			}
		}
	})
}
