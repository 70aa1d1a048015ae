package web

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// The fixture, built once: a devnet chain directory of fixtureHeight
// blocks, transfers in some of them, one transfer pending, two peers,
// three rejects; and beside it a binaries directory with one binary and
// things that must never be served.
//
//	block 1..4   rewards to miner only
//	block 5      miner -> alice 7 CNJ
//	block 6      miner -> bob 1 CNJ, alice -> bob 2 CNJ
//	block 7, 8   rewards only
//	mempool      miner -> alice 3 CNJ
const fixtureHeight = 8

// secret is in every file a request must never read.
const secret = "SECRET-NEVER-SERVED"

type fixture struct {
	dir     string // the chain directory
	bin     string // the binaries directory
	man     string // the man directory
	p       *params.Params
	miner   wallet
	alice   wallet
	bob     wallet
	lines   [][]byte       // lines[h] is block h's line, h >= 1
	blocks  []*block.Block // blocks[h] is block h, h >= 1
	mined   *tx.Tx         // miner -> alice, in block 5
	pending *tx.Tx
}

type wallet struct {
	priv ed25519.PrivateKey
	addr string
}

func newWallet(p *params.Params, i int) wallet {
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("web-test"), uint64(i)))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return wallet{priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))}
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
	fixRoot string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixRoot != "" {
		os.RemoveAll(fixRoot)
	}
	os.Exit(code)
}

// getFixture returns the shared fixture. Tests must not change it: copy it
// (copyFixture) to write.
func getFixture(t testing.TB) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		fixRoot, fixErr = os.MkdirTemp("", "cnj-web-")
		if fixErr == nil {
			fix, fixErr = buildFixture(fixRoot)
		}
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

var seq uint64

func transfer(p *params.Params, from wallet, to string, amt uint64, ts int64) *tx.Tx {
	seq++
	t := &tx.Tx{Sender: from.addr, Receiver: to, Amount: amt, Fee: p.MinFee, Timestamp: ts}
	copy(t.PubKey[:], from.priv.Public().(ed25519.PublicKey))
	id := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("web-test-id"), seq))
	copy(t.ID[:], id[:])
	t.Sign(p.Hash(), from.priv)
	return t
}

// mineOn builds the next block on n's tip paying miner, with txs.
func mineOn(n *node.Node, miner string, ts int64, txs []*tx.Tx) *block.Block {
	p := n.Params()
	tip := n.Chain().Tip()
	b := &block.Block{Header: block.Header{Index: tip.Height + 1, Timestamp: ts, Miner: miner,
		PrevHash: tip.Hash, Target: p.InitialTarget}}
	var fees uint64
	for _, t := range txs {
		fees += t.Fee
	}
	b.Reward = tx.Reward{Receiver: miner, Amount: p.Subsidy(b.Index) + fees, Index: b.Index}
	b.Txs = txs
	b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, txs)
	// Proofs counted from a million times the height: a proof is seven
	// digits, a value of its own that the golden answers name.
	for b.Proof = 1_000_000 * b.Index; ; b.Proof++ {
		b.Hash = b.ComputeHash()
		if pow.Meets(&b.Hash, &b.Target) {
			return b
		}
	}
}

func submit(n *node.Node, lines ...*wire.Line) error {
	items := make([]node.Item, len(lines))
	for i, l := range lines {
		items[i] = node.Item{Line: l, Number: i + 1}
	}
	vs, err := n.Submit(items, false)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.Err != nil {
			return v.Err
		}
	}
	return nil
}

// addBlock mines and stores a block, returning it and its line.
func addBlock(n *node.Node, miner string, ts int64, txs []*tx.Tx) (*block.Block, []byte, error) {
	b := mineOn(n, miner, ts, txs)
	line := b.JSON()
	return b, line, submit(n, &wire.Line{Raw: line, Block: b})
}

func buildFixture(root string) (*fixture, error) {
	now := time.Now().Unix()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: now - 1000, NoRetarget: true})
	if err != nil {
		return nil, err
	}
	for i := range p.InitialTarget {
		p.InitialTarget[i] = 0xff
	}
	p.InitialTarget[0] = 0x7f // two tries a block
	// Validate computes the hash again.
	if err := p.Validate(); err != nil {
		return nil, err
	}
	f := &fixture{dir: filepath.Join(root, "chain"), bin: filepath.Join(root, "bin"), man: filepath.Join(root, "man"), p: p,
		miner: newWallet(p, 0), alice: newWallet(p, 1), bob: newWallet(p, 2)}
	if err := node.Create(f.dir, p); err != nil {
		return nil, err
	}
	n, err := node.Open(f.dir)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	f.lines = make([][]byte, fixtureHeight+1)
	f.blocks = make([]*block.Block, fixtureHeight+1)
	ts := now - 900
	for h := 1; h <= fixtureHeight; h++ {
		ts += 2
		var txs []*tx.Tx
		switch h {
		case 5:
			f.mined = transfer(p, f.miner, f.alice.addr, 7*100_000_000, ts)
			txs = []*tx.Tx{f.mined}
		case 6:
			txs = []*tx.Tx{transfer(p, f.miner, f.bob.addr, 100_000_000, ts), transfer(p, f.alice, f.bob.addr, 2*100_000_000, ts)}
		}
		if f.blocks[h], f.lines[h], err = addBlock(n, f.miner.addr, ts, txs); err != nil {
			return nil, err
		}
	}
	f.pending = transfer(p, f.miner, f.alice.addr, 3*100_000_000, now)
	if err := submit(n, &wire.Line{Raw: f.pending.AppendJSON(nil), Tx: f.pending}); err != nil {
		return nil, err
	}
	if err := n.Dir().WritePeers([]string{"127.0.0.2:5050", "127.0.0.3:5050"}); err != nil {
		return nil, err
	}
	for _, r := range []chaindir.Reject{
		{Time: now, From: "127.0.0.9", Reason: "bad-signature", ID: make([]byte, 16), Msg: "x"},
		{Time: now, From: "127.0.0.9", Reason: "bad-signature", ID: make([]byte, 16), Msg: "y"},
		{Time: now, From: "", Reason: "bad-json", Line: 3, Msg: "z"},
	} {
		if err := n.Dir().LogReject(r); err != nil {
			return nil, err
		}
	}
	// Things no request may read: a key file in the chain directory, one
	// beside it, and in the binaries directory a key file, a symbolic link
	// leaving it, a directory and files with names that are not served.
	if err := os.WriteFile(filepath.Join(f.dir, "key"), []byte(secret), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "key"), []byte(secret), 0o600); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(f.bin, "cnj-sub"), 0o755); err != nil {
		return nil, err
	}
	for name, mode := range map[string]os.FileMode{
		"cnj-x":        0o755,
		"cnj-y":        0o755,
		"cnj-key":      0o600,
		"cnj-x.key":    0o755,
		"other":        0o755,
		".cnj-hidden":  0o755,
		"cnj-sub/cnj-": 0o755,
	} {
		body := "#!/bin/sh\necho " + name + "\n"
		if mode == 0o600 || !strings.HasPrefix(name, "cnj-") || strings.ContainsAny(name, "./") {
			body = secret
		}
		if err := os.WriteFile(filepath.Join(f.bin, name), []byte(body), mode); err != nil {
			return nil, err
		}
	}
	if err := os.Symlink(filepath.Join(root, "key"), filepath.Join(f.bin, "cnj-link")); err != nil {
		return nil, err
	}
	if err := os.Symlink("../chain/key", filepath.Join(f.bin, "cnj-rel")); err != nil {
		return nil, err
	}
	// The man directory: pages in manN/ and directly in it, and files that
	// are not served (a page in the wrong section's directory, other
	// names, a key, a link leaving the directory).
	for _, d := range []string{"man1", "man5"} {
		if err := os.MkdirAll(filepath.Join(f.man, d), 0o755); err != nil {
			return nil, err
		}
	}
	for name, body := range map[string]string{
		"man1/cnj-x.1":      ".Dt CNJ-X 1\n",
		"cnj-y.1":           ".Dt CNJ-Y 1\n",
		"man5/cnj-format.5": ".Dt CNJ-FORMAT 5\n",
		"man1/cnj-bad.5":    secret,
		"man1/other.1":      secret,
		"cnj-x.key":         secret,
		"man1/cnj-x.1.gz":   secret,
	} {
		if err := os.WriteFile(filepath.Join(f.man, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.Symlink(filepath.Join(root, "key"), filepath.Join(f.man, "man1", "cnj-link.1")); err != nil {
		return nil, err
	}
	return f, nil
}

// copyFixture returns a copy of the fixture's chain directory that a test
// may change.
func copyFixture(t testing.TB) string {
	t.Helper()
	f := getFixture(t)
	dst := filepath.Join(t.TempDir(), "chain")
	if err := os.CopyFS(dst, os.DirFS(f.dir)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// logSink collects what a server logs.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newServer starts a Server on dir (the fixture's when "") behind an
// httptest server.
func newServer(t testing.TB, cfg Config) (*Server, *httptest.Server, *logSink) {
	t.Helper()
	f := getFixture(t)
	if cfg.Chain == "" {
		cfg.Chain = f.dir
	}
	if cfg.BinDir == "" {
		cfg.BinDir = f.bin
	}
	if cfg.ManDir == "" {
		cfg.ManDir = f.man
	}
	sink := &logSink{}
	cfg.Log = log.New(sink, "", 0)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts, sink
}

// get does a request and returns the response with its body read.
func get(t testing.TB, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, body
}
