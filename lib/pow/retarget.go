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
func Next(p Params, branch []Point) Target { return Explain(p, branch).Target }

// Steps are the values of the retarget rule's formulas (package
// documentation) for one new block, as Explain computes them: what an
// explorer shows to teach the rule. Case says which branch of the rule
// applied; the other fields are set only for CaseAverage.
type Steps struct {
	Case     Case
	N        uint64   // blocks averaged: min(W, h-1)
	Avg      *big.Int // floor(sum of their targets / n)
	MTPLast  int64    // MTP(h-1), the parent's median time past
	MTPFirst int64    // MTP(h-1-n)
	Expected *big.Int // n*S
	Span     *big.Int // MTPLast - MTPFirst, clamped into [max(1, floor(n*S/4)), 4*n*S]
	Raw      *big.Int // floor(avg * (n*S + span) / (2*n*S))
	Up, Down *big.Int // floor(9*T_{h-1}/8), floor(8*T_{h-1}/9)
	Target   Target   // T_h: the result
}

// Case is the branch of the retarget rule that gave a target.
type Case int

const (
	CaseFirst   Case = iota // h = 1 (or no branch): T = L
	CaseFixed               // W = 0: the parent's target, bounded into [1, L]
	CaseAverage             // the average of the last n blocks, scaled and clamped
)

// Explain computes the target Next returns, with the values of each step.
func Explain(p Params, branch []Point) Steps {
	limit := new(big.Int).SetBytes(p.Limit[:])
	if limit.Sign() == 0 {
		limit.SetInt64(1)
	}
	if len(branch) == 0 {
		return Steps{Case: CaseFirst, Target: toTarget(limit)}
	}
	parent := new(big.Int).SetBytes(branch[len(branch)-1].Target[:])
	if p.Window == 0 {
		return Steps{Case: CaseFixed, Target: toTarget(bound(parent, limit))}
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
		return Steps{Case: CaseFirst, Target: toTarget(limit)}
	}
	s := Steps{Case: CaseAverage, N: n}
	first := h - int(n) // the n blocks averaged are branch[first:h]

	avg := sumTargets(branch[first:h])
	bn := new(big.Int).SetUint64(n)
	avg.Quo(avg, bn)
	s.Avg = new(big.Int).Set(avg)

	// span = MTP(parent) - MTP(block first-1), the block n before the parent.
	// int64 timestamps may be anything here, so subtract in math/big.
	s.MTPLast, s.MTPFirst = mtp(branch[:h]), mtp(branch[:first])
	span := big.NewInt(s.MTPLast)
	span.Sub(span, big.NewInt(s.MTPFirst))

	expected := bn.Mul(bn, big.NewInt(max(p.Spacing, 1))) // n*Spacing
	s.Expected = new(big.Int).Set(expected)
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
	s.Span = new(big.Int).Set(span)

	// next = avg * (expected + span) / (2 * expected)
	next := avg.Mul(avg, span.Add(span, expected))
	next.Quo(next, expected.Lsh(expected, 1))
	s.Raw = new(big.Int).Set(next)

	s.Up = mulDiv(parent, ClampUpNum, ClampUpDen)
	s.Down = mulDiv(parent, ClampDownNum, ClampDownDen)
	if next.Cmp(s.Up) > 0 {
		next = new(big.Int).Set(s.Up)
	} else if next.Cmp(s.Down) < 0 {
		next = new(big.Int).Set(s.Down)
	}
	s.Target = toTarget(bound(next, limit))
	return s
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
