package verify_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hdevalence/ed25519consensus"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/internal/verify"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// The benchmarks' chain directories are built once per process (from a
// second to a few minutes) under cacheRoot, which TestMain removes at the
// end; $CNJ_BENCH_DIR keeps the largest across runs (see bigDirectory).
var (
	cacheOnce sync.Once
	cacheRoot string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cacheRoot != "" {
		os.RemoveAll(cacheRoot)
	}
	os.Exit(code)
}

// cacheDir names a directory under cacheRoot.
func cacheDir(name string) string {
	cacheOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cnj-verify-bench-")
		if err != nil {
			panic(err)
		}
		cacheRoot = dir
	})
	return filepath.Join(cacheRoot, name)
}

// funded is a devnet chain directory in which each sender has one matured
// block reward (50 CNJ: millions of minimum-fee transfers).
type funded struct {
	dir       string
	p         *params.Params
	senders   []ed25519.PrivateKey
	addrs     []string // senders' addresses
	receivers []string
}

const (
	nSenders   = 50
	nReceivers = 20_000
)

func seed(domain string, i int) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(domain), uint64(i)))
	return h[:]
}

// keysFor returns the funded layout of the devnet p in dir: the senders'
// keys and addresses and the receivers, all derived from fixed seeds so
// that a directory built by an earlier run fits them.
func keysFor(dir string, p *params.Params) *funded {
	f := &funded{dir: dir, p: p}
	for i := range nSenders {
		priv := ed25519.NewKeyFromSeed(seed("verify-bench-sender", i))
		f.senders = append(f.senders, priv)
		f.addrs = append(f.addrs, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey)))
	}
	for i := range nReceivers {
		// An address is a hash of 32 bytes: no key is needed to pay one.
		f.receivers = append(f.receivers, keys.Address(p.AddressPrefix, ed25519.PublicKey(seed("verify-bench-receiver", i))))
	}
	return f
}

// fund creates a devnet in dir and mines, through node.Template, a midstate
// search and node.AddMined as cnj-mine does, one block paying each sender
// and then Maturity blocks so that every reward is spendable.
func fund(b *testing.B, dir string) *funded {
	b.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 60, NoRetarget: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := node.Create(dir, p); err != nil {
		b.Fatal(err)
	}
	f := keysFor(dir, p)
	n, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	for _, a := range f.addrs {
		mine(b, n, a, nil)
	}
	for range p.Maturity {
		mine(b, n, f.addrs[0], nil)
	}
	return f
}

// mine builds a block on n's tip paying miner, with txs (nil: the
// mempool's, as cnj-mine takes them), finds its proof and stores it.
func mine(b *testing.B, n *node.Node, miner string, txs []*tx.Tx) {
	b.Helper()
	blk, err := testchain.Forge(n, miner, txs)
	if err != nil {
		b.Fatal(err)
	}
	v, _, err := n.AddMined(blk)
	if err != nil {
		b.Fatal(err)
	}
	if v.Err != nil || v.Known {
		b.Fatalf("block %d: %+v", blk.Index, v)
	}
}

// transfer signs a transfer of a few units from sender i to receiver j,
// stamped now, with a random id as cnj-sign makes them.
func (f *funded) transfer(i, j int) *tx.Tx {
	t := &tx.Tx{
		Sender:    f.addrs[i%nSenders],
		Receiver:  f.receivers[j%nReceivers],
		Amount:    1 + uint64(j%1000),
		Fee:       f.p.MinFee + uint64(j%7),
		Timestamp: time.Now().Unix(),
	}
	rand.Read(t.ID[:])
	t.Sign(f.p.Hash(), f.senders[i%nSenders])
	return t
}

// transfers signs n transfers, from sender k%nSenders to receiver
// (first+k)%nReceivers, on every CPU.
func (f *funded) transfers(first, n int) []*tx.Tx {
	out := make([]*tx.Tx, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for k := w; k < n; k += workers {
				out[k] = f.transfer(first+k, first+k)
			}
		})
	}
	wg.Wait()
	return out
}

// copyTree copies the regular files under from to to.
func copyTree(b *testing.B, from, to string) {
	b.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		b.Fatal(err)
	}
}

// verifySingle runs ed25519consensus.Verify, the raw single-signature
// check, over txs and returns how long that took.
func verifySingle(b *testing.B, txs []*tx.Tx) time.Duration {
	begin := time.Now()
	for _, t := range txs {
		if !ed25519consensus.Verify(t.PubKey[:], t.Hash[:], t.Signature[:]) {
			b.Fatal("raw verify failed")
		}
	}
	return time.Since(begin)
}

// run is cnj-verify's stream on in, with its output buffered to nowhere. It
// returns how many lines were accepted and when the first verdict came.
func run(b *testing.B, n *node.Node, in []byte, begin time.Time) (accepted int, first time.Duration) {
	b.Helper()
	out := bufio.NewWriterSize(io.Discard, 64<<10)
	err := verify.Stream(n, bytes.NewReader(in), false, func(it node.Item, v node.Verdict) error {
		if first == 0 {
			first = time.Since(begin)
		}
		if v.Err != nil || v.Known {
			b.Fatalf("line %d: %+v", it.Number, v)
		}
		accepted++
		out.Write(it.Line.Raw)
		return out.WriteByte('\n')
	}, out.Flush)
	if err != nil {
		b.Fatal(err)
	}
	return accepted, first
}

var (
	streamOnce  sync.Once
	streamChain *funded
	streamTxs   []*tx.Tx
	streamIn    []byte
)

// streamLines is how many transfer lines one op of BenchmarkStream feeds
// cnj-verify: eight full batches.
const streamLines = 4096

// BenchmarkStream measures cnj-verify's stream (verify.Stream: decode,
// batch signature check, node.Submit under the lock, mempool.jsonl
// appended per batch) on 4096 valid transfer lines from 50
// funded senders; ns/op is the whole stream, each op on a fresh copy of the
// funded directory. It reports the rate against raw single Ed25519
// verification (ed25519consensus.Verify) timed in the same run:
// ratio-vs-single-verify = transfers/s through the stream / single
// verifies/s. Each stream is paired with a run of single verifies just
// before it, and the ratio is the median over the pairs.
func BenchmarkStream(b *testing.B) {
	streamOnce.Do(func() {
		streamChain = fund(b, cacheDir("funded"))
		streamTxs = streamChain.transfers(0, streamLines)
		for _, t := range streamTxs {
			streamIn = append(t.AppendJSON(streamIn), '\n')
		}
	})
	if streamChain == nil {
		b.Fatal("building the directory failed")
	}
	f := streamChain
	sample := streamTxs[:512]
	var ratios []float64
	var raw, streamed time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "chain")
		copyTree(b, f.dir, dir)
		n, err := node.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		single := verifySingle(b, sample)
		b.StartTimer()
		begin := time.Now()
		accepted, _ := run(b, n, streamIn, begin)
		took := time.Since(begin)
		b.StopTimer()
		if accepted != streamLines {
			b.Fatalf("op %d: %d of %d lines accepted", i, accepted, streamLines)
		}
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
		os.RemoveAll(dir)
		raw += single
		streamed += took
		rate := float64(streamLines) / took.Seconds()
		ratios = append(ratios, rate/(float64(len(sample))/single.Seconds()))
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(ratios)
	b.ReportMetric(float64(b.N*streamLines)/streamed.Seconds(), "txs/s")
	b.ReportMetric(float64(b.N*len(sample))/raw.Seconds(), "single-verifies/s")
	b.ReportMetric(ratios[len(ratios)/2], "ratio-vs-single-verify")
}

var (
	bigOnce  sync.Once
	bigChain *funded
	bigTxs   int
)

// bigTotal is the number of transfers in BenchmarkOpen's directory, in
// blocks of perBlock: a transfer line is about 527 bytes, so a block of 1900
// is just under the devnet's 1 MiB.
const (
	bigTotal = 1_000_000
	perBlock = 1900
)

// bigDirectory returns BenchmarkOpen's directory: $CNJ_BENCH_DIR/verify-open
// when CNJ_BENCH_DIR is set (built there once and reused by later runs, as
// lib/chaindir's benchmarks do with $CNJ_BENCH_DIR/chain), else one built
// for this process.
func bigDirectory(b *testing.B) {
	root := os.Getenv("CNJ_BENCH_DIR")
	if root == "" {
		buildBig(b, cacheDir("big"))
		return
	}
	dir := filepath.Join(root, "verify-open")
	done := filepath.Join(root, "verify-open.done")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(dir)
		if err := os.MkdirAll(root, 0o755); err != nil {
			b.Fatal(err)
		}
		buildBig(b, dir)
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		return
	}
	n, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	for _, r := range n.Store().Records() {
		bigTxs += r.TxCount
	}
	bigChain = keysFor(dir, n.Params())
}

// buildBig makes the funded directory and mines bigTotal transfers into it,
// signing the next block's transfers while the node validates this one.
// All of them are recent (the chain spans minutes), so the ledger's set of
// recent ids holds every one: the largest state a chain of this size has.
func buildBig(b *testing.B, dir string) {
	f := fund(b, dir)
	// The state file is written at Close; rewriting 20 MB every five blocks
	// would only slow the build.
	n, err := node.OpenWith(f.dir, node.Options{Store: blockstore.Options{StateEveryBlocks: math.MaxInt, StateEveryTxs: math.MaxInt}})
	if err != nil {
		b.Fatal(err)
	}
	signed := make(chan []*tx.Tx, 2)
	go func() {
		defer close(signed)
		for done := 0; done < bigTotal; done += perBlock {
			signed <- f.transfers(done, min(perBlock, bigTotal-done))
		}
	}()
	for txs := range signed {
		mine(b, n, f.addrs[0], txs)
	}
	for _, r := range n.Store().Records() {
		bigTxs += r.TxCount
	}
	if err := n.Close(); err != nil {
		b.Fatal(err)
	}
	bigChain = f
}

// readAll reads every regular file at the top of dir (genesis, index,
// state, mempool: what opening reads, the block segments aside) and returns
// how long that took.
func readAll(b *testing.B, dir string) time.Duration {
	begin := time.Now()
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			if _, err := os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
				b.Fatal(err)
			}
		}
	}
	return time.Since(begin)
}

// BenchmarkOpen measures cnj-verify's start on a chain directory of a
// million transfers: node.Open, then verify.Stream on one valid transfer
// line, until that line's verdict. ns/op is the whole op; s-to-first-line
// (goal: at most 0.5) is the median time to the verdict and
// min-s-to-first-line the quickest op (the machine is shared). Before each
// op the benchmark reads the directory's top-level files (genesis, index,
// state, mempool) with os.ReadFile: ratio-vs-read-files = that time / the
// time to the verdict, the share of the start that reading what it must
// read would take. The files are in the page cache (the directory was just
// built), and every op starts with an empty mempool.
//
// The directory is built on first use (about two minutes on two cores:
// every block is validated, every full segment sealed) and shared by every
// run of the benchmark in this process, or kept in $CNJ_BENCH_DIR.
func BenchmarkOpen(b *testing.B) {
	bigOnce.Do(func() { bigDirectory(b) })
	if bigChain == nil {
		b.Fatal("building the directory failed")
	}
	f := bigChain
	// Each op leaves its transfer in mempool.jsonl; every op starts with
	// the empty mempool the build left, so that none pays for the others.
	mempool := filepath.Join(f.dir, "mempool.jsonl")
	var firsts, ratios []float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if err := os.WriteFile(mempool, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		line := f.transfer(i, i).AppendJSON(nil)
		line = append(line, '\n')
		read := readAll(b, f.dir)
		runtime.GC()
		b.StartTimer()
		begin := time.Now()
		n, err := node.Open(f.dir)
		if err != nil {
			b.Fatal(err)
		}
		accepted, first := run(b, n, line, begin)
		b.StopTimer()
		if accepted != 1 {
			b.Fatalf("op %d: the line was not accepted", i)
		}
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
		firsts = append(firsts, first.Seconds())
		ratios = append(ratios, read.Seconds()/first.Seconds())
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(firsts)
	slices.Sort(ratios)
	b.ReportMetric(float64(bigTxs), "txs-in-dir")
	b.ReportMetric(firsts[len(firsts)/2], "s-to-first-line")
	b.ReportMetric(firsts[0], "min-s-to-first-line")
	b.ReportMetric(ratios[len(ratios)/2], "ratio-vs-read-files")
}
