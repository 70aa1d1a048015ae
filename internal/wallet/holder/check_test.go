package holder

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/webclient"
)

// world is a chain with the wallet's entries in it, and a source that
// serves it, each of its answers open to a lie.
type world struct {
	p       *params.Params
	chain   *Chain
	blocks  []*block.Block // blocks[h-1] is block h
	me      ed25519.PrivateKey
	addr    string
	other   string
	in, out *tx.Tx // in: block 5, 2 CNJ to me; out: block 9, 0.5 CNJ from me
	src     *histSource
	srcAddr string
}

func transfer(p *params.Params, from ed25519.PrivateKey, to string, amt uint64, id byte) *tx.Tx {
	t := &tx.Tx{Sender: keys.Address(p.AddressPrefix, from.Public().(ed25519.PublicKey)), Receiver: to,
		Amount: amt, Fee: p.MinFee, Timestamp: p.Timestamp + 10}
	t.ID[0] = id
	t.Sign(p.Hash(), from)
	return t
}

func newWorld(t *testing.T) *world {
	p := easyNet(t)
	w := &world{p: p, me: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))}
	w.addr = keys.Address(p.AddressPrefix, w.me.Public().(ed25519.PublicKey))
	payer := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{6}, 32))
	w.other = keys.Address(p.AddressPrefix, payer.Public().(ed25519.PublicKey))
	w.in = transfer(p, payer, w.addr, 200_000_000, 1)
	w.out = transfer(p, w.me, w.other, 50_000_000, 2)
	filler := transfer(p, payer, w.other, 1, 3)
	w.chain = NewChain(p)
	w.blocks = grow(t, w.chain, 12, 0, map[uint64][]*tx.Tx{5: {filler, w.in}, 9: {w.out}})
	w.src = &histSource{source: source{c: w.chain}, w: w}
	w.srcAddr = serve(t, w.src)
	return w
}

// histSource answers an address's history and proofs from the world's
// blocks; its fields make it lie.
type histSource struct {
	source
	w          *world
	alter      bool   // the incoming transfer's amount, one unit more
	wrongProof bool   // every proof's first hash changed
	invent     bool   // a payment of 1000 CNJ in block 7 that is not there
	omit       bool   // nothing but the outgoing transfer
	omitOut    bool   // nothing but the incoming transfer
	badBlock   bool   // the incoming transfer said to be in block 6's place, under block 5's hash
	claim      uint64 // the balance it reports; 0: the true one
}

func (s *histSource) txObject(t *tx.Tx, h uint64) string {
	b := s.w.blocks[h-1]
	if s.badBlock && t == s.w.in {
		b = s.w.blocks[h] // the next block's hash, the right height
	}
	js := string(t.AppendJSON(nil))
	if s.alter && t == s.w.in {
		js = strings.Replace(js, `"amount":200000000`, `"amount":200000001`, 1)
	}
	return fmt.Sprintf(`{"txid":"%x","vin":[{"is_coinbase":false}],"vout":[],"status":{"confirmed":true,"block_height":%d,"block_hash":"%x"},"tx":%s}`, t.ID, h, b.Hash, js)
}

func (s *histSource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	ww := s.w
	fake := transfer(ww.p, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)), ww.addr, 1000*100_000_000, 9)
	switch {
	case path == "/api/address/"+ww.addr:
		c := uint64(200_000_000 - 50_000_000 - 1000)
		if s.claim != 0 {
			c = s.claim
		}
		fmt.Fprintf(w, `{"address":%q,"confirmed":%d,"immature":0,"pending":0,"height":%d}`+"\n", ww.addr, c, s.c.Height())
	case path == "/api/address/"+ww.addr+"/txs/chain":
		var objs []string
		if s.invent {
			objs = append(objs, s.txObject(fake, 7))
		}
		if !s.omitOut {
			objs = append(objs, s.txObject(ww.out, 9))
		}
		if !s.omit {
			objs = append(objs, s.txObject(ww.in, 5))
		}
		fmt.Fprintf(w, "[%s]\n", strings.Join(objs, ","))
	case path == "/api/address/"+ww.addr+"/txs/mempool":
		fmt.Fprintln(w, "[]")
	case strings.HasSuffix(path, "/merkle-proof"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/api/tx/"), "/merkle-proof")
		var h uint64
		var pos int
		switch id {
		case hex.EncodeToString(ww.in.ID[:]):
			h, pos = 5, 2
		case hex.EncodeToString(ww.out.ID[:]):
			h, pos = 9, 1
		default:
			http.NotFound(w, r)
			return
		}
		b := ww.blocks[h-1]
		leaves := block.Leaves(ww.p.Hash(), &b.Reward, b.Txs)
		var hs []string
		for i, x := range block.MerkleProof(leaves, pos) {
			if s.wrongProof && i == 0 {
				x[0] ^= 1
			}
			hs = append(hs, `"`+hex.EncodeToString(x[:])+`"`)
		}
		fmt.Fprintf(w, `{"block_height":%d,"merkle":[%s],"pos":%d,"tx_count":%d}`+"\n", h, strings.Join(hs, ","), pos, len(leaves))
	default:
		s.source.ServeHTTP(w, r)
	}
}

// session opens a session on the world's sources with nothing held.
func (w *world) session(t *testing.T, srcs ...string) *Session {
	st, err := OpenStore(t.TempDir(), w.p, 2_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ss := &Session{P: w.p, Store: st, wc: webclient.New(webclient.Config{}), now: func() int64 { return 2_000_000_000 }}
	for _, s := range srcs {
		ss.Sources = append(ss.Sources, &Source{Addr: s})
	}
	if err := ss.sync(context.Background(), 2_000_000_000); err != nil {
		t.Fatal(err)
	}
	return ss
}

// TestHistoryChecks: an honest source's entries are all verified and add
// up; each lie is caught and what it invents or alters is not counted.
func TestHistoryChecks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ss := w.session(t, w.srcAddr)
	r, err := ss.history(ctx, w.addr)
	if err != nil || len(ss.Lies()) != 0 || r.Verified != 2 || r.Confirmed != 2 {
		t.Fatalf("honest: %v, lies %q, %d of %d verified", err, ss.Lies(), r.Verified, r.Confirmed)
	}
	if s := r.Sums(w.p.Maturity); s.Confirmed != 200_000_000-50_000_000-1000 {
		t.Fatalf("honest sum %+v", s)
	}
	if r.Entries[0].Kind != "in" || r.Entries[0].Confirmations != 12-5+1 || r.Entries[1].Kind != "out" || r.Entries[1].Fee != 1000 {
		t.Fatalf("entries %+v", r.Entries)
	}
	for _, c := range []struct {
		name string
		set  func(s *histSource)
		lie  string
		sum  uint64
	}{
		{"altered amount", func(s *histSource) { s.alter = true }, "is altered: bad-hash", 0},
		{"wrong proof", func(s *histSource) { s.wrongProof = true }, "a proof that does not match", 0},
		{"invented payment", func(s *histSource) { s.invent = true }, "an invented entry: transfer 09", 200_000_000 - 50_000_000 - 1000},
		{"altered balance", func(s *histSource) { s.claim = 7 }, "an altered balance: it reports 0.00000007 CNJ", 200_000_000 - 50_000_000 - 1000},
		{"a block the held chain does not have there", func(s *histSource) { s.badBlock = true }, "an invented entry: transfer 01", 0},
	} {
		*w.src = histSource{source: source{c: w.chain}, w: w}
		c.set(w.src)
		ss := w.session(t, w.srcAddr)
		r, err := ss.history(ctx, w.addr)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if l := ss.Lies(); len(l) == 0 || !strings.Contains(l[0], c.lie) {
			t.Errorf("%s: lies %q, want %q", c.name, l, c.lie)
		}
		if s := r.Sums(w.p.Maturity); s.Confirmed != c.sum {
			t.Errorf("%s: counted %d, want %d", c.name, s.Confirmed, c.sum)
		}
	}
}

// TestSourcesCompared: of two sources, the one that omits what the other
// proves is named; the omission alone is not seen.
func TestSourcesCompared(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	omitter := &histSource{source: source{c: w.chain}, w: w, omit: true, claim: 1}
	omAddr := serve(t, omitter)
	ss := w.session(t, w.srcAddr, omAddr)
	if _, err := ss.history(ctx, w.addr); err != nil {
		t.Fatal(err)
	}
	l := ss.Lies()
	want := "source " + omAddr + ": an omission: it does not report transfer " + hex.EncodeToString(w.in.ID[:]) + " of block 5, which " + w.srcAddr + " proves"
	found := false
	for _, x := range l {
		found = found || x == want
	}
	if !found {
		t.Fatalf("lies %q, want %q", l, want)
	}
	// Alone, an omitted income shows only because the spend it paid for
	// is left without it.
	omitter.claim = 0
	ss = w.session(t, omAddr)
	if _, err := ss.history(ctx, w.addr); err != nil {
		t.Fatal(err)
	}
	if l := ss.Lies(); len(l) != 1 || !strings.Contains(l[0], "spend more than they receive") {
		t.Fatalf("alone, an omitted income: %q", l)
	}
	// An omitted spend, with the balance to match, is not seen at all:
	// what SPV with one source cannot prove.
	*omitter = histSource{source: source{c: w.chain}, w: w, omitOut: true, claim: 200_000_000}
	ss = w.session(t, omAddr)
	if _, err := ss.history(ctx, w.addr); err != nil || len(ss.Lies()) != 0 {
		t.Fatalf("an omitted spend: %v, %q", err, ss.Lies())
	}
}

// TestLowWork: a source whose valid chain forks deep below its tip with
// less work than the held one is a liar; one a block behind, or on a
// branch of a block or two, is not.
func TestLowWork(t *testing.T) {
	w := newWorld(t)
	short := w.chain.cut(3)
	grow(t, short, 8, 1, nil) // 11 blocks, leaving the main chain at 3
	behind := w.chain.cut(11)
	stale := w.chain.cut(10)
	grow(t, stale, 1, 1, nil)
	a := serve(t, &source{c: short})
	b := serve(t, &source{c: behind})
	c := serve(t, &source{c: stale})
	ss := w.session(t, w.srcAddr, a, b, c)
	if ss.Held().Height() != 12 || ss.Held().Hash(12) != w.chain.Hash(12) {
		t.Fatalf("held %d", ss.Held().Height())
	}
	l := ss.Lies()
	if len(l) != 1 || !strings.Contains(l[0], "source "+a+": a header chain with less work than the 12 headers held") {
		t.Fatalf("lies %q", l)
	}
	if !ss.Sources[2].Behind || !ss.Sources[3].Stale {
		t.Fatalf("behind %v, stale %v", ss.Sources[2].Behind, ss.Sources[3].Stale)
	}
}

func TestSumAt(t *testing.T) {
	e := func(kind string, h, amt, fee uint64) Entry {
		return Entry{At: webclient.TxAt{Confirmed: h > 0, Height: h}, Kind: kind, Amount: amt, Fee: fee}
	}
	es := []Entry{e("reward", 1, 50, 0), e("reward", 8, 50, 0), e("in", 3, 7, 0), e("out", 4, 2, 1), e("self", 5, 3, 1), e("in", 0, 4, 0), e("out", 0, 1, 1)}
	// At 10 with maturity 3: the reward of 8 is spendable from 11, which
	// the next block is: counted. Nothing is immature.
	if s, ok := sumAt(es, 10, 3); !ok || s.Confirmed != 50+50+7-3-1 || s.Immature != 0 || s.Pending != 4-2 {
		t.Fatalf("at 10: %+v %v", s, ok)
	}
	if s, ok := sumAt(es, 9, 3); !ok || s.Confirmed != 50+7-3-1 || s.Immature != 50 {
		t.Fatalf("at 9: %+v %v", s, ok)
	}
	if _, ok := sumAt([]Entry{e("out", 2, 5, 1)}, 9, 3); ok {
		t.Fatal("a spend of more than came in adds up")
	}
}

// TestCaughtUp: an entry in a block found after the session fetched the
// headers (the source's chain grew meanwhile) is checked against the
// headers fetched again, not called invented.
func TestCaughtUp(t *testing.T) {
	w := newWorld(t)
	full := w.src.c
	w.src.c = full.cut(4) // the session's headers end below both entries
	ss := w.session(t, w.srcAddr)
	if ss.Held().Height() != 4 {
		t.Fatalf("held %d headers, want 4", ss.Held().Height())
	}
	w.src.c = full
	r, err := ss.history(context.Background(), w.addr)
	if err != nil || len(ss.Lies()) != 0 || r.Verified != 2 || r.Confirmed != 2 {
		t.Fatalf("%v, lies %q, %d of %d verified", err, ss.Lies(), r.Verified, r.Confirmed)
	}
	if ss.Held().Height() != full.Height() {
		t.Fatalf("held %d headers after catching up, want %d", ss.Held().Height(), full.Height())
	}
}
