package node_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// fillPool submits n transfers from the chain's senders, signed on every
// core, in batches as cnj-verify takes them, and returns the node.
func fillPool(tb testing.TB, c *testchain.Chain, n int) {
	tb.Helper()
	d, err := node.Open(c.Dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	p := d.Params()
	txs := make([]*tx.Tx, n)
	var wg sync.WaitGroup
	for w := range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := w; i < n; i += runtime.GOMAXPROCS(0) {
				k := c.Senders[i%len(c.Senders)]
				from := keys.Address(p.AddressPrefix, k.Public().(ed25519.PublicKey))
				t := &tx.Tx{Sender: from, Receiver: from, Amount: 1, Fee: p.MinFee + uint64(i%97), Timestamp: time.Now().Unix()}
				rand.Read(t.ID[:])
				t.Sign(p.Hash(), k)
				txs[i] = t
			}
		})
	}
	wg.Wait()
	for len(txs) > 0 {
		k := min(len(txs), 512)
		items := make([]node.Item, k)
		for i, t := range txs[:k] {
			items[i] = node.Item{Line: &wire.Line{Raw: t.AppendJSON(nil), Tx: t}, Number: i + 1, SigDone: true}
		}
		vs, err := d.Submit(items, false)
		if err != nil {
			tb.Fatal(err)
		}
		for _, v := range vs {
			if v.Err != nil || v.Known {
				tb.Fatalf("filling the pool: %+v", v)
			}
		}
		txs = txs[k:]
	}
}

// TestMempoolBin: a command that opens a directory takes the pool from
// mempool.bin, without judging the lines again, when it fits mempool.jsonl
// and the tip, and gets the very pool a full load gives; when it does not
// fit (the file was rewritten without it, the tip moved, lines were
// appended after it) the pool is still the file's.
func TestMempoolBin(t *testing.T) {
	c, err := testchain.Build(filepath.Join(t.TempDir(), "chain"), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	fillPool(t, c, 1200)
	d := chaindir.Dir(c.Dir)
	if _, err := os.Stat(d.File(chaindir.MempoolBinFile)); err != nil {
		t.Fatalf("no mempool.bin after the writes: %v", err)
	}
	hashes := func() [][32]byte {
		n, err := node.Open(c.Dir)
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		var out [][32]byte
		for _, x := range n.Pool.Txs() {
			out = append(out, x.Hash)
		}
		return out
	}
	fromBin := hashes()
	bin, _ := os.ReadFile(d.File(chaindir.MempoolBinFile))

	// It is what the pool comes from: a first transfer whose signature
	// was changed in it, behind a good checksum, is in the pool so.
	b, ok := chaindir.DecodeMempoolBin(bin, c.Params.Hash())
	if !ok {
		t.Fatal("mempool.bin does not decode")
	}
	b.Pool = slices.Clone(b.Pool)
	b.Pool[16+32+32] ^= 1 // the first signature's first byte
	os.WriteFile(d.File(chaindir.MempoolBinFile), b.Encode(c.Params.Hash()), 0o644)
	n, err := node.Open(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if first := n.Pool.Txs()[0]; first.Hash != fromBin[0] || first.Signature == firstSig(t, d) {
		t.Fatal("the pool did not come from mempool.bin")
	}
	// cnj-chain check finds it, and reindex takes it away.
	if err := n.Check(); chaindir.CorruptOf(err) == nil || chaindir.CorruptOf(err).File != chaindir.MempoolBinFile {
		t.Fatalf("Check of a mempool.bin that the lines do not give: %v", err)
	}
	n.Close()
	if _, err := node.Reindex(c.Dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.File(chaindir.MempoolBinFile)); err == nil {
		t.Fatal("reindex left mempool.bin")
	}
	os.Remove(d.File(chaindir.MempoolBinFile))
	full := hashes()
	if len(full) != 1200 || !slices.Equal(fromBin, full) {
		t.Fatalf("from mempool.bin %d transfers, from the lines %d, or another order", len(fromBin), len(full))
	}

	// mempool.bin names the file by its bytes: lines appended after it
	// are judged on top of it; a file rewritten without it is read whole.
	os.WriteFile(d.File(chaindir.MempoolBinFile), bin, 0o644)
	lines, _ := os.ReadFile(d.File(chaindir.MempoolFile))
	var first []byte
	for i, b := range lines {
		if b == '\n' {
			first = lines[:i+1]
			break
		}
	}
	os.WriteFile(d.File(chaindir.MempoolFile), append(lines[len(first):], first...), 0o644)
	if got := hashes(); len(got) != 1200 || got[1199] != full[0] {
		t.Fatal("a mempool.bin that does not fit the file was used")
	}
	os.WriteFile(d.File(chaindir.MempoolFile), lines, 0o644)
	fillPool(t, c, 3) // appended after the mempool.bin this process left
	if got := hashes(); len(got) != 1203 || !slices.Equal(got[:1200], full) {
		t.Fatalf("mempool.bin and 3 lines after it: %d transfers", len(got))
	}
}

// firstSig returns the signature of the first line of mempool.jsonl.
func firstSig(t *testing.T, d chaindir.Dir) [64]byte {
	t.Helper()
	data, err := os.ReadFile(d.File(chaindir.MempoolFile))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(data, '\n')
	x, err := tx.Parse(data[:i])
	if err != nil {
		t.Fatal(err)
	}
	return x.Signature
}

// BenchmarkOpenFullPool measures a read-only command's start on a full
// pool (node.DefaultMaxPool, 50,000 transfers) over a small chain:
// node.Open until the pool answers Len, as cnj-chain tip does. Before
// each op the benchmark reads the files opening reads (mempool.jsonl,
// mempool.bin, index, state, genesis.json) with os.ReadFile, the
// machine's own limit measured in the same run: ratio-vs-read-files = the
// start / that read. s-full-load is the same start with mempool.bin gone
// (every line parsed and its signature checked), once, and
// ratio-vs-full-load the start over it.
func BenchmarkOpenFullPool(b *testing.B) {
	c, err := testchain.Build(filepath.Join(b.TempDir(), "chain"), 1, 0)
	if err != nil {
		b.Fatal(err)
	}
	fillPool(b, c, node.DefaultMaxPool)
	d := chaindir.Dir(c.Dir)
	open := func() time.Duration {
		runtime.GC()
		begin := time.Now()
		n, err := node.Open(c.Dir)
		if err != nil {
			b.Fatal(err)
		}
		if n.Pool.Len() != node.DefaultMaxPool {
			b.Fatalf("the pool holds %d", n.Pool.Len())
		}
		took := time.Since(begin)
		n.Close()
		return took
	}
	read := func() time.Duration {
		begin := time.Now()
		for _, f := range []string{chaindir.MempoolFile, chaindir.MempoolBinFile, chaindir.IndexFile, chaindir.StateFile, chaindir.GenesisFile} {
			if _, err := os.ReadFile(d.File(f)); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(begin)
	}
	var starts, ratios []float64
	b.ResetTimer()
	for range b.N {
		r := read()
		s := open()
		starts = append(starts, s.Seconds())
		ratios = append(ratios, s.Seconds()/r.Seconds())
	}
	b.StopTimer()
	slices.Sort(starts)
	slices.Sort(ratios)
	b.ReportMetric(starts[len(starts)/2], "s-to-start")
	b.ReportMetric(ratios[len(ratios)/2], "ratio-vs-read-files")
	bin, _ := os.ReadFile(d.File(chaindir.MempoolBinFile))
	os.Remove(d.File(chaindir.MempoolBinFile))
	full := open().Seconds()
	b.ReportMetric(full, "s-full-load")
	b.ReportMetric(starts[len(starts)/2]/full, "ratio-vs-full-load")
	os.WriteFile(d.File(chaindir.MempoolBinFile), bin, 0o644)
}
