package node

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/blockstore"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/tx"
)

// now is the clock of every test: blocks are stamped before it.
var now = time.Now().Unix()

// testParams returns a devnet with a fixed target that half of all hashes
// meet, so that mining costs two tries. spacing is the block spacing the
// helpers stamp blocks with.
func testParams(t testing.TB, genesisTime int64) *params.Params {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: genesisTime, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.InitialTarget {
		p.InitialTarget[i] = 0xff
	}
	p.InitialTarget[0] = 0x7f
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// wallet is a deterministic test key.
type wallet struct {
	priv ed25519.PrivateKey
	addr string
}

func newWallet(p *params.Params, i int) wallet {
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("chaindir-test"), uint64(i)))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return wallet{priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))}
}

// gen builds valid blocks for a network.
type gen struct {
	p       *params.Params
	miner   wallet
	seq     uint64 // makes tx ids unique
	spacing int64
}

func newGen(p *params.Params) *gen {
	return &gen{p: p, miner: newWallet(p, 0), spacing: 2}
}

// transfer returns a signed transfer.
func (g *gen) transfer(from wallet, to string, amount uint64, ts int64) *tx.Tx {
	g.seq++
	t := &tx.Tx{Sender: from.addr, Receiver: to, Amount: amount, Fee: g.p.MinFee, Timestamp: ts}
	gh := g.p.Hash()
	id := sha256.Sum256(binary.BigEndian.AppendUint64(append([]byte("id"), gh[:]...), g.seq))
	copy(t.ID[:], id[:])
	t.Sign(g.p.Hash(), from.priv)
	return t
}

// mine builds a block on parent paying the miner, with the given transfers.
func (g *gen) mine(parent *chain.BlockNode, ts int64, miner string, txs []*tx.Tx) (*block.Block, []byte) {
	b := &block.Block{Header: block.Header{Index: parent.Height + 1, Timestamp: ts, Miner: miner,
		PrevHash: parent.Hash, Target: g.p.InitialTarget}}
	var fees uint64
	for _, t := range txs {
		fees += t.Fee
	}
	b.Reward = tx.Reward{Receiver: miner, Amount: g.p.Subsidy(b.Index) + fees, Index: b.Index}
	b.Txs = txs
	b.MerkleRoot = block.MerkleRoot(g.p.Hash(), &b.Reward, txs)
	for b.Proof = 0; ; b.Proof++ {
		b.Hash = b.ComputeHash()
		if pow.Meets(&b.Hash, &b.Target) {
			break
		}
	}
	return b, b.JSON()
}

// next builds a child of the tip of c with n transfers from the miner's
// matured rewards (none while nothing has matured).
func (g *gen) next(c *chain.Chain, n int) (*block.Block, []byte) {
	tip := c.Tip()
	ts := tip.Timestamp + g.spacing
	var txs []*tx.Tx
	if bal := c.Ledger().Balance(g.miner.addr).Confirmed; bal > uint64(n)*(g.p.MinFee+1000) {
		for i := 0; i < n; i++ {
			to := newWallet(g.p, 1+int(g.seq%50)).addr
			txs = append(txs, g.transfer(g.miner, to, 1000+g.seq%7, ts))
		}
	}
	return g.mine(tip, ts, g.miner.addr, txs)
}

// testOpts are the Options openTest opens with; smallSegments and
// stateEveryBlocks change them for one test.
var testOpts Options

// openTest opens dir with testOpts.
func openTest(dir string) (*Node, error) { return OpenWith(dir, testOpts) }

// smallSegments makes segments roll over after size bytes for one test.
func smallSegments(t testing.TB, size int64) {
	old := testOpts
	testOpts.Store.SegmentSize = size
	t.Cleanup(func() { testOpts = old })
}

// stateEveryBlocks makes the state file due every k blocks for one test.
func stateEveryBlocks(t testing.TB, k int) {
	old := testOpts
	testOpts.Store.StateEveryBlocks = k
	t.Cleanup(func() { testOpts = old })
}

// The index file's layout (cnj-format(5), package blockstore): a header,
// then one fixed-size record per stored block.
const (
	indexHeader = 64
	recordSize  = 144
)

// indexComplete fails unless the index file holds a good header and
// exactly one record for each of the n's records.
func indexComplete(t testing.TB, n *Node) {
	t.Helper()
	fi, err := os.Stat(n.dir.File(chaindir.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(indexHeader + recordSize*len(n.store.Records())); fi.Size() != want {
		t.Fatalf("index of %d bytes, want %d for %d blocks", fi.Size(), want, len(n.store.Records()))
	}
	if err := blockstore.CheckIndexFile(n.dir, n.p.Hash(), n.store.Records(), nil); err != nil {
		t.Fatal(err)
	}
}

// segState is what a listing of blocks/ says of one segment.
type segState struct{ plain, sealed bool }

// listSegments lists the segments of dir/blocks, by number.
func listSegments(dir string) ([]segState, error) {
	ents, err := os.ReadDir(filepath.Join(dir, chaindir.BlocksDir))
	if err != nil {
		return nil, err
	}
	var segs []segState
	for _, e := range ents {
		n, sealed, ok := chaindir.ParseSegmentName(e.Name())
		if !ok {
			continue
		}
		for int(n) >= len(segs) {
			segs = append(segs, segState{})
		}
		if sealed {
			segs[n].sealed = true
		} else {
			segs[n].plain = true
		}
	}
	return segs, nil
}

// newDir creates a chain directory in a temporary directory.
func newDir(t testing.TB) (string, *params.Params) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "chain")
	p := testParams(t, now-10_000_000)
	if err := Create(dir, p); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

func mustOpen(t testing.TB, dir string) *Node {
	t.Helper()
	d, err := openTest(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return d
}

// grow adds n blocks of k transfers each, one Write per block.
func grow(t testing.TB, d *Node, g *gen, n, k int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := d.Write(func(w *Writer) error {
			b, line := g.next(d.Chain(), k)
			res, err := w.AddBlock(b, line, now)
			if err == nil && (res.Duplicate || !res.TipChanged) {
				t.Fatalf("block %d: %+v", b.Index, res)
			}
			return err
		})
		if err != nil {
			t.Fatalf("grow: %v", err)
		}
	}
}

// view is what a Dir shows: tip and ledger bytes.
type view struct {
	tip    [32]byte
	height uint64
	ledger []byte
	recs   int
}

func viewOf(t testing.TB, d *Node) view {
	t.Helper()
	led, err := d.Chain().Ledger().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return view{d.Chain().Tip().Hash, d.Chain().Tip().Height, led, len(d.store.Records())}
}

func sameView(a, b view) bool {
	return a.tip == b.tip && a.height == b.height && bytes.Equal(a.ledger, b.ledger) && a.recs == b.recs
}

// copyDir copies a chain directory (files and blocks/).
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parallel runs f(i) for i in [0, n) on every CPU.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int, 64)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
