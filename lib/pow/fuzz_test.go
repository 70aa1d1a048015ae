package pow

import (
	"encoding/binary"
	"math/big"
	"slices"
	"testing"
)

// Fuzz input layout (all big-endian; missing bytes read as zero):
//
//	0:8    Params.Spacing (int64, any sign)
//	8:16   Params.Window  (uint64, any size)
//	16:48  Params.Limit
//	48:    points, 40 bytes each: 8 timestamp (int64) + 32 target; at most
//	       maxFuzzPoints
const maxFuzzPoints = 400

func decodeFuzz(data []byte) (Params, []Point) {
	take := func(n int) []byte {
		b := make([]byte, n)
		copy(b, data)
		data = data[min(n, len(data)):]
		return b
	}
	var p Params
	p.Spacing = int64(binary.BigEndian.Uint64(take(8)))
	p.Window = binary.BigEndian.Uint64(take(8))
	copy(p.Limit[:], take(32))
	var b []Point
	for len(data) > 0 && len(b) < maxFuzzPoints {
		var pt Point
		pt.Timestamp = int64(binary.BigEndian.Uint64(take(8)))
		copy(pt.Target[:], take(32))
		b = append(b, pt)
	}
	return p, b
}

func encodeFuzz(p Params, b []Point) []byte {
	out := binary.BigEndian.AppendUint64(nil, uint64(p.Spacing))
	out = binary.BigEndian.AppendUint64(out, p.Window)
	out = append(out, p.Limit[:]...)
	for _, pt := range b {
		out = binary.BigEndian.AppendUint64(out, uint64(pt.Timestamp))
		out = append(out, pt.Target[:]...)
	}
	return out
}

// FuzzNext: for any params and branch, Next does not panic, returns a target
// in [1, max(1, Limit)], returns the same target twice, leaves its input
// alone, keeps the parent's target (bounded) when Window is 0, respects the
// per-block clamp, and reads only the last Needed points.
func FuzzNext(f *testing.F) {
	f.Add(encodeFuzz(devnet, steady(40, genesisTime, 2, pow2m1(234), devnetLimit)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, b := decodeFuzz(data)
		in := slices.Clone(b)
		got := Next(p, b)
		if !slices.Equal(in, b) {
			t.Fatal("Next modified its input")
		}
		if again := Next(p, b); again != got {
			t.Fatalf("Next is not deterministic: %x then %x", got, again)
		}
		x, lim := toBig(got), toBig(p.Limit)
		if lim.Sign() == 0 {
			lim.SetInt64(1)
		}
		if x.Sign() < 1 || x.Cmp(lim) > 0 {
			t.Fatalf("Next = %v outside [1, %v]", x, lim)
		}
		if p.Window == 0 && len(b) > 0 {
			want := toBig(b[len(b)-1].Target)
			if want.Cmp(lim) > 0 {
				want = lim
			}
			if want.Sign() == 0 {
				want = big.NewInt(1)
			}
			if x.Cmp(want) != 0 {
				t.Fatalf("window 0: Next = %v, want the parent's %v", x, want)
			}
		}
		checkClamp(t, p, b, got)
		if need := Needed(p); len(b) > need {
			if s := Next(p, b[len(b)-need:]); s != got {
				t.Fatalf("the last %d points give %x, all %d give %x", need, s, len(b), got)
			}
		}
	})
}
