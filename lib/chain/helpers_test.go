package chain

import (
	"bytes"
	"crypto/ed25519"
	"math/rand"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// genesisTime is the devnet genesis of every test; now is the clock the
// chain is given, far enough ahead that no test block is time-too-new.
const (
	genesisTime = 1_800_000_000
	now         = genesisTime + 10_000_000
)

// devnet returns a fresh devnet, fixed target unless retarget is set.
func devnet(t testing.TB, retarget bool) *params.Params {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: genesisTime, NoRetarget: !retarget})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wallet is a test key and its address.
type wallet struct {
	priv ed25519.PrivateKey
	addr string
}

func newWallet(p *params.Params, seed byte) wallet {
	var s [32]byte
	s[0] = seed
	priv := ed25519.NewKeyFromSeed(s[:])
	return wallet{priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))}
}

// miner mines real blocks on p: it remembers the branch (points) of every
// block it made, so it can compute the target of a child of any of them
// without asking the chain, and it can build blocks the chain will refuse.
type miner struct {
	p    *params.Params
	rng  *rand.Rand
	pts  map[[32]byte][]pow.Point // branch from genesis ending at the block
	byID map[[32]byte]*block.Block
}

func newMiner(p *params.Params, seed int64) *miner {
	g := p.Hash()
	return &miner{
		p:    p,
		rng:  rand.New(rand.NewSource(seed)),
		pts:  map[[32]byte][]pow.Point{g: {{Timestamp: p.Timestamp, Target: p.InitialTarget}}},
		byID: map[[32]byte]*block.Block{},
	}
}

// blockSpec says how to build a block; zero fields take defaults.
type blockSpec struct {
	dt     int64 // seconds after the parent; default the network spacing
	reward int64 // reward amount: 0 = subsidy+fees, >0 = that much, -1 = zero
	extra  int64 // added to the default reward (for bad-reward)
}

// mine builds and mines a block on parent (a block hash; genesis is
// p.Hash()) paying the reward to to.
func (m *miner) mine(parent [32]byte, to string, s blockSpec, txs ...*tx.Tx) *block.Block {
	pts, ok := m.pts[parent]
	if !ok {
		panic("miner: unknown parent")
	}
	last := pts[len(pts)-1]
	dt := s.dt
	if dt == 0 {
		dt = m.p.Spacing
	}
	b := &block.Block{Header: block.Header{
		Index:     uint64(len(pts)),
		Timestamp: last.Timestamp + dt,
		Miner:     to,
		PrevHash:  parent,
		Target:    pow.Next(consensus.PowParams(m.p), pts),
	}}
	var fees uint64
	for _, t := range txs {
		fees += t.Fee
	}
	b.Reward = tx.Reward{Receiver: to, Index: b.Index, Amount: m.p.Subsidy(b.Index) + fees + uint64(s.extra)}
	switch {
	case s.reward > 0:
		b.Reward.Amount = uint64(s.reward)
	case s.reward < 0:
		b.Reward.Amount = 0
	}
	b.Txs = txs
	b.MerkleRoot = block.MerkleRoot(m.p.Hash(), &b.Reward, b.Txs)
	for b.Proof = m.rng.Uint64(); ; b.Proof++ {
		b.Hash = b.ComputeHash()
		if pow.Meets(&b.Hash, &b.Target) {
			break
		}
	}
	b.JSON()
	np := make([]pow.Point, len(pts), len(pts)+1)
	copy(np, pts)
	m.pts[b.Hash] = append(np, pow.Point{Timestamp: b.Timestamp, Target: b.Target})
	m.byID[b.Hash] = b
	return b
}

// pay signs a transfer stamped ts.
func (m *miner) pay(from wallet, to string, amount, fee uint64, ts int64) *tx.Tx {
	t := &tx.Tx{Sender: from.addr, Receiver: to, Amount: amount, Fee: fee, Timestamp: ts}
	m.rng.Read(t.ID[:])
	t.Sign(m.p.Hash(), from.priv)
	return t
}

// blockFn returns the block of a node: from the miner that made it when it
// is known (cheap), else through the chain's store.
func blockFn(t testing.TB, c *Chain, m *miner) func(n *BlockNode) *block.Block {
	return func(n *BlockNode) *block.Block {
		t.Helper()
		if m != nil {
			if b := m.byID[n.Hash]; b != nil {
				return b
			}
		}
		b, err := c.Block(n)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// replay returns the snapshot of a fresh ledger that connected the main
// chain of c from genesis.
func replay(t testing.TB, c *Chain, m *miner) []byte {
	t.Helper()
	get := blockFn(t, c, m)
	l := ledger.New(c.p)
	for h := uint64(1); h <= c.Tip().Height; h++ {
		n := c.AtHeight(h)
		b := get(n)
		if _, err := l.Connect(b, c.MedianTime(n.Parent)); err != nil {
			t.Fatalf("replaying block %d: %v", h, err)
		}
	}
	return snap(t, l)
}

func snap(t testing.TB, l *ledger.Ledger) []byte {
	t.Helper()
	b, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkConsistent checks the invariants of c: the main chain links up to
// the tip, the ledger sits at the tip and equals a fresh replay, and no
// money is made or lost: its total is the sum of the main chain's reward
// amounts less the fees its transfers paid (a fee leaves the sender and
// comes back only inside a reward).
func checkConsistent(t testing.TB, c *Chain, m *miner) {
	t.Helper()
	get := blockFn(t, c, m)
	tip := c.Tip()
	if c.AtHeight(tip.Height) != tip || c.AtHeight(tip.Height+1) != nil {
		t.Fatalf("main chain does not end at the tip %d", tip.Height)
	}
	var sum uint64
	for h := tip.Height; h >= 1; h-- {
		n := c.AtHeight(h)
		if n.Parent != c.AtHeight(h-1) || n.Invalid {
			t.Fatalf("main chain broken or invalid at %d", h)
		}
		b := get(n)
		sum += b.Reward.Amount
		for _, t := range b.Txs {
			sum -= t.Fee
		}
	}
	l := c.Ledger()
	if l.Tip() != tip.Hash || l.Height() != tip.Height {
		t.Fatalf("ledger at %d %x, tip at %d %x", l.Height(), l.Tip(), tip.Height, tip.Hash)
	}
	if l.Total() != sum {
		t.Fatalf("ledger total %d, main chain rewards less fees %d", l.Total(), sum)
	}
	if !bytes.Equal(snap(t, l), replay(t, c, m)) {
		t.Fatalf("ledger at %d differs from a fresh replay", tip.Height)
	}
}

// outcome of one scenario step.
type outcome int

const (
	accepted  outcome = iota // kept, no error (tip or side)
	rejected                 // refused with a code
	duplicate                // known, quiet
)

// scenario drives a chain with named blocks, btcd fullblocktests style.
type scenario struct {
	t     *testing.T
	p     *params.Params
	m     *miner
	store *MemStore
	c     *Chain
	names map[string]*block.Block
	last  *Result
	lim   Limits // the side-branch policy add applies (AddWith, TryWith)
}

func newScenario(t *testing.T, p *params.Params) *scenario {
	st := NewMemStore()
	s := &scenario{t: t, p: p, m: newMiner(p, 1), store: st, c: New(p, st), names: map[string]*block.Block{}}
	return s
}

func (s *scenario) hash(name string) [32]byte {
	if name == "g" {
		return s.p.Hash()
	}
	b, ok := s.names[name]
	if !ok {
		s.t.Fatalf("no block named %s", name)
	}
	return b.Hash
}

// block mines name on parent without giving it to the chain.
func (s *scenario) block(name, parent string, to string, bs blockSpec, txs ...*tx.Tx) *block.Block {
	b := s.m.mine(s.hash(parent), to, bs, txs...)
	s.names[name] = b
	return b
}

// add gives the named block to the chain and checks the outcome. It
// first tries the block (Try, the dry run) and checks that the dry run
// changed nothing and judged the block as Add then does.
func (s *scenario) add(name string, want outcome, code rule.Code) *Result {
	s.t.Helper()
	b := s.names[name]
	puts, n, tip, led := s.store.Puts(), s.c.Len(), s.c.Tip(), snap(s.t, s.c.Ledger())
	tres, terr := s.c.TryWith(b, b.JSON(), now, s.lim)
	if s.store.Puts() != puts || s.c.Len() != n || s.c.Tip() != tip || !bytes.Equal(led, snap(s.t, s.c.Ledger())) {
		s.t.Fatalf("%s: Try changed the chain", name)
	}
	res, err := s.c.AddWith(b, b.JSON(), now, s.lim)
	s.last = res
	switch {
	case res == nil && rule.CodeOf(terr) != rule.CodeOf(err):
		s.t.Fatalf("%s: Try says %v, Add %v", name, terr, err)
	case res != nil && err == nil && (terr != nil || tres.Duplicate != res.Duplicate || !res.Duplicate && tres.Side != res.Side && !(tres.Side && res.TipChanged)):
		s.t.Fatalf("%s: Try says %+v, %v; Add %+v", name, tres, terr, res)
	case res != nil && err != nil && (terr != nil || !tres.Side):
		// A reorganization that fails on a ledger rule: the dry run
		// judges the side block on its header and body only.
		s.t.Fatalf("%s: Try says %+v, %v; Add stored it and failed the reorganization: %v", name, tres, terr, err)
	}
	switch want {
	case accepted:
		if err != nil || res == nil || res.Duplicate {
			s.t.Fatalf("%s: got %+v, %v; want accepted", name, res, err)
		}
	case duplicate:
		if err != nil || res == nil || !res.Duplicate {
			s.t.Fatalf("%s: got %+v, %v; want duplicate", name, res, err)
		}
	case rejected:
		if got := rule.CodeOf(err); got != code {
			s.t.Fatalf("%s: got %v; want %s", name, err, code)
		}
	}
	return res
}

// accept mines name on parent, adds it, and expects it kept.
func (s *scenario) accept(name, parent, to string, txs ...*tx.Tx) *Result {
	s.t.Helper()
	s.block(name, parent, to, blockSpec{}, txs...)
	return s.add(name, accepted, "")
}

// reject mines name on parent with spec bs and expects code.
func (s *scenario) reject(name, parent, to string, bs blockSpec, code rule.Code, txs ...*tx.Tx) {
	s.t.Helper()
	s.block(name, parent, to, bs, txs...)
	s.add(name, rejected, code)
}

// tip expects the named block to be the tip.
func (s *scenario) tip(name string) {
	s.t.Helper()
	if got := s.c.Tip().Hash; got != s.hash(name) {
		s.t.Fatalf("tip is %s, want %s", s.nameOf(got), name)
	}
	checkConsistent(s.t, s.c, s.m)
}

func (s *scenario) nameOf(h [32]byte) string {
	if h == s.p.Hash() {
		return "g"
	}
	for n, b := range s.names {
		if b.Hash == h {
			return n
		}
	}
	return "?"
}

func (s *scenario) blockNames(bs []*block.Block) []string {
	var out []string
	for _, b := range bs {
		out = append(out, s.nameOf(b.Hash))
	}
	return out
}

func list(t ...*tx.Tx) []*tx.Tx { return t }
