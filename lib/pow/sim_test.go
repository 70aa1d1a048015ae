package pow

// A deterministic simulated network: miners with hash rate H (hashes per
// second) find each block after an exponentially distributed time with mean
// Work(target)/H, using math/rand/v2 with fixed seeds and no sleeping. Block
// times are measured in true (simulated) seconds; timestamps are whole
// seconds chosen by a stamping strategy within the consensus rules
// (DESIGN.md): above the median of the last 11 and at most MaxFuture ahead
// of the wall clock.

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

const (
	genesisTime = 1_800_000_000
	maxFuture   = 7200 // params.MaxFuture
)

type sim struct {
	p     Params
	rng   *rand.Rand
	chain []Point
	clock float64   // true seconds since block 0
	dt    []float64 // dt[i]: true seconds that block i+1 took
}

func newSim(p Params, seed uint64) *sim {
	return &sim{
		p:     p,
		rng:   rand.New(rand.NewPCG(seed, 0xc0ffee)),
		chain: []Point{{Timestamp: genesisTime, Target: p.Limit}},
	}
}

// stamper picks a block's timestamp from the wall clock and the MTP of the
// 11 blocks before it.
type stamper func(s *sim, wall, mtp int64) int64

func honest(_ *sim, wall, mtp int64) int64 { return max(wall, mtp+1) }

func (s *sim) next() Target {
	return Next(s.p, s.chain[max(0, len(s.chain)-Needed(s.p)):])
}

func (s *sim) wall() int64 { return genesisTime + int64(s.clock) }

// mine adds one block found at hash rate h.
func (s *sim) mine(t testing.TB, h float64, stamp stamper) {
	tg := s.next()
	d := float64(s.rng.ExpFloat64() * workF(tg) / h) // explicit conversions: no FMA
	s.clock = float64(s.clock + d)
	m := mtp(s.chain)
	ts := stamp(s, s.wall(), m)
	if ts <= m || ts > s.wall()+maxFuture {
		t.Fatalf("block %d: the simulation broke the timestamp rules: %d not in (%d, %d]", len(s.chain), ts, m, s.wall()+maxFuture)
	}
	s.chain = append(s.chain, Point{Timestamp: ts, Target: tg})
	s.dt = append(s.dt, d)
}

func workF(t Target) float64 {
	f, _ := new(big.Float).SetInt(Work(&t)).Float64()
	return f
}

func targetF(t Target) float64 {
	f, _ := new(big.Float).SetInt(toBig(t)).Float64()
	return f
}

// rateFor is the hash rate at which a target of limit/k gives blocks every
// spacing on average.
func rateFor(p Params, k float64) float64 {
	return float64(k * workF(p.Limit) / float64(p.Spacing))
}

// eqRatio is target / the equilibrium target at hash rate h.
func eqRatio(p Params, tg Target, h float64) float64 {
	eq := math.Ldexp(1, 256) / (h * float64(p.Spacing))
	return targetF(tg) / eq
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// recovery returns the first k >= 0 such that the mean true time of the 50
// blocks from block c+k on is within ±30% of the spacing, or -1.
func recovery(dt []float64, c, end int, spacing float64) int {
	for k := 0; c+k+50 <= end; k++ {
		if math.Abs(mean(dt[c+k:c+k+50])-spacing) <= 0.3*spacing {
			return k
		}
	}
	return -1
}

var simNets = []struct {
	name string
	p    Params
}{
	{"devnet", devnet},
	{"main", mainnet},
}

const simSeeds = 8

// TestSimHashRateSteps: after a steady state at H, the hash rate goes x10,
// back /10 to H, and /10 again to H/10, 1000 blocks each. After each step the
// mean of 50 consecutive block times must come back within ±30% of the
// spacing within 5 windows (100 blocks on devnet, 720 on main).
//
// Why 5 windows: the span is measured between two medians about 6 blocks
// behind, over n = Window blocks, and the damping applies half of the
// measured error per window's worth of blocks. A x10 error is ln 10 = 2.3 in
// log; halving it per window leaves 1.15, 0.58, 0.29, 0.14 (under ±30%)
// after 4 windows. The per-block clamp seldom binds here: without it the
// figures move by at most 4 blocks. Measured worst over 50 seeds (the test
// runs 8): devnet 50 / 17 / 19 blocks, main 455 / 161 / 175 (3.2 windows
// for x10); after 5 windows the target stayed within [0.48, 2.51] of the
// equilibrium (devnet) and [0.84, 1.21] (main).
func TestSimHashRateSteps(t *testing.T) {
	for _, net := range simNets {
		t.Run(net.name, func(t *testing.T) {
			p := net.p
			w := int(p.Window)
			H := rateFor(p, 1024)
			const warm, seg = 2000, 1000
			steps := []struct {
				name string
				rate float64
			}{{"x10", 10 * H}, {"/10 back to H", H}, {"/10 to H/10", H / 10}}
			var worst [3]int
			lo, hi := math.Inf(1), 0.0
			for seed := range uint64(simSeeds) {
				s := newSim(p, seed)
				for range warm {
					s.mine(t, H, honest)
				}
				for j, st := range steps {
					c := len(s.dt)
					for range seg {
						s.mine(t, st.rate, honest)
					}
					k := recovery(s.dt, c, c+seg, float64(p.Spacing))
					if k < 0 || k > 5*w {
						t.Errorf("seed %d, step %s: 50-block mean back within ±30%% after %d blocks, want <= 5*Window = %d", seed, st.name, k, 5*w)
					}
					worst[j] = max(worst[j], k)
					// Once recovered, no swing: the target stays within a
					// factor 3 of the equilibrium for the new rate.
					for i := c + 5*w; i < c+seg; i++ {
						r := eqRatio(p, s.chain[i+1].Target, st.rate)
						lo, hi = min(lo, r), max(hi, r)
					}
				}
			}
			t.Logf("Window %d: worst blocks to recover over %d seeds: x10 %d, /10 %d, /10 %d; target/equilibrium after 5 windows in [%.2f, %.2f]",
				w, simSeeds, worst[0], worst[1], worst[2], lo, hi)
			if lo < 1.0/3 || hi > 3 {
				t.Errorf("target/equilibrium after recovery in [%.2f, %.2f], want within [1/3, 3]", lo, hi)
			}
		})
	}
}

// TestSimSteadyNoOscillation runs 2000 blocks at a constant hash rate after
// the start-up and checks that nothing grows: the target stays within a
// factor 3 of the equilibrium (measured over 50 seeds: devnet [0.48, 2.09],
// main [0.83, 1.25]), every 200-block mean within ±30% of the
// spacing, the whole run's mean within ±5%, and the rms of ln(target/eq) in
// each half at most 0.3 (measured worst: devnet 0.19, main 0.08; a rule that
// oscillates grows without bound). It also bounds the start-up from
// the limit with 1024 times the hash rate it suits: within a factor 2 of the
// equilibrium in at most 8 windows (measured: devnet 134, main 836 blocks).
func TestSimSteadyNoOscillation(t *testing.T) {
	for _, net := range simNets {
		t.Run(net.name, func(t *testing.T) {
			p := net.p
			w := int(p.Window)
			H := rateFor(p, 1024)
			const warm, run = 2000, 2000
			worstStart, worstDev200, worstRMS := 0, 0.0, 0.0
			lo, hi := math.Inf(1), 0.0
			for seed := range uint64(simSeeds) {
				s := newSim(p, seed)
				start := -1
				for i := range warm + run {
					s.mine(t, H, honest)
					if start < 0 && eqRatio(p, s.chain[i+1].Target, H) <= 2 {
						start = i + 1
					}
				}
				if start < 0 || start > 8*w {
					t.Errorf("seed %d: start-up took %d blocks to come within 2x of equilibrium, want <= 8*Window = %d", seed, start, 8*w)
				}
				worstStart = max(worstStart, start)
				var rms [2]float64
				for i := warm; i < warm+run; i++ {
					r := eqRatio(p, s.chain[i+1].Target, H)
					lo, hi = min(lo, r), max(hi, r)
					rms[(i-warm)/1000] += math.Log(r) * math.Log(r) / 1000
				}
				for half, v := range rms {
					v = math.Sqrt(v)
					worstRMS = max(worstRMS, v)
					if v > 0.3 {
						t.Errorf("seed %d: rms ln(target/eq) %.3f in steady blocks %d-%d, want <= 0.3", seed, v, warm+1000*half+1, warm+1000*half+1000)
					}
				}
				for k := warm; k+200 <= warm+run; k++ {
					dev := math.Abs(mean(s.dt[k:k+200])/float64(p.Spacing) - 1)
					worstDev200 = max(worstDev200, dev)
					if dev > 0.3 {
						t.Fatalf("seed %d: blocks %d..%d averaged %.0f%% off the spacing", seed, k+1, k+200, 100*dev)
					}
				}
				if dev := math.Abs(mean(s.dt[warm:])/float64(p.Spacing) - 1); dev > 0.05 {
					t.Errorf("seed %d: 2000 steady blocks averaged %.1f%% off the spacing", seed, 100*dev)
				}
			}
			t.Logf("Window %d: start-up worst %d blocks; steady target/eq in [%.2f, %.2f], rms ln %.3f, worst 200-block mean off by %.0f%%",
				w, worstStart, lo, hi, worstRMS, 100*worstDev200)
			if lo < 1.0/3 || hi > 3 {
				t.Errorf("steady target/equilibrium in [%.2f, %.2f], want within [1/3, 3]", lo, hi)
			}
		})
	}
}

// upBound returns x after k per-block clamps up: the highest target k blocks
// after a block with target x (before the limit).
func upBound(x *big.Int, k int) *big.Int {
	b := new(big.Int).Set(x)
	for range k {
		b = mulDiv(b, ClampUpNum, ClampUpDen)
	}
	return b
}

// TestTimestampGames: after an honest steady state, an attacker with all the
// hash power mines 1000 blocks alone and stamps them within the rules to
// drive the target up (the difficulty down) as fast as it can. Whatever the
// pattern, (1) no block's target exceeds 9/8 of its parent's (the per-block
// clamp, exactly as Next rounds it) nor the limit; (2) over any k blocks the
// target rises no faster than the clamp compounded k times; (3) the attack
// gains nothing lasting: the attacker's 1000 blocks take on average at least
// 90% of the spacing in true time (the MaxFuture head start is spent once,
// and pushing the median ahead only moves both ends of later spans).
func TestTimestampGames(t *testing.T) {
	strategies := []struct {
		name  string
		stamp stamper
	}{
		{"far future", func(_ *sim, wall, _ int64) int64 { return wall + maxFuture }},
		{"alternate far future / just above median", func(s *sim, wall, mtp int64) int64 {
			if len(s.chain)%2 == 0 {
				return wall + maxFuture
			}
			return mtp + 1
		}},
		{"time warp: hold the median 3 windows, then jump", func(s *sim, wall, mtp int64) int64 {
			if (len(s.chain)/int(s.p.Window))%4 < 3 {
				return mtp + 1
			}
			return wall + maxFuture
		}},
		{"greedy: highest next target", func(s *sim, wall, mtp int64) int64 {
			best, pick := big.NewInt(-1), int64(0)
			for _, c := range []int64{mtp + 1, wall, wall + maxFuture} {
				if c <= mtp {
					continue
				}
				// the target this block would carry is fixed; the choice
				// only affects its children
				child := append(s.chain[:len(s.chain):len(s.chain)], Point{Timestamp: c, Target: s.next()})
				x := toBig(Next(s.p, child[max(0, len(child)-Needed(s.p)):]))
				if x.Cmp(best) >= 0 {
					best, pick = x, c
				}
			}
			return pick
		}},
	}
	for _, net := range simNets {
		p := net.p
		w := int(p.Window)
		lim := toBig(p.Limit)
		for _, st := range strategies {
			t.Run(net.name+"/"+st.name, func(t *testing.T) {
				H := rateFor(p, 1024)
				const warm, attack = 2000, 1000
				s := newSim(p, 42)
				for range warm {
					s.mine(t, H, honest)
				}
				c0 := s.clock
				for range attack {
					s.mine(t, H, st.stamp)
				}
				tgs := make([]*big.Int, 0, attack+1)
				for _, pt := range s.chain[warm:] {
					tgs = append(tgs, toBig(pt.Target))
				}
				maxStep := 0.0
				for i := 1; i < len(tgs); i++ {
					if tgs[i].Cmp(lim) > 0 {
						t.Fatalf("block %d: target above the limit", warm+i)
					}
					if tgs[i].Cmp(mulDiv(tgs[i-1], ClampUpNum, ClampUpDen)) > 0 {
						t.Fatalf("block %d: target rose more than 9/8 in one block", warm+i)
					}
					a, _ := new(big.Float).Quo(new(big.Float).SetInt(tgs[i]), new(big.Float).SetInt(tgs[i-1])).Float64()
					maxStep = max(maxStep, a)
				}
				for _, k := range []int{2, 6, 11, w, 2 * w} {
					for i := 0; i+k < len(tgs); i++ {
						if tgs[i+k].Cmp(upBound(tgs[i], k)) > 0 {
							t.Fatalf("blocks %d..%d: target rose faster than (9/8)^%d", warm+i, warm+i+k, k)
						}
					}
				}
				if tgs[attack].Cmp(upBound(tgs[0], attack)) > 0 {
					t.Fatalf("the target rose faster than (9/8)^%d over the attack", attack)
				}
				perBlock := (s.clock - c0) / attack / float64(p.Spacing)
				fastest := math.Inf(1) // fastest 100-block stretch, in spacings per block
				for i := warm; i+100 <= warm+attack; i++ {
					fastest = min(fastest, mean(s.dt[i:i+100])/float64(p.Spacing))
				}
				t.Logf("%d blocks took %.2f spacings each on average (fastest 100: %.2f); largest one-block rise x%.3f; target end/start x%.2f",
					attack, perBlock, fastest, maxStep, targetF(s.chain[len(s.chain)-1].Target)/targetF(s.chain[warm].Target))
				if perBlock < 0.9 {
					t.Errorf("the attacker got blocks every %.2f spacings of true time, want >= 0.9", perBlock)
				}
			})
		}
	}
}
