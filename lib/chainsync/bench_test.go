package chainsync_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hdevalence/ed25519consensus"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainsync"
	"github.com/coniunctum/cnj/lib/chainsync/chainsynctest"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// The benchmark's chain: benchBlocks blocks carrying benchTxs transfers
// after the blocks that fund the senders. The defaults keep `make bench`
// short; $CNJ_SYNC_BENCH_BLOCKS and $CNJ_SYNC_BENCH_TXS scale it (the
// issue's figure is 10000 blocks and 1000000 transfers).
func benchSize() (blocks, txs int) {
	blocks, txs = 100, 10_000
	if v, err := strconv.Atoi(os.Getenv("CNJ_SYNC_BENCH_BLOCKS")); err == nil && v > 0 {
		blocks = v
	}
	if v, err := strconv.Atoi(os.Getenv("CNJ_SYNC_BENCH_TXS")); err == nil && v >= 0 {
		txs = v
	}
	return blocks, txs
}

const benchSenders = 50

type benchChain struct {
	p      *params.Params
	root   string // removed by TestMain
	dir    string
	sample []*tx.Tx // transfers of the chain, for the raw verification rate
	per    int      // transfers per block
	txs    int
	blocks int
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

// buildBench makes the benchmark's source chain: one block paying each
// sender, Maturity blocks, then the blocks of transfers, each signed
// while the node validates the one before.
func buildBench(b *testing.B) *benchChain {
	nBlocks, nTxs := benchSize()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 60, NoRetarget: true})
	if err != nil {
		b.Fatal(err)
	}
	root, err := os.MkdirTemp("", "cnj-sync-bench-")
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(root, "chain")
	if err := chaindir.Create(dir, p); err != nil {
		b.Fatal(err)
	}
	var senders []ed25519.PrivateKey
	var addrs []string
	for i := range benchSenders {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sync-bench-sender"), uint64(i)))
		k := ed25519.NewKeyFromSeed(h[:])
		senders = append(senders, k)
		addrs = append(addrs, keys.Address(p.AddressPrefix, k.Public().(ed25519.PublicKey)))
	}
	receiver := func(j int) string {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sync-bench-receiver"), uint64(j%20_000)))
		return keys.Address(p.AddressPrefix, ed25519.PublicKey(h[:]))
	}
	n, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range addrs {
		add(b, n, forge(b, n, a, nil))
	}
	for range p.Maturity {
		add(b, n, forge(b, n, addrs[0], nil))
	}
	per := (nTxs + nBlocks - 1) / nBlocks
	signed := make(chan []*tx.Tx, 2)
	go func() {
		defer close(signed)
		for done := 0; done < nBlocks; done++ {
			k := min(per, nTxs-done*per)
			txs := make([]*tx.Tx, max(k, 0))
			var wg sync.WaitGroup
			workers := runtime.GOMAXPROCS(0)
			for w := range workers {
				wg.Go(func() {
					for i := w; i < len(txs); i += workers {
						j := done*per + i
						t := &tx.Tx{Sender: addrs[j%benchSenders], Receiver: receiver(j), Amount: 1 + uint64(j%1000),
							Fee: p.MinFee, Timestamp: time.Now().Unix()}
						rand.Read(t.ID[:])
						t.Sign(p.Hash(), senders[j%benchSenders])
						txs[i] = t
					}
				})
			}
			wg.Wait()
			signed <- txs
		}
	}()
	bc := &benchChain{p: p, root: root, dir: dir, per: per, txs: nTxs, blocks: nBlocks}
	for txs := range signed {
		add(b, n, forge(b, n, addrs[0], txs))
		if len(bc.sample) < 20_000 {
			bc.sample = append(bc.sample, txs...)
		}
	}
	if err := n.Close(); err != nil {
		b.Fatal(err)
	}
	return bc
}

// rawVerify is the batch signature verification limit on every core:
// batches of one block's transfers, verified on GOMAXPROCS goroutines.
// It returns signatures per second.
func rawVerify(b *testing.B, txs []*tx.Tx, per int) float64 {
	per = max(per, 2)
	var next atomic.Int64
	var bad atomic.Bool
	begin := time.Now()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(int64(per))) - per
				if i >= len(txs) {
					return
				}
				batch := txs[i:min(i+per, len(txs))]
				v := ed25519consensus.NewPreallocatedBatchVerifier(len(batch))
				for _, t := range batch {
					v.Add(t.PubKey[:], t.Hash[:], t.Signature[:])
				}
				if !v.Verify() {
					bad.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() {
		b.Fatal("raw batch verification failed")
	}
	return float64(len(txs)) / time.Since(begin).Seconds()
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
// (the ledger's new state: the sync's own buffers are gone).
func BenchmarkSync(b *testing.B) {
	benchOnce.Do(func() { bench = buildBench(b) })
	if bench == nil {
		b.Fatal("building the chain failed")
	}
	bc := bench
	fp, err := chainsynctest.FromDir(bc.dir)
	if err != nil {
		b.Fatal(err)
	}
	addr := serve(b, fp)
	total := len(fp.Lines())
	var synced, raw time.Duration
	var peak, grew uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "chain")
		if err := chaindir.Create(dir, bc.p); err != nil {
			b.Fatal(err)
		}
		n, err := node.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		rate := rawVerify(b, bc.sample, bc.per)
		b.StartTimer()
		begin := time.Now()
		var rep *chainsync.Report
		var p, g uint64
		p, g = heapOf(func() {
			rep, err = chainsync.Sync(context.Background(), n, chainsync.Options{Peers: []string{addr}, KeepPeers: true})
		})
		took := time.Since(begin) // heapOf's two collections included: they are small
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
		rate = max(rate, rawVerify(b, bc.sample, bc.per))
		raw += time.Duration(float64(bc.txs) / rate * float64(time.Second))
		synced += took
		peak = max(peak, p)
		b.StartTimer()
	}
	b.StopTimer()
	secs := synced.Seconds()
	b.ReportMetric(float64(b.N*total)/secs, "blocks/s")
	b.ReportMetric(float64(b.N*bc.txs)/secs, "txs/s")
	b.ReportMetric(float64(b.N*bc.txs)/raw.Seconds(), "raw-verifies/s")
	b.ReportMetric(raw.Seconds()/secs, "ratio-vs-raw-verify")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MB")
	b.ReportMetric(float64(grew)/(1<<20), "live-heap-growth-MB")
}

// BenchmarkBlockLines is the cost of what the download does to every line
// before verification (parse and proof), for reading BenchmarkSync.
func BenchmarkBlockLines(b *testing.B) {
	benchOnce.Do(func() { bench = buildBench(b) })
	fp, err := chainsynctest.FromDir(bench.dir)
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
