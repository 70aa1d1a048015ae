package miner

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
)

// impossible returns a node on a fresh devnet and a template on its tip
// whose target is zero, so that search tries proofs until it is stopped.
func impossible(b testing.TB) (*node.Node, *block.Block) {
	b.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 60, NoRetarget: true})
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "chain")
	if err := node.Create(dir, p); err != nil {
		b.Fatal(err)
	}
	n, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	t := n.Template(keys.Address(p.AddressPrefix, pub))
	t.Target = [32]byte{}
	return n, t
}

// benchOptions keep search from giving up on its own while a benchmark
// runs, and poll often so that a stop is noticed quickly.
func benchOptions(threads int) *Options {
	return &Options{Threads: threads, Refresh: time.Hour, Poll: 5 * time.Millisecond}
}

// triesPerSec runs search on threads goroutines for about d and returns
// the rate of tries, goroutine start and stop included.
func triesPerSec(n *node.Node, t *block.Block, threads int, d time.Duration) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var tries atomic.Uint64
	begin := time.Now()
	search(ctx, n, t, 1, benchOptions(threads), &tries, func() {})
	return float64(tries.Load()) / time.Since(begin).Seconds()
}

// BenchmarkSearchAllCores measures cnj-mine's search on runtime.NumCPU()
// threads (ns/op is one try) and reports it against the same search on one
// thread measured in the same run: ratio-vs-one-core = tries/s on all
// cores / tries/s on one. The machine is shared, so the ratio is the median
// over alternating short windows of the two, each pair seeing about the
// same load.
func BenchmarkSearchAllCores(b *testing.B) {
	n, t := impossible(b)
	threads := runtime.NumCPU()
	var ratios, ones []float64
	for range 7 {
		one := triesPerSec(n, t, 1, 60*time.Millisecond)
		all := triesPerSec(n, t, threads, 60*time.Millisecond)
		ones = append(ones, one)
		ratios = append(ratios, all/one)
	}
	slices.Sort(ratios)
	slices.Sort(ones)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var tries atomic.Uint64
	want := uint64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	// search stops only on ctx; the tick at each poll ends it once b.N
	// tries were made (a poll and a chunk per thread of overshoot).
	if _, why := search(ctx, n, t, 1, benchOptions(threads), &tries, func() {
		if tries.Load() >= want {
			cancel()
		}
	}); why != stopped {
		b.Fatal("found a proof for the zero target")
	}
	b.StopTimer()
	b.ReportMetric(float64(tries.Load())/b.Elapsed().Seconds(), "tries/s")
	b.ReportMetric(ones[len(ones)/2], "one-core-tries/s")
	b.ReportMetric(float64(threads), "threads")
	b.ReportMetric(ratios[len(ratios)/2], "ratio-vs-one-core")
}
