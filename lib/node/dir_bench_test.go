package node

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/tx"
)

// bigSpec says what buildBig makes.
type bigSpec struct {
	txs       int   // transfers in all
	perBlock  int   // transfers per block
	senders   int   // funded wallets that send
	receivers int   // distinct receiving addresses
	spacing   int64 // seconds between blocks
	// behind is how many transfers the saved old state lags the tip by
	// (state-behind next to the directory); 0 for none.
	behind int
}

// defaultBig is a directory of one million transfers paced like main (a
// block every ten minutes, as many transfers as fit the 1 MB limit, so 24
// hours of recent ids), from 1000 senders to 50,000 receivers.
var defaultBig = bigSpec{txs: 1_000_000, perBlock: 1950, senders: 1000, receivers: 50_000, spacing: 600, behind: blockstore.DefaultStateEveryTxs - 1}

// buildBig creates a chain directory at dir holding s.txs valid signed
// transfers. Blocks are stored through the writer's trusted path
// (chain.Apply: the ledger rules are applied, signatures are not verified
// again), so the cost is signing, on every CPU. When s.behind > 0 the state
// file as of s.behind transfers before the tip is saved as
// dir/../state-behind; the directory's own state is at the tip.
func buildBig(tb testing.TB, dir string, s bigSpec) {
	start := time.Now()
	nblocks := (s.txs + s.perBlock - 1) / s.perBlock
	genesisTime := time.Now().Unix() - int64(nblocks+20)*s.spacing - 3600
	p := testParams(tb, genesisTime)
	if err := Create(dir, p); err != nil {
		tb.Fatal(err)
	}
	// The state is written only where wanted.
	d, err := OpenWith(dir, Options{Store: blockstore.Options{StateEveryTxs: 1 << 62}})
	if err != nil {
		tb.Fatal(err)
	}
	g := newGen(p)
	g.spacing = s.spacing
	rich := g.miner
	senders := make([]wallet, s.senders)
	parallel(s.senders, func(i int) { senders[i] = newWallet(p, 1000+i) })
	receivers := make([]string, s.receivers)
	parallel(s.receivers, func(i int) {
		pub := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("receiver"), uint64(i)))
		receivers[i] = keys.Address(p.AddressPrefix, ed25519.PublicKey(pub[:]))
	})
	rng := rand.New(rand.NewSource(1))

	// store puts a block through the trusted path.
	store := func(txs []*tx.Tx) {
		err := d.Write(func(w *Writer) error {
			tip := d.Chain().Tip()
			b, line := g.mine(tip, tip.Timestamp+s.spacing, rich.addr, txs)
			if uint64(len(line)) > p.MaxBlockBytes {
				return fmt.Errorf("block of %d bytes: fewer transfers per block", len(line))
			}
			loc, err := d.store.Put(b, line)
			if err != nil {
				return err
			}
			rec := blockstore.Record{Hash: b.Hash, PrevHash: b.PrevHash, Height: b.Index, Timestamp: b.Timestamp,
				Target: b.Target, Loc: loc, TxCount: len(b.Txs)}
			res, err := d.ch.Apply(rec, b)
			if err != nil {
				return err
			}
			d.store.Added(res.Record, res.Invalidated)
			d.wrote = true
			return d.store.SyncIndex()
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	// Rewards to the rich wallet, then one block funding the senders.
	for i := 0; i < 12; i++ {
		store(nil)
	}
	share := d.Chain().Ledger().Balance(rich.addr).Confirmed / uint64(s.senders+1)
	var fund []*tx.Tx
	for _, w := range senders {
		fund = append(fund, g.transfer(rich, w.addr, share-p.MinFee, d.Chain().Tip().Timestamp+s.spacing))
	}
	store(fund)

	done := 0
	for done < s.txs {
		n := min(s.perBlock, s.txs-done)
		ts := d.Chain().Tip().Timestamp + s.spacing
		txs := make([]*tx.Tx, n)
		base := g.seq
		g.seq += uint64(n)
		from := make([]int, n)
		to := make([]int, n)
		for i := range txs {
			from[i], to[i] = rng.Intn(s.senders), rng.Intn(s.receivers)
		}
		parallel(n, func(i int) {
			t := &tx.Tx{Sender: senders[from[i]].addr, Receiver: receivers[to[i]], Amount: 1 + uint64(i%1000),
				Fee: p.MinFee, Timestamp: ts}
			id := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("bench-id"), base+uint64(i)))
			copy(t.ID[:], id[:]) // 128 random-looking bits, as wallets make them
			t.Sign(p.Hash(), senders[from[i]].priv)
			txs[i] = t
		})
		if s.behind > 0 && done < s.txs-s.behind && done+n >= s.txs-s.behind {
			err := d.Write(func(w *Writer) error { d.store.ForceState(); return nil })
			if err == nil {
				err = os.Rename(filepath.Join(dir, chaindir.StateFile), filepath.Join(filepath.Dir(dir), "state-behind"))
			}
			if err != nil {
				tb.Fatal(err)
			}
		}
		store(txs)
		done += n
	}
	if err := d.Close(); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built %s: %d transfers in %d blocks in %v", dir, s.txs, nblocks, time.Since(start).Round(time.Second))
}

// cpuTime is the CPU time this process used so far (user and system, every
// thread): on a shared machine it says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	bigOnce sync.Once
	bigDir  string
)

// bigDirectory returns a one-million-transfer directory: $CNJ_BENCH_DIR/chain
// when CNJ_BENCH_DIR is set (built there once and reused by later runs),
// else a temporary one built for this process.
func bigDirectory(b *testing.B) string {
	bigOnce.Do(func() {
		root := os.Getenv("CNJ_BENCH_DIR")
		if root == "" {
			var err error
			if root, err = os.MkdirTemp("", "cnj-bench"); err != nil {
				b.Fatal(err)
			}
		}
		dir := filepath.Join(root, "chain")
		if _, err := os.Stat(filepath.Join(dir, chaindir.GenesisFile)); err != nil {
			os.RemoveAll(dir)
			if err := os.MkdirAll(root, 0o755); err != nil {
				b.Fatal(err)
			}
			buildBig(b, dir, defaultBig)
		}
		bigDir = dir
	})
	if bigDir == "" {
		b.Fatal("no benchmark directory")
	}
	return bigDir
}

// BenchmarkOpen1M opens a directory of one million transfers until the
// chain is ready (tip and ledger): with the state at the tip, and with a
// state 9,999 transfers behind it (the most a writer leaves when it is
// killed, as it writes the state every 10,000).
func BenchmarkOpen1M(b *testing.B) {
	dir := bigDirectory(b)
	var txs, bytes int64
	filepath.Walk(filepath.Join(dir, chaindir.BlocksDir), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			bytes += fi.Size()
		}
		return nil
	})
	run := func(b *testing.B) {
		b.ReportAllocs()
		var total, cpu time.Duration
		for i := 0; i < b.N; i++ {
			start, cpu0 := time.Now(), cpuTime()
			d, err := openTest(dir)
			if err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
			cpu += cpuTime() - cpu0
			if i == 0 {
				txs = 0
				for _, r := range d.store.Records() {
					txs += int64(r.TxCount)
				}
			}
			d.store.Close()
		}
		b.ReportMetric(total.Seconds()/float64(b.N), "s/open")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/open")
		b.ReportMetric(float64(txs), "txs")
		b.ReportMetric(float64(bytes)/float64(txs), "disk-B/tx")
	}
	b.Run("state-at-tip", run)
	behind := filepath.Join(filepath.Dir(dir), "state-behind")
	if _, err := os.Stat(behind); err == nil {
		cur := filepath.Join(dir, chaindir.StateFile)
		tip := readFile(b, cur)
		if err := os.WriteFile(cur, readFile(b, behind), 0o644); err != nil {
			b.Fatal(err)
		}
		defer os.WriteFile(cur, tip, 0o644)
		b.Run("state-10k-behind", run)
	}
}

// BenchmarkAppendBlock measures Write+AddBlock of one block (full
// validation, one fsync of the segment), for blocks of 0, 10 and 100
// transfers.
func BenchmarkAppendBlock(b *testing.B) {
	for _, k := range []int{0, 10, 100} {
		b.Run(strconv.Itoa(k)+"tx", func(b *testing.B) {
			dir, p := newDir(b)
			d := mustOpen(b, dir)
			defer d.Close()
			g := newGen(p)
			grow(b, d, g, 5, 0)
			// Blocks made ahead on a chain in memory.
			mc := chain.New(p, chain.NewMemStore())
			for _, r := range d.store.Records() {
				blk, _ := d.store.Get(r.Loc)
				if _, err := mc.Add(blk, nil, now); err != nil {
					b.Fatal(err)
				}
			}
			lines := make([][]byte, b.N)
			for i := range lines {
				blk, line := g.next(mc, k)
				if _, err := mc.Add(blk, line, now); err != nil {
					b.Fatal(err)
				}
				lines[i] = line
			}
			b.ResetTimer()
			for i := range lines {
				blk, err := block.Parse(lines[i])
				if err != nil {
					b.Fatal(err)
				}
				err = d.Write(func(w *Writer) error {
					_, err := w.AddBlock(blk, lines[i], now)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealedBytesPerTx fills one default-size segment with blocks of
// 1950 transfers between 1000 senders and 50,000 receivers, seals it, and
// reports the bytes per transfer before and after zstd.
func BenchmarkSealedBytesPerTx(b *testing.B) {
	for i := 0; i < b.N; i++ {
		root := b.TempDir()
		dir := filepath.Join(root, "chain")
		s := defaultBig
		s.txs, s.behind = 40_000, 0 // ~19 MB of lines: one full segment
		buildBig(b, dir, s)
		d := mustOpen(b, dir)
		var txs int64
		for _, r := range d.store.Records() {
			if r.Loc.Segment == 0 {
				txs += int64(r.TxCount)
			}
		}
		d.Close()
		plain := len(decodeSealed(b, filepath.Join(dir, chaindir.SealedName(0))))
		sealed := fileSize(b, filepath.Join(dir, chaindir.SealedName(0)))
		b.ReportMetric(float64(plain)/float64(txs), "plain-B/tx")
		b.ReportMetric(float64(sealed)/float64(txs), "sealed-B/tx")
		b.ReportMetric(float64(plain)/float64(sealed), "ratio")
		if i == 0 {
			b.Logf("segment 0: %d transfers, %d bytes plain, %d sealed", txs, plain, sealed)
		}
	}
}

// BenchmarkRefreshIdle is what a reader or a miner pays to learn that
// nothing changed.
func BenchmarkRefreshIdle(b *testing.B) {
	dir, p := newDir(b)
	d := mustOpen(b, dir)
	defer d.Close()
	grow(b, d, newGen(p), 3, 1)
	b.Run("Refresh", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if changed, err := d.refresh(); err != nil || changed {
				b.Fatal(changed, err)
			}
		}
	})
	b.Run("TipChanged", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if d.TipChanged() {
				b.Fatal("changed")
			}
		}
	})
}
