package pow

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
)

// Point is one block of a branch as the retarget sees it.
type Point struct {
	Timestamp int64  // the block's timestamp, Unix seconds
	Target    Target // the target the block carries
}

// Params are the retarget inputs from the genesis file.
type Params struct {
	Spacing int64  // seconds wanted between blocks ("spacing"); below 1 counts as 1
	Window  uint64 // blocks averaged ("retarget_window"); 0 keeps the target fixed
	Limit   Target // highest target any block may carry ("initial_target")
}

// The per-block clamp: the target of a block is at least ClampDownNum/
// ClampDownDen and at most ClampUpNum/ClampUpDen of its parent's (each product
// rounded down), before the [1, Limit] bound.
const (
	ClampUpNum   = 9
	ClampUpDen   = 8
	ClampDownNum = 8
	ClampDownDen = 9
)

// Needed returns how many points, ending at the parent, Next reads:
// Window+MedianSpan (Window+11), or 1 when Window is 0. Next ignores points
// before the last Needed(p); a branch with fewer points must start at block 0
// (the genesis).
func Needed(p Params) int {
	if p.Window == 0 {
		return 1
	}
	if p.Window > uint64(math.MaxInt-MedianSpan) {
		return math.MaxInt
	}
	return int(p.Window) + MedianSpan
}

// Next returns the target that the child of the last point of branch must
// carry. branch is a chain of blocks oldest first ending at the parent: either
// it starts at block 0 (the genesis), or it holds at least Needed(p) points.
// Next cannot tell a short branch that does not start at block 0 from one that
// does, and computes the wrong target for it. The rule is in the package
// documentation. Next is a pure function of its arguments; it never panics.
func Next(p Params, branch []Point) Target {
	limit := new(big.Int).SetBytes(p.Limit[:])
	if limit.Sign() == 0 {
		limit.SetInt64(1)
	}
	if len(branch) == 0 {
		return toTarget(limit)
	}
	parent := new(big.Int).SetBytes(branch[len(branch)-1].Target[:])
	if p.Window == 0 {
		return toTarget(bound(parent, limit))
	}
	if need := Needed(p); len(branch) > need {
		branch = branch[len(branch)-need:]
	}
	// If branch starts at block 0, the parent is block h-1 and the new block
	// is block h. Otherwise h = Needed(p) and h-1 >= Window, so n = Window as
	// it is for the true height: only the difference between the two matters.
	h := len(branch)
	n := min(p.Window, uint64(h-1))
	if n == 0 {
		return toTarget(limit)
	}
	first := h - int(n) // the n blocks averaged are branch[first:h]

	avg := sumTargets(branch[first:h])
	bn := new(big.Int).SetUint64(n)
	avg.Quo(avg, bn)

	// span = MTP(parent) - MTP(block first-1), the block n before the parent.
	// int64 timestamps may be anything here, so subtract in math/big.
	span := big.NewInt(mtp(branch[:h]))
	span.Sub(span, big.NewInt(mtp(branch[:first])))

	expected := bn.Mul(bn, big.NewInt(max(p.Spacing, 1))) // n*Spacing
	lo := new(big.Int).Rsh(expected, 2)
	if lo.Sign() == 0 {
		lo.SetInt64(1)
	}
	hi := new(big.Int).Lsh(expected, 2)
	if span.Cmp(lo) < 0 {
		span.Set(lo)
	} else if span.Cmp(hi) > 0 {
		span.Set(hi)
	}

	// next = avg * (expected + span) / (2 * expected)
	next := avg.Mul(avg, span.Add(span, expected))
	next.Quo(next, expected.Lsh(expected, 1))

	up := mulDiv(parent, ClampUpNum, ClampUpDen)
	down := mulDiv(parent, ClampDownNum, ClampDownDen)
	if next.Cmp(up) > 0 {
		next = up
	} else if next.Cmp(down) < 0 {
		next = down
	}
	return toTarget(bound(next, limit))
}

// sumTargets returns the exact sum of the targets of pts. It adds in 64-bit
// limbs (a 320-bit accumulator holds the sum of up to 2^64 targets), which is
// several times faster than math/big for the 144-block main window.
func sumTargets(pts []Point) *big.Int {
	var acc [5]uint64 // little-endian limbs
	for i := range pts {
		t := &pts[i].Target
		var c uint64
		for l := range 4 {
			acc[l], c = bits.Add64(acc[l], binary.BigEndian.Uint64(t[24-8*l:]), c)
		}
		acc[4] += c
	}
	var b [40]byte
	for l := range 5 {
		binary.BigEndian.PutUint64(b[32-8*l:], acc[l])
	}
	return new(big.Int).SetBytes(b[:])
}

// mtp is MedianTime of the timestamps of branch.
func mtp(branch []Point) int64 {
	var ts [MedianSpan]int64
	lo := max(0, len(branch)-MedianSpan)
	c := ts[:len(branch)-lo]
	for i := range c {
		c[i] = branch[lo+i].Timestamp
	}
	return MedianTime(c)
}

// mulDiv returns floor(x*num/den) as a new value.
func mulDiv(x *big.Int, num, den int64) *big.Int {
	r := new(big.Int).Mul(x, big.NewInt(num))
	return r.Quo(r, big.NewInt(den))
}

// bound clamps x into [1, limit] in place and returns it.
func bound(x, limit *big.Int) *big.Int {
	if x.Cmp(limit) > 0 {
		return x.Set(limit)
	}
	if x.Sign() <= 0 {
		return x.SetInt64(1)
	}
	return x
}

// toTarget encodes x, which is in [1, 2^256-1] after bound, as a Target.
func toTarget(x *big.Int) Target {
	var t Target
	x.FillBytes(t[:])
	return t
}
