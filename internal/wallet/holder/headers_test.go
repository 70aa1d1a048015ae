package holder

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/webclient"
)

// easyNet is a network whose limit is met by every other hash, with the
// retarget rule on, so that long header chains are made in moments and
// every check still runs.
func easyNet(t testing.TB) *params.Params {
	p := &params.Params{Network: "devnet", AddressPrefix: "dcnj", Timestamp: 1_800_000_000, Spacing: 2,
		RetargetWindow: 20, Reward: 50 * 100_000_000, HalvingInterval: 1000, Maturity: 3, MinFee: 1000, MaxBlockBytes: 1 << 20}
	p.InitialTarget[0] = 0x7f
	for i := 1; i < 32; i++ {
		p.InitialTarget[i] = 0xff
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

var minerKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))

// blocks makes n blocks on parent (of c) with the rule's targets, each
// spacing+skew seconds after the one before; txs[h] are block h's
// transfers.
func grow(t testing.TB, c *Chain, n int, skew int64, txs map[uint64][]*tx.Tx) []*block.Block {
	t.Helper()
	p := c.p
	miner := keys.Address(p.AddressPrefix, minerKey.Public().(ed25519.PublicKey))
	var out []*block.Block
	for range n {
		h := c.Height() + 1
		prev := c.points[len(c.points)-1]
		b := &block.Block{Header: block.Header{Index: h, Miner: miner, PrevHash: c.Hash(h - 1), Timestamp: prev.Timestamp + p.Spacing + skew}}
		nn := min(len(c.points), c.span())
		b.Target = consensus.NextTarget(p, &consensus.Context{Branch: c.points[len(c.points)-nn:], ParentIndex: h - 1})
		b.Reward = tx.Reward{Receiver: miner, Amount: p.Subsidy(h), Index: h}
		b.Txs = txs[h]
		b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, b.Txs)
		mineHeader(b)
		if err := c.Append(b.Header, b.Timestamp); err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		out = append(out, b)
	}
	return out
}

func mineHeader(b *block.Block) {
	for b.Proof = 0; ; b.Proof++ {
		b.Hash = b.ComputeHash()
		if pow.Meets(&b.Hash, &b.Target) {
			return
		}
	}
}

// TestAppendChecks: each check of a header, produced and only just
// missed: the chain's work and links, then consensus's codes.
func TestAppendChecks(t *testing.T) {
	p := easyNet(t)
	c := NewChain(p)
	grow(t, c, 30, 0, nil)
	work := new(big.Int)
	for _, pt := range c.points {
		work.Add(work, pow.Work(&pt.Target))
	}
	if c.Height() != 30 || c.Work().Cmp(work) != 0 {
		t.Fatalf("height %d, work %x", c.Height(), c.Work())
	}
	next := func() block.Block {
		d := c.cut(c.Height())
		return *grow(t, d, 1, 0, nil)[0]
	}
	now := c.points[len(c.points)-1].Timestamp + 10
	good := next()
	for _, tc := range []struct {
		name string
		mut  func(b *block.Block)
		want string
	}{
		{"proof that misses the target", func(b *block.Block) {
			for pow.Meets(&b.Hash, &b.Target) {
				b.Proof++
				b.Hash = b.ComputeHash()
			}
		}, string(rule.HighHash)},
		{"target not the rule's", func(b *block.Block) {
			b.Target[1]--
			mineHeader(b)
		}, string(rule.BadTarget)},
		{"target above the limit", func(b *block.Block) {
			b.Target[0] = 0xff
			mineHeader(b)
		}, string(rule.BadTarget)},
		{"timestamp at the median time past", func(b *block.Block) {
			b.Timestamp = c.points[len(c.points)-6].Timestamp
			mineHeader(b)
		}, string(rule.TimeTooOld)},
		{"index skips one", func(b *block.Block) {
			b.Index++
			mineHeader(b)
		}, string(rule.BadIndex)},
		{"parent is not the tip", func(b *block.Block) {
			b.PrevHash = c.Hash(c.Height() - 1)
			mineHeader(b)
		}, "does not follow block 30"},
	} {
		b := good
		tc.mut(&b)
		d := c.cut(c.Height())
		if err := d.Append(b.Header, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	d := c.cut(c.Height())
	if err := d.Append(good.Header, now); err != nil || d.Height() != 31 || c.Height() != 30 {
		t.Fatalf("the good header: %v (heights %d, %d)", err, d.Height(), c.Height())
	}
	if err := c.cut(c.Height()).Append(good.Header, good.Timestamp-params.MaxFuture-1); err == nil || !strings.Contains(err.Error(), string(rule.TimeTooNew)) {
		t.Errorf("a header more than 2 h ahead of the clock: %v", err)
	}
}

// TestStore: the held chain survives a reopen, a torn last header is cut,
// and Adopt replaces the headers above a fork.
func TestStore(t *testing.T) {
	p := easyNet(t)
	dir := t.TempDir()
	now := int64(2_000_000_000)
	s, err := OpenStore(dir, p, now)
	if err != nil {
		t.Fatal(err)
	}
	main := NewChain(p)
	grow(t, main, 40, 0, nil)
	if err := s.Adopt(main); err != nil {
		t.Fatal(err)
	}
	s.Close()
	file := filepath.Join(dir, HeadersFile)
	if fi, _ := os.Stat(file); fi.Size() != 40*block.HeaderSize {
		t.Fatalf("file of %d bytes", fi.Size())
	}
	// A torn write: half a header more.
	f, _ := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 100))
	f.Close()
	s, err = OpenStore(dir, p, now)
	if err != nil || s.Chain.Height() != 40 || s.Chain.Hash(40) != main.Hash(40) {
		t.Fatalf("reopened: %v, height %d", err, s.Chain.Height())
	}
	// A fork at 35 with more work.
	side := main.cut(35)
	grow(t, side, 10, 0, nil)
	if err := s.Adopt(side); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenStore(dir, p, now)
	if err != nil || s.Chain.Height() != 45 || s.Chain.Hash(45) != side.Hash(45) || s.Chain.Hash(35) != main.Hash(35) {
		t.Fatalf("after the fork: %v, height %d", err, s.Chain.Height())
	}
	s.Close()
	// A header that no longer passes (a byte changed): the chain ends
	// before it.
	f, _ = os.OpenFile(file, os.O_WRONLY, 0)
	f.WriteAt([]byte{0xff}, 20*block.HeaderSize+150)
	f.Close()
	s, err = OpenStore(dir, p, now)
	if err != nil || s.Chain.Height() != 20 {
		t.Fatalf("a changed header: %v, height %d", err, s.Chain.Height())
	}
	s.Close()
}

// source serves a chain's headers as cnj-serve does, and a tip of its
// choice.
type source struct {
	c    *Chain
	tip  func(c *Chain) string
	gets int
}

func (s *source) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.gets++
	path := r.URL.Path
	switch {
	case path == "/api/tip":
		if s.tip != nil {
			fmt.Fprintln(w, s.tip(s.c))
			return
		}
		fmt.Fprintf(w, `{"height":%d,"hash":"%x","work":"%x"}`+"\n", s.c.Height(), s.c.Hash(s.c.Height()), s.c.Work())
	case strings.HasPrefix(path, "/api/block-height/"):
		h, _ := strconv.ParseUint(strings.TrimPrefix(path, "/api/block-height/"), 10, 64)
		if h > s.c.Height() {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "%x", s.c.Hash(h))
	case strings.HasPrefix(path, "/api/headers/"):
		start, _ := strconv.ParseUint(strings.TrimPrefix(path, "/api/headers/"), 10, 64)
		n, _ := strconv.ParseUint(r.URL.Query().Get("count"), 10, 64)
		for h := start; h <= s.c.Height() && h < start+n; h++ {
			b := s.c.hdrs[h-1].Bytes()
			w.Write(b[:])
		}
	default:
		http.NotFound(w, r)
	}
}

func serve(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestFetch: a source's chain is fetched from where it leaves the held
// one; a tip that is not its headers' last, or claims other work, is a
// lie; a chain that fails a check is a lie.
func TestFetch(t *testing.T) {
	p := easyNet(t)
	now := int64(2_000_000_000)
	wc := webclient.New(webclient.Config{})
	ctx := context.Background()
	main := NewChain(p)
	grow(t, main, 2500, 0, nil)
	held := main.cut(2400)
	src := &source{c: main}
	addr := serve(t, src)
	tip := func() webclient.Tip {
		tp, err := wc.Tip(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	c, fork, err := Fetch(ctx, wc, addr, held, tip(), now)
	if err != nil || fork != 2400 || c.Height() != 2500 || c.Hash(2500) != main.Hash(2500) || c.Work().Cmp(main.Work()) != 0 {
		t.Fatalf("Fetch from 2400: %v, fork %d, height %d", err, fork, c.Height())
	}
	// From nothing held: more than one request of headers.
	src.gets = 0
	if c, _, err := Fetch(ctx, wc, addr, NewChain(p), tip(), now); err != nil || c.Hash(2500) != main.Hash(2500) || src.gets < 3 {
		t.Fatalf("Fetch from the genesis: %v (%d requests)", err, src.gets)
	}
	// The held chain on a branch of its own from 2390: found, and left.
	side := main.cut(2390)
	grow(t, side, 20, 1, nil)
	if c, fork, err := Fetch(ctx, wc, addr, side, tip(), now); err != nil || fork > 2390 || fork < 2390-32 || c.Hash(2500) != main.Hash(2500) {
		t.Fatalf("Fetch over a fork: %v, fork %d", err, fork)
	}
	// Lies about the tip.
	src.tip = func(c *Chain) string {
		return fmt.Sprintf(`{"height":%d,"hash":"%x","work":"%x"}`, c.Height(), c.Hash(c.Height()), new(big.Int).Add(c.Work(), big.NewInt(1)))
	}
	if _, _, err := Fetch(ctx, wc, addr, held, tip(), now); !IsLie(err) || !strings.Contains(err.Error(), "its tip claims work") {
		t.Errorf("work claimed above the headers': %v", err)
	}
	src.tip = func(c *Chain) string {
		return fmt.Sprintf(`{"height":%d,"hash":"%x","work":"%x"}`, c.Height(), c.Hash(c.Height()-1), c.Work())
	}
	if _, _, err := Fetch(ctx, wc, addr, held, tip(), now); !IsLie(err) || !strings.Contains(err.Error(), "is not the last of its headers") {
		t.Errorf("a tip that is not the last header: %v", err)
	}
	src.tip = func(c *Chain) string {
		return fmt.Sprintf(`{"height":%d,"hash":"%x","work":"%x"}`, c.Height()+5, c.Hash(c.Height()), c.Work())
	}
	if _, _, err := Fetch(ctx, wc, addr, held, tip(), now); !IsLie(err) || !strings.Contains(err.Error(), "its headers end at 2500") {
		t.Errorf("a tip above the headers: %v", err)
	}
	// A chain whose header 2450 misses its target.
	src.tip = nil
	bad := main.cut(2500)
	h := bad.hdrs[2449]
	for b := (block.Block{Header: h, Hash: h.ComputeHash()}); pow.Meets(&b.Hash, &b.Target); b.Hash = b.ComputeHash() {
		b.Proof++
		h = b.Header
	}
	bad.hdrs = append(append(bad.hdrs[:2449:2449], h), bad.hdrs[2450:]...)
	src.c = bad
	if _, _, err := Fetch(ctx, wc, addr, held, tip(), now); !IsLie(err) || !strings.Contains(err.Error(), "header 2450") || !strings.Contains(err.Error(), "high-hash") {
		t.Errorf("a header without its work: %v", err)
	}
}

// BenchmarkFetch10000 fetches and checks 10,000 headers over loopback
// from the genesis, as a new wallet does (the goal: at most 1 s), and
// reports the ratio of that time to the same run's bare download of the
// same bytes, which bounds what the checks cost whatever the machine.
func BenchmarkFetch10000(b *testing.B) {
	p := easyNet(b)
	now := int64(2_000_000_000)
	main := NewChain(p)
	grow(b, main, 10_000, 0, nil)
	addr := serve(b, &source{c: main})
	wc := webclient.New(webclient.Config{})
	ctx := context.Background()
	var fetch, bare time.Duration
	b.ResetTimer()
	for range b.N {
		begin := time.Now()
		tip, err := wc.Tip(ctx, addr)
		if err != nil {
			b.Fatal(err)
		}
		c, _, err := Fetch(ctx, wc, addr, NewChain(p), tip, now)
		if err != nil || c.Height() != 10_000 {
			b.Fatal(err)
		}
		fetch += time.Since(begin)
		b.StopTimer()
		begin = time.Now()
		for h := uint64(1); h <= 10_000; h += webclient.MaxHeaders {
			if _, err := wc.Get(ctx, addr, "/api/headers/"+strconv.FormatUint(h, 10)+"?count=2000", 1<<20); err != nil {
				b.Fatal(err)
			}
		}
		bare += time.Since(begin)
		b.StartTimer()
	}
	b.ReportMetric(fetch.Seconds()/float64(b.N), "s/10000-headers")
	b.ReportMetric(float64(fetch)/float64(bare), "ratio-to-download")
}
