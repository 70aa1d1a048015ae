package chainsync_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chainsync"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// network is a devnet with a few keys derived from fixed seeds.
type network struct {
	p    *params.Params
	keys []ed25519.PrivateKey
	addr []string
}

func newNetwork(t testing.TB, retarget bool) *network {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 10_000, NoRetarget: !retarget})
	if err != nil {
		t.Fatal(err)
	}
	nw := &network{p: p}
	for i := range 4 {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("chainsync-test"), uint64(i)))
		k := ed25519.NewKeyFromSeed(h[:])
		nw.keys = append(nw.keys, k)
		nw.addr = append(nw.addr, keys.Address(p.AddressPrefix, k.Public().(ed25519.PublicKey)))
	}
	return nw
}

// dir creates an empty chain directory of the network.
func (nw *network) dir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "chain")
	if err := node.Create(dir, nw.p); err != nil {
		t.Fatal(err)
	}
	return dir
}

// transfer signs amount units from key i to key j, stamped now.
func (nw *network) transfer(i, j int, amount uint64) *tx.Tx {
	t := &tx.Tx{Sender: nw.addr[i], Receiver: nw.addr[j], Amount: amount, Fee: nw.p.MinFee, Timestamp: time.Now().Unix()}
	rand.Read(t.ID[:])
	t.Sign(nw.p.Hash(), nw.keys[i])
	return t
}

func open(t testing.TB, dir string) *node.Node {
	t.Helper()
	n, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// forge builds the next block on n's tip paying miner, carrying txs (nil:
// the mempool's, as cnj-mine takes them), and finds its proof; it is not
// stored.
func forge(t testing.TB, n *node.Node, miner string, txs []*tx.Tx) *block.Block {
	t.Helper()
	b, err := testchain.Forge(n, miner, txs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// prove finds the proof of b's header.
func prove(t testing.TB, b *block.Block) {
	t.Helper()
	if err := testchain.Prove(b); err != nil {
		t.Fatal(err)
	}
}

// mine adds k blocks paying miner on n's tip, with the mempool's transfers.
func mine(t testing.TB, n *node.Node, miner string, k int) {
	t.Helper()
	for range k {
		add(t, n, forge(t, n, miner, nil))
	}
}

// add stores a block and fails unless it is accepted.
func add(t testing.TB, n *node.Node, b *block.Block) {
	t.Helper()
	v, _, err := n.AddMined(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.Err != nil || v.Known {
		t.Fatalf("block %d: %+v", b.Index, v)
	}
}

// submitTx puts a transfer into n's mempool.
func submitTx(t testing.TB, n *node.Node, x *tx.Tx) {
	t.Helper()
	vs, err := n.Submit([]node.Item{{Line: &wire.Line{Raw: x.AppendJSON(nil), Tx: x}, Number: 1}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if vs[0].Err != nil {
		t.Fatalf("transfer: %v", vs[0].Err)
	}
}

// copyDir copies a chain directory (its regular files) to a new place.
func copyDir(t testing.TB, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "chain")
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return to
}

// snapshot is the chain of a directory as files: every file that holds
// blocks, their index, the ledger state, the mempool and the genesis.
func snapshot(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case rel == "index", rel == "state", rel == "mempool.jsonl", rel == "genesis.json", strings.HasPrefix(rel, "blocks/"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[rel] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameFiles fails unless two snapshots are byte for byte the same.
func sameFiles(t testing.TB, before, after map[string][]byte) {
	t.Helper()
	var names []string
	for k := range before {
		names = append(names, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if !bytes.Equal(before[k], after[k]) {
			t.Errorf("%s changed: %d bytes before, %d after", k, len(before[k]), len(after[k]))
		}
	}
}

// tipOf reads the tip of a chain directory afresh.
func tipOf(t testing.TB, dir string) chainsync.Tip {
	t.Helper()
	d, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tip := d.Chain().Tip()
	return chainsync.Tip{Height: tip.Height, Hash: tip.Hash, Work: tip.Work}
}

// serve starts an HTTP server for a fake peer and returns its address.
func serve(t testing.TB, fp *testchain.Peer) string {
	t.Helper()
	srv := httptest.NewServer(fp)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// peerOf serves the main chain of a chain directory.
func peerOf(t testing.TB, dir string) (*testchain.Peer, string) {
	t.Helper()
	fp, err := testchain.FromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fp, serve(t, fp)
}

// run syncs dir from peers with short timeouts and the peers file kept.
func run(t testing.TB, dir string, o chainsync.Options) (*chainsync.Report, error) {
	t.Helper()
	n, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return chainsync.Sync(ctx, n, o)
}

// problems joins the report's problems, one a line.
func problems(r *chainsync.Report) string {
	var s []string
	for _, p := range r.Problems {
		s = append(s, p.Error())
	}
	return strings.Join(s, "\n")
}
