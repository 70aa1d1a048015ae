package pow

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

var (
	devnetLimit = pow2m1(244) // lib/params devnet initial_target
	mainLimit   = pow2m1(236) // lib/params main initial_target
	devnet      = Params{Spacing: 2, Window: 20, Limit: devnetLimit}
	mainnet     = Params{Spacing: 600, Window: 144, Limit: mainLimit}
)

func small(x int64) Target { return fromBig(big.NewInt(x)) }

// steady returns count points from block 0: timestamps exactly spacing apart
// from t0, every target tg except block 0's, which is limit.
func steady(count int, t0, spacing int64, tg, limit Target) []Point {
	b := make([]Point, count)
	for i := range b {
		b[i] = Point{Timestamp: t0 + int64(i)*spacing, Target: tg}
	}
	b[0].Target = limit
	return b
}

func TestNeeded(t *testing.T) {
	tests := []struct {
		window uint64
		want   int
	}{
		{0, 1},
		{1, 12},
		{20, 31},
		{144, 155},
		{10000, 10011},
		{math.MaxUint64, math.MaxInt},
		{uint64(math.MaxInt), math.MaxInt},
	}
	for _, tc := range tests {
		if got := Needed(Params{Spacing: 1, Window: tc.window}); got != tc.want {
			t.Errorf("Needed(window %d) = %d, want %d", tc.window, got, tc.want)
		}
	}
}

// TestNextVectors are hand-computed cases of the rule in doc.go. The params
// are Spacing 10, Window 4 (so nS = 40 once the chain is long enough), and a
// limit far above the targets, unless a case says otherwise.
func TestNextVectors(t *testing.T) {
	p := Params{Spacing: 10, Window: 4, Limit: small(1 << 40)}
	pts := func(ts []int64, tg []int64) []Point {
		b := make([]Point, len(ts))
		for i := range b {
			b[i] = Point{ts[i], small(tg[i])}
		}
		return b
	}
	// A long branch: 4+11 = 15 points; parent is the last, n = 4, the
	// averaged blocks are the last 4, the span is MTP(last 11) - MTP(the 11
	// ending 4 blocks earlier).
	long := func(spanEnd int64, tg [4]int64) []Point {
		b := make([]Point, 15)
		for i := range b {
			b[i] = Point{Timestamp: int64(i) * 10, Target: small(1000)}
		}
		// MTP of b[:11] is b[5].Timestamp = 50. MTP of b[:15] is b[9] after
		// sorting b[4:15]; push the last 6 timestamps (which include the
		// median position) so that the median becomes spanEnd.
		for i := 9; i < 15; i++ {
			b[i].Timestamp = spanEnd + int64(i-9)
		}
		for i, x := range tg {
			b[11+i].Target = small(x)
		}
		return b
	}
	tests := []struct {
		name   string
		p      Params
		branch []Point
		want   Target
	}{
		{"no points: the limit", p, nil, p.Limit},
		{"parent is block 0: the limit", p, pts([]int64{0}, []int64{1 << 40}), p.Limit},
		{"parent is block 0 even with a lower target", p, pts([]int64{0}, []int64{5}), p.Limit},
		{
			// h = 2, n = 1: avg = 1<<40, span = MTP(1)-MTP(0) = max(0,10)-0 = 10 = nS
			"block 2 on schedule keeps the limit", p,
			pts([]int64{0, 10}, []int64{1 << 40, 1 << 40}), p.Limit,
		},
		{
			// span = 0 -> max(1, floor(10/4)) = 2; raw = avg*(10+2)/20 = 0.6 avg,
			// below floor(8/9 parent) = 977343669930
			"block 2 in the same second: per-block clamp down", p,
			pts([]int64{0, 0}, []int64{1 << 40, 1 << 40}), small(977343669134),
		},
		{
			// h = 5, n = 4: targets 1000 1000 1001 1003 -> avg 1001;
			// MTP(4) = sorted(0 40 44 50 60)[2] = 44, MTP(0) = 0, span 44;
			// raw = floor(1001*(40+44)/80) = floor(1051.05) = 1051;
			// clamp [floor(8*1003/9), floor(9*1003/8)] = [891, 1128]
			"short branch from block 0: formula", p,
			pts([]int64{0, 40, 50, 44, 60}, []int64{1 << 40, 1000, 1000, 1001, 1003}), small(1051),
		},
		{
			"long branch on schedule keeps the average", p,
			long(90, [4]int64{1000, 1000, 1000, 1000}), small(1000),
		},
		{
			// span = 94-50 = 44, as in the short case
			"long branch: formula", p,
			long(94, [4]int64{1000, 1000, 1001, 1003}), small(1051),
		},
		{
			// span = 1050-50 = 1000 -> 4nS = 160; avg = 400, raw = 400*200/80 = 1000,
			// inside [888, 1125]; without the span clamp raw would be 5400 -> 1125
			"span clamp up: 4 n S", p,
			long(1050, [4]int64{200, 200, 200, 1000}), small(1000),
		},
		{
			// span = 53-50 = 3 -> nS/4 = 10; avg = 1450, raw = floor(1450*50/80) = 906,
			// inside [888, 1125]; without the span clamp raw would be 725 -> 888
			"span clamp down: n S / 4", p,
			long(50, [4]int64{1600, 1600, 1600, 1000}), small(906),
		},
		{
			// span 160 -> raw = 2.5*1000 -> floor(9*1000/8) = 1125
			"per-block clamp up: 9/8 of the parent", p,
			long(1050, [4]int64{1000, 1000, 1000, 1000}), small(1125),
		},
		{
			// span 10 -> raw = 625 -> floor(8*1000/9) = 888
			"per-block clamp down: 8/9 of the parent", p,
			long(50, [4]int64{1000, 1000, 1000, 1000}), small(888),
		},
		{
			"never above the limit", Params{Spacing: 10, Window: 4, Limit: small(1100)},
			long(1050, [4]int64{1000, 1000, 1000, 1000}), small(1100),
		},
		{
			"never below 1", p,
			long(50, [4]int64{1, 1, 1, 1}), small(1),
		},
		{
			// span = MTP(parent) - MTP(0) = 10*4 = 40 = nS, Spacing 0 counts as 1
			// so nS = 4 and span clamps to 16: raw = 1000*20/8 = 2500 -> 1125
			"spacing below 1 counts as 1", Params{Spacing: 0, Window: 4, Limit: small(1 << 40)},
			long(90, [4]int64{1000, 1000, 1000, 1000}), small(1125),
		},
		{
			"window 0: the parent's target", Params{Spacing: 10, Window: 0, Limit: small(1 << 40)},
			pts([]int64{0, 0, 0}, []int64{1 << 40, 12345, 777}), small(777),
		},
		{
			"window 0: a parent above the limit gets the limit", Params{Spacing: 10, Window: 0, Limit: small(500)},
			pts([]int64{0, 0}, []int64{500, 777}), small(500),
		},
		{
			"window 0: a zero parent gets 1", Params{Spacing: 10, Window: 0, Limit: small(500)},
			pts([]int64{0, 0}, []int64{500, 0}), small(1),
		},
		{
			"zero limit counts as 1", Params{Spacing: 10, Window: 4, Limit: Target{}},
			long(90, [4]int64{1000, 1000, 1000, 1000}), small(1),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.branch)
			if got := Next(tc.p, tc.branch); got != tc.want {
				t.Errorf("Next = %v, want %v", toBig(got), toBig(tc.want))
			}
			if !slices.Equal(in, tc.branch) {
				t.Error("Next modified its input")
			}
		})
	}
}

func TestNextSteadyStateIsFixedPoint(t *testing.T) {
	for _, p := range []Params{devnet, mainnet} {
		tg := fromBig(new(big.Int).Rsh(toBig(p.Limit), 10))
		b := steady(Needed(p)+50, 1_800_000_000, p.Spacing, tg, p.Limit)
		if got := Next(p, b); got != tg {
			t.Errorf("window %d: on-schedule blocks at a constant target moved it: %x -> %x", p.Window, tg, got)
		}
	}
}

func TestNextWindowZeroKeepsTargetFixed(t *testing.T) {
	p := Params{Spacing: 2, Window: 0, Limit: devnetLimit}
	r := rand.New(rand.NewPCG(1, 2))
	b := []Point{{0, devnetLimit}}
	for i := 1; i < 500; i++ {
		// wildly irregular timestamps must not matter
		b = append(b, Point{Timestamp: r.Int64N(1 << 40), Target: Next(p, b)})
		if b[i].Target != devnetLimit {
			t.Fatalf("block %d: target %x, want the fixed %x", i, b[i].Target, devnetLimit)
		}
	}
	if Needed(p) != 1 {
		t.Fatalf("Needed(window 0) = %d, want 1", Needed(p))
	}
	if got := Next(p, b[len(b)-1:]); got != devnetLimit {
		t.Fatalf("window 0 with only the parent: %x", got)
	}
}

// randomBranch is a plausible chain from block 0: timestamps obey the MTP rule
// loosely, targets wander within [1, limit].
func randomBranch(r *rand.Rand, p Params, count int) []Point {
	lim := toBig(p.Limit)
	b := []Point{{Timestamp: 1_800_000_000, Target: p.Limit}}
	for len(b) < count {
		ts := b[len(b)-1].Timestamp + r.Int64N(8*p.Spacing) - 2*p.Spacing
		var raw Target
		for i := 0; i < 32; i += 8 {
			binary.BigEndian.PutUint64(raw[i:], r.Uint64())
		}
		x := toBig(raw)
		x.Rsh(x, uint(r.IntN(256))) // spread the magnitudes
		x.Mod(x, lim)
		b = append(b, Point{Timestamp: ts, Target: fromBig(x.Add(x, bigOne))})
	}
	return b
}

func TestNextUsesOnlyTheLastNeededPoints(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range []Params{devnet, mainnet, {Spacing: 10, Window: 1, Limit: devnetLimit}} {
		for range 20 {
			b := randomBranch(r, p, Needed(p)+1+r.IntN(100))
			want := Next(p, b)
			for _, k := range []int{Needed(p), Needed(p) + 1, len(b) - 1} {
				if got := Next(p, b[len(b)-k:]); got != want {
					t.Fatalf("window %d: last %d of %d points give %x, the whole branch %x", p.Window, k, len(b), got, want)
				}
			}
		}
	}
}

func TestNextIsDeterministicAndBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range []Params{devnet, mainnet} {
		lim := toBig(p.Limit)
		for range 200 {
			b := randomBranch(r, p, 1+r.IntN(Needed(p)+5))
			a, c := Next(p, b), Next(p, slices.Clone(b))
			if a != c {
				t.Fatalf("Next differs between two calls: %x %x", a, c)
			}
			if x := toBig(a); x.Sign() < 1 || x.Cmp(lim) > 0 {
				t.Fatalf("Next = %v outside [1, limit]", x)
			}
			checkClamp(t, p, b, a)
		}
	}
}

// checkClamp asserts the per-block clamp of got, the target after branch.
func checkClamp(t testing.TB, p Params, b []Point, got Target) {
	t.Helper()
	if len(b) < 2 || p.Window == 0 {
		return
	}
	parent, x, lim := toBig(b[len(b)-1].Target), toBig(got), toBig(p.Limit)
	if parent.Sign() < 1 || parent.Cmp(lim) > 0 {
		return
	}
	up := mulDiv(parent, ClampUpNum, ClampUpDen)
	down := mulDiv(parent, ClampDownNum, ClampDownDen)
	if down.Sign() < 1 {
		down.SetInt64(1)
	}
	if x.Cmp(up) > 0 || x.Cmp(down) < 0 {
		t.Fatalf("next %v outside the per-block clamp [%v, %v] of parent %v", x, down, up, parent)
	}
}

func BenchmarkNext(b *testing.B) {
	p := mainnet
	tg := fromBig(new(big.Int).Rsh(toBig(p.Limit), 10))
	br := steady(Needed(p), 1_800_000_000, p.Spacing, tg, p.Limit)
	r := rand.New(rand.NewPCG(7, 8))
	for i := 1; i < len(br); i++ { // irregular, so the sort and big math do real work
		br[i].Timestamp = br[i-1].Timestamp + r.Int64N(2*p.Spacing)
		x := new(big.Int).Rsh(toBig(tg), uint(r.IntN(3)))
		br[i].Target = fromBig(x)
	}
	b.ReportAllocs()
	for b.Loop() {
		Next(p, br)
	}
}

func TestSumTargetsCarries(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	maxT := pow2m1(256)
	for _, count := range []int{0, 1, 2, 3, 144, 10011} {
		for _, kind := range []string{"max", "random"} {
			pts := make([]Point, count)
			want := new(big.Int)
			for i := range pts {
				pts[i].Target = maxT
				if kind == "random" {
					for j := 0; j < 32; j += 8 {
						binary.BigEndian.PutUint64(pts[i].Target[j:], r.Uint64())
					}
				}
				want.Add(want, toBig(pts[i].Target))
			}
			if got := sumTargets(pts); got.Cmp(want) != 0 {
				t.Errorf("%d %s targets: sum %v, want %v", count, kind, got, want)
			}
		}
	}
}

// TestExplainSteps: the steps Explain shows give its target by the
// formulas of the package documentation.
func TestExplainSteps(t *testing.T) {
	p := Params{Spacing: 10, Window: 5, Limit: devnetLimit}
	var branch []Point
	ts := int64(1000)
	for i := range 30 {
		ts += int64(3 + 7*(i%4))
		s := Explain(p, branch)
		if s.Target != Next(p, branch) {
			t.Fatalf("block %d: Explain and Next differ", i)
		}
		if s.Case == CaseAverage {
			raw := new(big.Int).Mul(s.Avg, new(big.Int).Add(s.Expected, s.Span))
			raw.Quo(raw, new(big.Int).Lsh(s.Expected, 1))
			if raw.Cmp(s.Raw) != 0 {
				t.Fatalf("block %d: raw %v, the formula gives %v", i, s.Raw, raw)
			}
			got := new(big.Int).SetBytes(s.Target[:])
			want := raw
			if want.Cmp(s.Up) > 0 {
				want = s.Up
			} else if want.Cmp(s.Down) < 0 {
				want = s.Down
			}
			if limit := new(big.Int).SetBytes(p.Limit[:]); want.Cmp(limit) > 0 {
				want = limit
			}
			if got.Cmp(want) != 0 {
				t.Fatalf("block %d: target %v, the clamps give %v", i, got, want)
			}
		} else if i > 1 {
			t.Fatalf("block %d: case %d", i, s.Case)
		}
		branch = append(branch, Point{Timestamp: ts, Target: s.Target})
	}
}
