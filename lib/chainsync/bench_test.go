package chainsync_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chainsync"
	"github.com/coniunctum/cnj/lib/node"
)

type benchChain struct {
	*testchain.Chain
	root string // removed by TestMain
}

var (
	benchOnce sync.Once
	bench     *benchChain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bench != nil {
		os.RemoveAll(bench.root)
	}
	os.Exit(code)
}

// buildBench makes the benchmark's source chain (testchain.Build, of
// testchain.BenchSize).
func buildBench(b *testing.B) *benchChain {
	root, err := os.MkdirTemp("", "cnj-sync-bench-")
	if err != nil {
		b.Fatal(err)
	}
	blocks, txs := testchain.BenchSize()
	c, err := testchain.Build(filepath.Join(root, "chain"), blocks, txs)
	if err != nil {
		os.RemoveAll(root)
		b.Fatal(err)
	}
	return &benchChain{Chain: c, root: root}
}

// rawVerify is testchain.RawVerifyRate on the chain's sample.
func rawVerify(b *testing.B, bc *benchChain) float64 {
	rate, err := testchain.RawVerifyRate(bc.Sample, bc.PerTx)
	if err != nil {
		b.Fatal(err)
	}
	return rate
}

// heapOf runs f and returns the peak of the live heap while it ran (as
// each collection found it) above the live heap before, and how much the
// live heap grew. The heap itself runs up to twice the live heap between
// collections (GOGC=100).
func heapOf(f func()) (peak, grew uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var top atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > top.Load() {
				top.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	runtime.GC()
	if after := read(); after > base {
		grew = after - base
	}
	if t := top.Load(); t > base {
		peak = t - base
	}
	return peak, grew
}

// BenchmarkSync measures a fresh sync over loopback from a fake peer
// (httptest, zstd, the chain held in memory): the whole of chainsync.Sync,
// download, staging, node.Submit of every block with its signatures, on a
// new directory each op. It reports blocks/s and txs/s, the raw batch
// signature verification rate on every core measured in the same run,
// their ratio, the peak live heap during a sync above the live heap before
// it (which holds the fake peer's chain) and how much the live heap grew
// (the ledger's new state: the sync's own buffers are gone), and the share
// of the cores the process kept busy while it synced, the fake peer's
// serving included (the rest of those core-seconds were idle).
func BenchmarkSync(b *testing.B) {
	benchOnce.Do(func() { bench = buildBench(b) })
	if bench == nil {
		b.Fatal("building the chain failed")
	}
	bc := bench
	fp, err := testchain.FromDir(bc.Dir)
	if err != nil {
		b.Fatal(err)
	}
	addr := serve(b, fp)
	total := len(fp.Lines())
	var synced, raw, cpu time.Duration
	var peak, grew uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "chain")
		if err := node.Create(dir, bc.Params); err != nil {
			b.Fatal(err)
		}
		n, err := node.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		rate := rawVerify(b, bc)
		b.StartTimer()
		cpu0 := cpuTime()
		begin := time.Now()
		var rep *chainsync.Report
		var p, g uint64
		p, g = heapOf(func() {
			rep, err = chainsync.Sync(context.Background(), n, chainsync.Options{Peers: []string{addr}, KeepPeers: true})
		})
		took := time.Since(begin) // heapOf's two collections included: they are small
		cpu += cpuTime() - cpu0
		grew = max(grew, g)
		b.StopTimer()
		if err != nil || rep.Blocks != total {
			b.Fatalf("%v: %d of %d blocks", err, rep.Blocks, total)
		}
		n.Close()
		os.RemoveAll(dir)
		// The machine's limit is its best rate: measured before and after
		// the sync, so that a burst of other load during one measurement
		// does not flatter the ratio.
		rate = max(rate, rawVerify(b, bc))
		raw += time.Duration(float64(bc.Txs) / rate * float64(time.Second))
		synced += took
		peak = max(peak, p)
		b.StartTimer()
	}
	b.StopTimer()
	secs := synced.Seconds()
	b.ReportMetric(float64(b.N*total)/secs, "blocks/s")
	b.ReportMetric(float64(b.N*bc.Txs)/secs, "txs/s")
	b.ReportMetric(float64(b.N*bc.Txs)/raw.Seconds(), "raw-verifies/s")
	b.ReportMetric(raw.Seconds()/secs, "ratio-vs-raw-verify")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MB")
	b.ReportMetric(float64(grew)/(1<<20), "live-heap-growth-MB")
	b.ReportMetric(cpu.Seconds()/secs/float64(runtime.NumCPU()), "cores-busy")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBlockLines is the cost of what the download does to every line
// before verification (parse and proof), for reading BenchmarkSync.
func BenchmarkBlockLines(b *testing.B) {
	benchOnce.Do(func() { bench = buildBench(b) })
	fp, err := testchain.FromDir(bench.Dir)
	if err != nil {
		b.Fatal(err)
	}
	lines := fp.Lines()
	b.ResetTimer()
	for range b.N {
		for _, l := range lines {
			if _, err := block.Parse(l); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(lines))/b.Elapsed().Seconds(), "blocks/s")
}
