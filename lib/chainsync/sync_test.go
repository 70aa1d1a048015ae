package chainsync_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainsync"
	"github.com/coniunctum/cnj/lib/hostport"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/txindex"
)

// base returns a chain directory of nw holding k blocks paying key 0, with
// a transfer from key 0 to key 1 in the last one when k > maturity.
func base(t testing.TB, nw *network, k int) string {
	t.Helper()
	dir := nw.dir(t)
	n := open(t, dir)
	m := int(nw.p.Maturity) + 1
	mine(t, n, nw.addr[0], min(k, m))
	if k > m {
		submitTx(t, n, nw.transfer(0, 1, 12345))
		mine(t, n, nw.addr[0], k-m)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// extend mines k more blocks paying key i on a copy of dir.
func extend(t testing.TB, nw *network, dir string, i, k int) string {
	t.Helper()
	c := copyDir(t, dir)
	n := open(t, c)
	mine(t, n, nw.addr[i], k)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return c
}

func wantTip(t testing.TB, dir string, want chainsync.Tip) {
	t.Helper()
	got := tipOf(t, dir)
	if got.Hash != want.Hash || got.Height != want.Height {
		t.Fatalf("tip %v, want %v", got, want)
	}
}

// check runs the directory's full check (every block against every rule).
func check(t testing.TB, dir string) {
	t.Helper()
	d, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestFreshSync(t *testing.T) {
	nw := newNetwork(t, false)
	src := base(t, nw, 30)
	for _, zstd := range []bool{true, false} {
		t.Run(fmt.Sprintf("zstd=%v", zstd), func(t *testing.T) {
			fp, addr := peerOf(t, src)
			fp.NoZstd = !zstd
			dir := nw.dir(t)
			var phases []chainsync.Progress
			rep, err := run(t, dir, chainsync.Options{Peers: []string{addr}, KeepPeers: true,
				Progress: func(p chainsync.Progress) { phases = append(phases, p) }})
			if err != nil {
				t.Fatalf("%v\n%s", err, problems(rep))
			}
			if rep.Blocks != 30 || rep.From != addr || len(rep.Problems) > 0 || rep.Usable != 1 {
				t.Fatalf("report %+v\n%s", rep, problems(rep))
			}
			wantTip(t, dir, tipOf(t, src))
			check(t, dir)
			last := phases[len(phases)-1]
			if last.Phase != chainsync.Verify || last.Done != 30 || last.Total != 30 || phases[0].Phase != chainsync.Download {
				t.Fatalf("progress %+v ... %+v", phases[0], last)
			}
		})
	}
}

func TestCatchUp(t *testing.T) {
	nw := newNetwork(t, false)
	dir := base(t, nw, 10)
	ahead := extend(t, nw, dir, 1, 25)
	fp, addr := peerOf(t, ahead)
	rep, err := run(t, dir, chainsync.Options{Peers: []string{addr}, KeepPeers: true, Batch: 7})
	if err != nil {
		t.Fatalf("%v\n%s", err, problems(rep))
	}
	if rep.Blocks != 25 || rep.Before.Height != 10 || rep.After.Height != 35 {
		t.Fatalf("report %+v", rep)
	}
	wantTip(t, dir, tipOf(t, ahead))
	check(t, dir)
	// tip, genesis (its tip is unknown here), one block hash (the fork is
	// our tip), the chain, the ids of its (empty) pool.
	if got := fp.Requests.Load(); got != 5 {
		t.Errorf("%d requests, want 5", got)
	}
	// The peer's claimed tip is recorded for the web app's peers page.
	if tips, err := chaindir.Dir(dir).PeerTips(time.Now()); err != nil || tips[addr].Height != 35 || tips[addr].Hash != tipOf(t, ahead).Hash {
		t.Errorf("peer tips after the sync: %v, %v", tips, err)
	}

	// A second run has nothing to do and writes nothing.
	before := snapshot(t, dir)
	rep, err = run(t, dir, chainsync.Options{Peers: []string{addr}, KeepPeers: true})
	if err != nil || rep.Blocks != 0 || len(rep.Problems) > 0 {
		t.Fatalf("second run: %v %+v", err, rep)
	}
	sameFiles(t, before, snapshot(t, dir))
}

// TestForkMoreWork: the local node mined a transfer into its own block 11
// while the peer's branch grew two blocks from block 10; the peer's branch
// has more work and wins, and the transfer goes back to the mempool.
//
//	genesis ... 10 -- 11 (local, with T)
//	               \-- 11' -- 12' (peer)
func TestForkMoreWork(t *testing.T) {
	nw := newNetwork(t, false)
	common := base(t, nw, 10)
	peer := extend(t, nw, common, 2, 2)
	dir := copyDir(t, common)
	n := open(t, dir)
	x := nw.transfer(0, 3, 777)
	submitTx(t, n, x)
	mine(t, n, nw.addr[1], 1)
	if n.Pool.HasID(x.ID) {
		t.Fatal("the transfer was not mined")
	}
	n.Close()

	_, addr := peerOf(t, peer)
	rep, err := run(t, dir, chainsync.Options{Peers: []string{addr}, KeepPeers: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, problems(rep))
	}
	wantTip(t, dir, tipOf(t, peer))
	if rep.Blocks != 2 {
		t.Fatalf("report %+v", rep)
	}
	n = open(t, dir)
	if !n.Pool.HasID(x.ID) {
		t.Fatal("the abandoned transfer is not back in the mempool")
	}
	check(t, dir)
}

// TestEqualWork: between branches of equal work that beat the local tip,
// the one most peers hold wins, whatever the order of the peers; a local
// tip of equal work stays.
func TestEqualWork(t *testing.T) {
	nw := newNetwork(t, false)
	common := base(t, nw, 8)
	a := extend(t, nw, common, 1, 3)
	b := extend(t, nw, common, 2, 3)
	_, a1 := peerOf(t, a)
	_, a2 := peerOf(t, a)
	_, b1 := peerOf(t, b)

	t.Run("majority", func(t *testing.T) {
		dir := copyDir(t, common)
		rep, err := run(t, dir, chainsync.Options{Peers: []string{b1, a1, a2}, KeepPeers: true})
		if err != nil {
			t.Fatalf("%v\n%s", err, problems(rep))
		}
		wantTip(t, dir, tipOf(t, a))
		if rep.From != a1 {
			t.Errorf("synced from %s, want %s", rep.From, a1)
		}
	})
	t.Run("first among equals", func(t *testing.T) {
		dir := copyDir(t, common)
		_, b2 := peerOf(t, b)
		rep, err := run(t, dir, chainsync.Options{Peers: []string{b1, a1, a2, b2}, KeepPeers: true})
		if err != nil {
			t.Fatalf("%v\n%s", err, problems(rep))
		}
		wantTip(t, dir, tipOf(t, b))
	})
	t.Run("local stays", func(t *testing.T) {
		dir := copyDir(t, b)
		before := snapshot(t, dir)
		rep, err := run(t, dir, chainsync.Options{Peers: []string{a1, a2}, KeepPeers: true})
		if err != nil || rep.Blocks != 0 || len(rep.Problems) > 0 {
			t.Fatalf("%v %+v", err, rep)
		}
		sameFiles(t, before, snapshot(t, dir))
	})
}

// lie is a lying peer: a fake peer and the words its report must hold.
type lie struct {
	name  string
	peer  func(t *testing.T) *testchain.Peer
	want  string        // in the problem reported
	short time.Duration // Options.Timeout for the case, when not the default
}

// claim makes fp's /api/tip claim the given height, hash and work.
func claim(fp *testchain.Peer, height uint64, hash [32]byte, work *big.Int, next func(http.ResponseWriter, *http.Request) bool) {
	fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/tip" {
			fmt.Fprintf(w, `{"height":%d,"hash":"%x","work":"%x"}`, height, hash, work)
			return true
		}
		return next != nil && next(w, r)
	}
}

func parsed(t testing.TB, line []byte) *block.Block {
	t.Helper()
	b, err := block.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forgeAfter builds and proves a block on prev (of a network without
// retargeting) paying miner and carrying txs, without any node.
func forgeAfter(t testing.TB, nw *network, prev *block.Block, miner string, txs []*tx.Tx) *block.Block {
	t.Helper()
	b := &block.Block{Header: block.Header{Index: prev.Index + 1, Timestamp: prev.Timestamp + 1, Miner: miner,
		PrevHash: prev.Hash, Target: nw.p.InitialTarget}, Txs: txs}
	var fees uint64
	for _, x := range txs {
		fees += x.Fee
	}
	b.Reward = tx.Reward{Receiver: miner, Amount: nw.p.Subsidy(b.Index) + fees, Index: b.Index}
	b.MerkleRoot = block.MerkleRoot(nw.p.Hash(), &b.Reward, b.Txs)
	prove(t, b)
	return b
}

// TestLyingPeers: every kind of lie leaves the local chain byte for byte as
// it was, is reported with the peer's address, and does not keep an honest
// peer from being used.
func TestLyingPeers(t *testing.T) {
	nw := newNetwork(t, false)
	local := base(t, nw, 10)
	honestDir := extend(t, nw, local, 1, 5)
	honestLines := func(t *testing.T) [][]byte {
		fp, err := testchain.FromDir(honestDir)
		if err != nil {
			t.Fatal(err)
		}
		return fp.Lines()
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 300)
	longer := extend(t, nw, honestDir, 2, 5) // height 20: the honest chain, continued

	cases := []lie{
		{name: "garbage", want: "bad-json", peer: func(t *testing.T) *testchain.Peer {
			fp, _ := testchain.New(nw.p, honestLines(t))
			fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/chain" {
					return false
				}
				fmt.Fprint(w, "<html>not a block</html>\n")
				return true
			}
			return fp
		}},
		{name: "zstd garbage", want: "/api/chain", peer: func(t *testing.T) *testchain.Peer {
			fp, _ := testchain.New(nw.p, honestLines(t))
			claim(fp, 20, [32]byte{1}, huge, func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/chain" {
					return false
				}
				w.Header().Set("Content-Encoding", "zstd")
				w.Write([]byte("\x28\xb5\x2f\xfd garbage garbage garbage"))
				return true
			})
			return fp
		}},
		{name: "garbage tip", want: "/api/tip", peer: func(t *testing.T) *testchain.Peer {
			fp, _ := testchain.New(nw.p, honestLines(t))
			fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
				fmt.Fprint(w, `{"height":20,"hash":"ABCD","work":"FF"}`)
				return true
			}
			return fp
		}},
		{name: "truncated", want: "cut short", peer: func(t *testing.T) *testchain.Peer {
			fp, err := testchain.FromDir(longer)
			if err != nil {
				t.Fatal(err)
			}
			lines := fp.Lines()
			fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/chain" {
					return false
				}
				from, to, _ := testchain.Range(r, uint64(len(lines)))
				var body []byte
				for h := from; h <= to; h++ {
					body = append(append(body, lines[h-1]...), '\n')
				}
				w.Write(body[:len(body)-len(lines[to-1])/2])
				return true
			}
			return fp
		}},
		{name: "missing blocks", want: "cut short", peer: func(t *testing.T) *testchain.Peer {
			fp, err := testchain.FromDir(longer)
			if err != nil {
				t.Fatal(err)
			}
			lines := fp.Lines()
			fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/chain" {
					return false
				}
				testchain.WriteChain(w, r, lines[10:17], true) // 11..17 of 20
				return true
			}
			return fp
		}},
		{name: "endless lines", want: "more than the 10 blocks", peer: func(t *testing.T) *testchain.Peer {
			fp, err := testchain.FromDir(longer)
			if err != nil {
				t.Fatal(err)
			}
			lines := fp.Lines()
			fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/chain" {
					return false
				}
				for _, l := range lines[10:] {
					w.Write(append(l, '\n'))
				}
				for r.Context().Err() == nil {
					if _, err := w.Write(append(lines[19], '\n')); err != nil {
						break
					}
				}
				return true
			}
			return fp
		}},
		{name: "endless line", want: "too-large", peer: func(t *testing.T) *testchain.Peer {
			fp, _ := testchain.New(nw.p, honestLines(t))
			claim(fp, 20, [32]byte{1}, huge, func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/chain" {
					return false
				}
				chunk := []byte(`{"type":"block","index":11,` + strings.Repeat(" ", 64<<10))
				for r.Context().Err() == nil {
					if _, err := w.Write(chunk); err != nil {
						break
					}
				}
				return true
			})
			return fp
		}},
		{name: "stalled", want: "no data for", short: 300 * time.Millisecond, peer: func(t *testing.T) *testchain.Peer {
			fp, _ := testchain.New(nw.p, honestLines(t))
			claim(fp, 20, [32]byte{1}, huge, func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/chain" {
					return false
				}
				w.Write(append(fp.Lines()[10], '\n'))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			})
			return fp
		}},
		{name: "silent", want: "no answer within", short: 300 * time.Millisecond, peer: func(t *testing.T) *testchain.Peer {
			fp, _ := testchain.New(nw.p, honestLines(t))
			fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
				<-r.Context().Done()
				return true
			}
			return fp
		}},
		{name: "another genesis", want: "another network", peer: func(t *testing.T) *testchain.Peer {
			other := newNetwork(t, false)
			fp, err := testchain.FromDir(base(t, other, 25))
			if err != nil {
				t.Fatal(err)
			}
			return fp
		}},
		{name: "another genesis, disguised", want: "unknown-parent", peer: func(t *testing.T) *testchain.Peer {
			other := newNetwork(t, false)
			fp, err := testchain.FromDir(base(t, other, 25))
			if err != nil {
				t.Fatal(err)
			}
			fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path == "/api/genesis" {
					w.Write(append(nw.p.JSON(), '\n'))
					return true
				}
				return false
			}
			return fp
		}},
		{name: "work it does not have", want: "less work", peer: func(t *testing.T) *testchain.Peer {
			// A branch from block 8 that is shorter than the local chain
			// (9 blocks to its 10) but claims more work.
			lines := honestLines(t)[:8]
			last := forgeAfter(t, nw, parsed(t, lines[7]), nw.addr[2], nil)
			fp, err := testchain.New(nw.p, append(lines, last.JSON()))
			if err != nil {
				t.Fatal(err)
			}
			claim(fp, last.Index, last.Hash, huge, nil)
			return fp
		}},
		{name: "a known block with more work", want: "claims work", peer: func(t *testing.T) *testchain.Peer {
			fp, _ := testchain.New(nw.p, honestLines(t))
			tip := tipOf(t, local)
			claim(fp, tip.Height, tip.Hash, huge, nil)
			return fp
		}},
		{name: "bad block on the tip", want: "insufficient-funds", peer: func(t *testing.T) *testchain.Peer {
			lines := honestLines(t)[:10]
			prev := parsed(t, lines[9])
			bad := forgeAfter(t, nw, prev, nw.addr[2], []*tx.Tx{nw.transfer(3, 1, 5)}) // key 3 has nothing
			lines = append(lines, bad.JSON())
			for range 6 {
				prev = parsed(t, lines[len(lines)-1])
				lines = append(lines, forgeAfter(t, nw, prev, nw.addr[2], nil).JSON())
			}
			fp, err := testchain.New(nw.p, lines)
			if err != nil {
				t.Fatal(err)
			}
			return fp
		}},
		{name: "bad signature on a side branch", want: "bad-signature", peer: func(t *testing.T) *testchain.Peer {
			// The local chain is at 10; this branch forks at 8, so its
			// blocks 9' and 10' would wait on a side branch.
			lines := honestLines(t)[:8]
			prev := parsed(t, lines[7])
			lines = append(lines, forgeAfter(t, nw, prev, nw.addr[2], nil).JSON())
			x := nw.transfer(0, 1, 5)
			x.Signature[3] ^= 1
			prev = parsed(t, lines[8])
			lines = append(lines, forgeAfter(t, nw, prev, nw.addr[2], []*tx.Tx{x}).JSON())
			for range 5 {
				prev = parsed(t, lines[len(lines)-1])
				lines = append(lines, forgeAfter(t, nw, prev, nw.addr[2], nil).JSON())
			}
			fp, err := testchain.New(nw.p, lines)
			if err != nil {
				t.Fatal(err)
			}
			return fp
		}},
		{name: "redirect", want: "302", peer: func(t *testing.T) *testchain.Peer {
			fp, _ := testchain.New(nw.p, honestLines(t))
			fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
				http.Redirect(w, r, "http://127.0.0.1:1/", http.StatusFound)
				return true
			}
			return fp
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fp := c.peer(t)
			liar := serve(t, fp)
			opts := func(peers ...string) chainsync.Options {
				return chainsync.Options{Peers: peers, KeepPeers: true, Timeout: c.short}
			}

			// Alone, it changes nothing and is reported.
			dir := copyDir(t, local)
			before := snapshot(t, dir)
			rep, err := run(t, dir, opts(liar))
			if !errors.Is(err, chainsync.ErrNoPeer) {
				t.Fatalf("error %v, want ErrNoPeer; report %+v", err, rep)
			}
			sameFiles(t, before, snapshot(t, dir))
			if len(rep.Problems) != 1 || rep.Problems[0].Peer != liar || !strings.Contains(rep.Problems[0].Error(), c.want) {
				t.Fatalf("problems:\n%s\nwant one from %s about %q", problems(rep), liar, c.want)
			}
			t.Log(rep.Problems[0])

			// With an honest peer, the honest chain is taken.
			_, honest := peerOf(t, honestDir)
			dir = copyDir(t, local)
			rep, err = run(t, dir, opts(liar, honest))
			if err != nil {
				t.Fatalf("%v\n%s", err, problems(rep))
			}
			wantTip(t, dir, tipOf(t, honestDir))
			if len(rep.Problems) != 1 || rep.Problems[0].Peer != liar {
				t.Fatalf("problems:\n%s", problems(rep))
			}
			check(t, dir)
		})
	}
}

// TestLongChainLittleWork: a peer whose chain is longer than the local one
// but carries less work (its blocks came slowly, at the easiest target,
// while the local chain's came fast and got harder) changes nothing, even
// when it claims more work.
func TestLongChainLittleWork(t *testing.T) {
	nw := newNetwork(t, true)
	dir := nw.dir(t)
	n := open(t, dir)
	mine(t, n, nw.addr[0], 45)
	n.Close()

	liarDir := nw.dir(t)
	n = open(t, liarDir)
	clock := nw.p.Timestamp
	n.Now = func() int64 { clock += 4; return clock }
	mine(t, n, nw.addr[1], 70)
	n.Close()

	ours, theirs := tipOf(t, dir), tipOf(t, liarDir)
	if theirs.Height <= ours.Height || theirs.Work.Cmp(ours.Work) >= 0 {
		t.Fatalf("setup: ours %d blocks work %x, theirs %d blocks work %x", ours.Height, ours.Work, theirs.Height, theirs.Work)
	}
	fp, err := testchain.FromDir(liarDir)
	if err != nil {
		t.Fatal(err)
	}
	claim(fp, theirs.Height, theirs.Hash, new(big.Int).Lsh(ours.Work, 1), nil)
	liar := serve(t, fp)
	before := snapshot(t, dir)
	rep, err := run(t, dir, chainsync.Options{Peers: []string{liar}, KeepPeers: true})
	if !errors.Is(err, chainsync.ErrNoPeer) {
		t.Fatalf("error %v, want ErrNoPeer", err)
	}
	sameFiles(t, before, snapshot(t, dir))
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Error(), "less work") {
		t.Fatalf("problems:\n%s", problems(rep))
	}
	t.Log(rep.Problems[0])
}

func TestUnreachablePeer(t *testing.T) {
	nw := newNetwork(t, false)
	dir := base(t, nw, 5)
	ahead := extend(t, nw, dir, 1, 3)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, addr := peerOf(t, ahead)
	rep, err := run(t, dir, chainsync.Options{Peers: []string{closed, addr}, KeepPeers: true})
	if err != nil {
		t.Fatal(err)
	}
	wantTip(t, dir, tipOf(t, ahead))
	if len(rep.Problems) != 1 || rep.Problems[0].Peer != closed || !strings.Contains(rep.Problems[0].Error(), "refused") {
		t.Fatalf("problems:\n%s", problems(rep))
	}
}

func TestJoin(t *testing.T) {
	nw := newNetwork(t, false)
	src := base(t, nw, 12)
	fp, addr := peerOf(t, src)
	fp.Peers = []string{"127.0.0.7:5050", "127.0.0.8"}
	dir := filepath.Join(t.TempDir(), "a", "chain")
	p, err := chainsync.Join(t.Context(), dir, addr, chainsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Hash() != nw.p.Hash() {
		t.Fatal("joined another network")
	}
	source, err := chaindir.Dir(dir).ReadSource()
	if err != nil || source != "http://"+addr {
		t.Fatalf("source %q, %v", source, err)
	}
	rep, err := run(t, dir, chainsync.Options{Peers: []string{addr}})
	if err != nil {
		t.Fatalf("%v\n%s", err, problems(rep))
	}
	wantTip(t, dir, tipOf(t, src))
	peers, _, err := chaindir.Dir(dir).ReadPeers()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{hostport.Relay(addr), "127.0.0.7:5050", "127.0.0.8:5050"}
	if strings.Join(peers, " ") != strings.Join(want, " ") {
		t.Fatalf("peers %q, want %q", peers, want)
	}

	t.Run("not empty", func(t *testing.T) {
		if _, err := chainsync.Join(t.Context(), dir, addr, chainsync.Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("joined into a chain directory: %v", err)
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		empty := t.TempDir()
		if _, err := chainsync.Join(t.Context(), empty, addr, chainsync.Options{}); err != nil {
			t.Fatal(err)
		}
		if !chaindir.Dir(empty).IsChainDir() {
			t.Fatal("not a chain directory")
		}
		left, _ := os.ReadDir(filepath.Dir(empty))
		if len(left) != 1 {
			t.Fatalf("left beside it: %v", left)
		}
	})
	t.Run("garbage genesis", func(t *testing.T) {
		fp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
			fmt.Fprint(w, `{"type":"genesis"}`)
			return true
		}
		defer func() { fp.Hook = nil }()
		dir := filepath.Join(t.TempDir(), "chain")
		_, err := chainsync.Join(t.Context(), dir, addr, chainsync.Options{})
		var pe *chainsync.PeerError
		if !errors.As(err, &pe) || pe.Peer != addr {
			t.Fatalf("error %v, want a PeerError from %s", err, addr)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("the directory was created: %v", err)
		}
		parent, _ := os.ReadDir(filepath.Dir(dir))
		if len(parent) != 0 {
			t.Fatalf("left behind %v", parent)
		}
	})
}

func TestPeersRefresh(t *testing.T) {
	nw := newNetwork(t, false)
	dir := base(t, nw, 3)
	fp1, a1 := peerOf(t, dir)
	fp2, a2 := peerOf(t, dir)
	fp1.Peers = []string{"127.0.0.3:5050", "10.0.0.1:5050", "not a peer", "0.0.0.0:5050", "127.0.0.3:5050"}
	fp2.Peers = []string{"10.0.0.1:5050", "[::1]:5050", "Node.Example:5051", "10.0.0.2"}
	if err := chaindir.Dir(dir).WritePeers([]string{"127.0.0.2:5050", "127.0.0.3:5050"}); err != nil {
		t.Fatal(err)
	}

	rep, err := run(t, dir, chainsync.Options{Peers: []string{a1, a2}})
	if err != nil {
		t.Fatal(err)
	}
	peers, _, err := chaindir.Dir(dir).ReadPeers()
	if err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.2:5050 127.0.0.3:5050 10.0.0.1:5050 [::1]:5050 node.example:5051 10.0.0.2:5050"
	if strings.Join(peers, " ") != want {
		t.Fatalf("peers\n%q\nwant\n%q", strings.Join(peers, " "), want)
	}
	if len(rep.AddedPeers) != 4 || len(rep.Problems) != 1 || !strings.Contains(problems(rep), "2 entries are not HOST:PORT") {
		t.Fatalf("added %q, problems:\n%s", rep.AddedPeers, problems(rep))
	}

	// Nothing new: the file is not rewritten.
	fi1, _ := os.Stat(filepath.Join(dir, "peers"))
	time.Sleep(10 * time.Millisecond)
	if _, err := run(t, dir, chainsync.Options{Peers: []string{a1, a2}}); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(filepath.Join(dir, "peers"))
	if !os.SameFile(fi1, fi2) || !fi1.ModTime().Equal(fi2.ModTime()) {
		t.Fatal("the peers file was rewritten without a new peer")
	}

	// The bound: a file one short of chaindir.MaxPeers gains one of two.
	var fill []string
	for i := len(peers); i < chaindir.MaxPeers-1; i++ {
		fill = append(fill, fmt.Sprintf("10.1.%d.%d:5050", i/250, i%250+1))
	}
	if _, _, err := chaindir.Dir(dir).AddPeers(time.Now(), fill...); err != nil {
		t.Fatal(err)
	}
	fp1.Peers = []string{"10.9.9.9:5050", "10.9.9.10:5050"}
	rep, err = run(t, dir, chainsync.Options{Peers: []string{a1}})
	if err != nil || strings.Join(rep.AddedPeers, " ") != "10.9.9.9:5050" {
		t.Fatalf("%v, added %q", err, rep.AddedPeers)
	}
	if peers, _, _ := chaindir.Dir(dir).ReadPeers(); len(peers) != chaindir.MaxPeers {
		t.Fatalf("%d peers, want %d", len(peers), chaindir.MaxPeers)
	}
	rep, err = run(t, dir, chainsync.Options{Peers: []string{a1}})
	if err != nil || len(rep.AddedPeers) != 0 {
		t.Fatalf("a full file gained %q (%v)", rep.AddedPeers, err)
	}
}

func TestLockSync(t *testing.T) {
	nw := newNetwork(t, false)
	dir := nw.dir(t)
	release, err := chaindir.Dir(dir).LockSync()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chaindir.Dir(dir).LockSync(); !errors.Is(err, chaindir.ErrSyncBusy) {
		t.Fatalf("second lock: %v, want ErrSyncBusy", err)
	}
	release()
	release, err = chaindir.Dir(dir).LockSync()
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release()
}

// TestPeersSeen: a sync notes the peers whose web apps answered as seen,
// so that their entries of the peers file do not age out while those of
// peers that stay away do (chaindir.PeerExpiry).
func TestPeersSeen(t *testing.T) {
	nw := newNetwork(t, false)
	dir := base(t, nw, 2)
	_, a := peerOf(t, dir)
	old := time.Now().Add(-chaindir.PeerExpiry + time.Hour)
	if _, _, err := chaindir.Dir(dir).AddPeers(old, "127.0.0.1:5050", "10.5.5.5:5050"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, chainsync.Options{Peers: []string{a}}); err != nil {
		t.Fatal(err)
	}
	if err := chaindir.Dir(dir).SeePeers(time.Now().Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if peers, _, _ := chaindir.Dir(dir).ReadPeers(); strings.Join(peers, " ") != "127.0.0.1:5050" {
		t.Fatalf("peers %q, want the one that answered", peers)
	}
}

// TestIndexSteps: a sync brings the transfer index along in steps of
// Options.IndexStep transactions, not after every batch, and the index is
// at the tip when the sync ends.
func TestIndexSteps(t *testing.T) {
	nw := newNetwork(t, false)
	src := base(t, nw, 40) // 40 blocks, 41 transactions
	_, addr := peerOf(t, src)
	dir := nw.dir(t)
	const batch, step = 3, 10
	var moves []uint64 // the index's height each time it moved
	last := uint64(0)
	n := open(t, dir)
	rep, err := chainsync.Sync(context.Background(), n, chainsync.Options{Peers: []string{addr}, KeepPeers: true, Batch: batch, IndexStep: step,
		Progress: func(p chainsync.Progress) {
			if p.Phase != chainsync.Verify || p.Done == 0 {
				return
			}
			at := indexHeight(t, dir)
			if p.Done-at >= step+batch {
				t.Errorf("after %d blocks the index is at %d: more than a step behind", p.Done, at)
			}
			if at != last {
				moves = append(moves, at)
				last = at
			}
		}})
	if err != nil {
		t.Fatalf("%v\n%s", err, problems(rep))
	}
	// A step is crossed every fourth batch: at 12, 24 and 36 blocks (a
	// block has one transaction, but for the one with the transfer).
	if len(moves) < 3 || len(moves) > 4 {
		t.Errorf("during the sync the index moved to %v: want 3 or 4 steps of about %d", moves, step)
	}
	// At the tip when Sync returns, not only once the node is closed.
	if got, want := indexHeight(t, dir), tipOf(t, src).Height; got != want {
		t.Fatalf("after the sync the index is at %d, the tip at %d", got, want)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	check(t, dir)
}

// indexHeight returns the height the transfer index of dir is at (0 when
// it has none yet).
func indexHeight(t testing.TB, dir string) uint64 {
	t.Helper()
	_, h, err := testchain.IndexTip(dir)
	if err != nil && !errors.Is(err, txindex.ErrNoIndex) {
		t.Fatal(err)
	}
	return h
}
