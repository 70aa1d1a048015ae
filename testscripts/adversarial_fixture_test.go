package testscripts

// Fixtures of the adversarial suite (adversarial_test.go): a small base
// chain built once per network, copied into a fresh chain directory for
// every row; keys; transfers; blocks mined with the midstate search on the
// real tip and re-mined after a mutation; Ed25519 edge encodings; the
// cnj-verify loop (verify.Stream) run in process.

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/verify"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/pow/midstate"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// advBlockBytes is the block size limit of the suite's network: the
// smallest a genesis allows, so that "at the limit" and "one past" are
// cheap to build.
const advBlockBytes = 4096

// advOutcome is what a line should get: accepted (a new valid record), known
// (passed over quietly: the node already has it) or rejected with a code.
type advOutcome struct {
	isKnown bool
	code    rule.Code
}

var (
	advAccepted = advOutcome{}
	advKnown    = advOutcome{isKnown: true}
)

func advRejected(c rule.Code) advOutcome { return advOutcome{code: c} }

func (o advOutcome) String() string {
	switch {
	case o.isKnown:
		return "Accepted-known"
	case o.code == "":
		return "Accepted"
	}
	return "Rejected(" + string(o.code) + ")"
}

func advOutcomeOf(v node.Verdict) advOutcome {
	switch {
	case v.Err != nil:
		c := rule.CodeOf(v.Err)
		if c == "" {
			c = "(no code: " + rule.Code(v.Err.Error()) + ")"
		}
		return advRejected(c)
	case v.Known:
		return advKnown
	}
	return advAccepted
}

// advWallet is a deterministic test key; addr is its devnet address.
type advWallet struct {
	priv ed25519.PrivateKey
	pub  [32]byte
	addr string
}

func advNewWallet(name string) advWallet {
	seed := sha256.Sum256([]byte("cnj-adversarial-key:" + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	w := advWallet{priv: priv}
	copy(w.pub[:], priv.Public().(ed25519.PublicKey))
	w.addr = keys.Address(keys.DevnetHRP, w.pub[:])
	return w
}

// The cast. In the base chain (see advBuildBase) A mined blocks 1-6 and has
// matured rewards plus immature ones, B mined only the tip (all immature),
// C received exactly 100_000 units in block 6 and nothing else, D has
// nothing.
var (
	advWA = advNewWallet("A")
	advWB = advNewWallet("B")
	advWC = advNewWallet("C")
	advWD = advNewWallet("D")
)

// advBase is a chain directory built once, copied for every row.
type advBase struct {
	dir   string
	p     *params.Params
	other *params.Params // another devnet: same prefix, other genesis
	now   int64          // the clock of every node in the suite
	lines [][]byte       // block lines of the base chain, height order
	mined *tx.Tx         // A -> C in block 6
}

// advBuildBase creates a chain directory for p with blocks 1-5 by A, block 6 by
// A carrying A -> C 100_000, block 7 by B, all stamped 10 s apart after the
// genesis.
func advBuildBase(t *testing.T, root string, p *params.Params, now int64) *advBase {
	t.Helper()
	other, err := params.NewDevnet(params.DevnetOptions{Timestamp: p.Timestamp})
	if err != nil {
		t.Fatal(err)
	}
	bs := &advBase{dir: filepath.Join(root, "base-"+hex.EncodeToString(p.Salt[:4])), p: p, other: other, now: now}
	if err := node.Create(bs.dir, p); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(bs.dir)
	if err != nil {
		t.Fatal(err)
	}
	n.Now = func() int64 { return now }
	f := &advFixture{t: t, advBase: bs, n: n, dir: bs.dir, idTag: "base"}
	for h := int64(1); h <= 7; h++ {
		miner := advWA
		if h == 7 {
			miner = advWB
		}
		var txs []*tx.Tx
		if h == 6 {
			bs.mined = f.txAt(advWA, advWC.addr, 100_000, p.MinFee, p.Timestamp+60)
			txs = append(txs, bs.mined)
		}
		b := f.blockOn(n.Chain().Tip(), miner.addr, txs...)
		// Blocks 10 s apart: slower than the devnet's 2 s spacing, except
		// on a retargeting network, where 1 s apart makes the rule's
		// target fall below the limit (so that "one unit easier" is not
		// simply above the limit).
		gap := int64(10)
		if p.RetargetWindow > 0 {
			gap = 1
		}
		b.Timestamp = p.Timestamp + gap*h
		advSeal(p, b)
		v, line, err := n.AddMined(b)
		if err != nil || v.Err != nil || !v.Tip {
			t.Fatalf("base block %d: %v %+v", h, err, v)
		}
		bs.lines = append(bs.lines, line)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return bs
}

// advFixture is one row's fresh copy of a base, opened as cnj-verify opens it.
type advFixture struct {
	t *testing.T
	*advBase
	n     *node.Node
	dir   string
	idTag string
	seq   int
}

var advRowSeq int

func advNewFixture(t *testing.T, bs *advBase, root string) *advFixture {
	t.Helper()
	advRowSeq++
	dir := filepath.Join(root, fmt.Sprintf("row%04d", advRowSeq))
	advCopyTree(t, bs.dir, dir)
	f := &advFixture{t: t, advBase: bs, dir: dir, idTag: "row"}
	f.n = f.open()
	return f
}

// open opens another Node on the fixture's directory with the suite's clock.
func (f *advFixture) open() *node.Node {
	f.t.Helper()
	n, err := node.Open(f.dir)
	if err != nil {
		f.t.Fatalf("node.Open: %v", err)
	}
	n.Now = func() int64 { return f.now }
	return n
}

func advCopyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// advFeed runs the cnj-verify loop over in on n, as the command does (rejects
// logged unless dryRun), and returns each line's outcome and message. A
// reject reported under the wrong line number (cnj-verify prints "line N")
// is given a code of its own, so that it counts as a wrong reason.
func advFeed(n *node.Node, in string, dryRun bool) ([]advOutcome, []string, error) {
	var got []advOutcome
	var msgs []string
	err := verify.Stream(n, strings.NewReader(in), dryRun, func(it node.Item, v node.Verdict) error {
		o := advOutcomeOf(v)
		msg := ""
		if v.Err != nil {
			msg = v.Err.Error()
			if it.Number != len(got)+1 {
				o = advRejected(rule.Code(fmt.Sprintf("%s reported as line %d", o.code, it.Number)))
			}
			if !dryRun {
				if err := n.LogReject(it, v.Err); err != nil {
					return err
				}
			}
		}
		got = append(got, o)
		msgs = append(msgs, msg)
		return nil
	}, func() error { return nil })
	return got, msgs, err
}

// advState is what must not change when a line is refused, and must survive
// a reopen when it is accepted.
func advState(t *testing.T, n *node.Node) string {
	t.Helper()
	c := n.Chain()
	snap, err := c.Ledger().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("tip %x height %d blocks %d ledger %x", c.Tip().Hash, c.Tip().Height, c.Len(), sha256.Sum256(snap))
}

// ---- transfers ----

// newID returns the fixture's next transfer id. Rows that need the very
// same transfer again (a resend) step f.seq back before building it:
// Ed25519 signatures are deterministic, so the line comes out identical.
func (f *advFixture) newID() (id [16]byte) {
	f.seq++
	h := sha256.Sum256(fmt.Appendf(nil, "cnj-adversarial-id:%s:%d", f.idTag, f.seq))
	copy(id[:], h[:])
	return id
}

// tx returns a transfer stamped now, signed for the fixture's network.
func (f *advFixture) tx(from advWallet, to string, amt, fee uint64) *tx.Tx {
	return f.txAt(from, to, amt, fee, f.now)
}

func (f *advFixture) txAt(from advWallet, to string, amt, fee uint64, ts int64) *tx.Tx {
	t := &tx.Tx{ID: f.newID(), Sender: from.addr, Receiver: to, Amount: amt, Fee: fee, Timestamp: ts}
	t.Sign(f.p.Hash(), from.priv)
	return t
}

// pay is a plain valid transfer of amt from w to D at the minimum fee.
func (f *advFixture) pay(from advWallet, amt uint64) *tx.Tx {
	return f.tx(from, advWD.addr, amt, f.p.MinFee)
}

func (f *advFixture) resign(t *tx.Tx, w advWallet) *tx.Tx { t.Sign(f.p.Hash(), w.priv); return t }

func advTxLine(t *tx.Tx) string { return string(t.AppendJSON(nil)) }

// confirmed is what addr can spend in the next block.
func (f *advFixture) confirmed(addr string) uint64 {
	return f.n.Chain().Ledger().Balance(addr).Confirmed
}

// ---- blocks ----

// block returns a valid block on the tip paying miner, with txs, mined.
func (f *advFixture) block(miner string, txs ...*tx.Tx) *block.Block {
	return f.blockOn(f.n.Chain().Tip(), miner, txs...)
}

// blockOn builds a block on parent the way node.Template does (timestamp
// max(now, MTP+1), the retarget rule's target, subsidy plus fees) and mines
// it.
func (f *advFixture) blockOn(parent *chain.BlockNode, miner string, txs ...*tx.Tx) *block.Block {
	c := f.n.Chain()
	var fees uint64
	for _, t := range txs {
		fees, _ = amount.Add(fees, t.Fee)
	}
	b := &block.Block{
		Header: block.Header{
			Index:     parent.Height + 1,
			Timestamp: max(f.now, c.MedianTime(parent)+1),
			Miner:     miner,
			PrevHash:  parent.Hash,
			Target:    consensus.NextTarget(f.p, c.Context(parent, f.now)),
		},
		Reward: tx.Reward{Receiver: miner, Amount: f.p.Subsidy(parent.Height+1) + fees, Index: parent.Height + 1},
		Txs:    txs,
	}
	advSeal(f.p, b)
	return b
}

// advSeal recomputes the merkle root and mines b.
func advSeal(p *params.Params, b *block.Block) {
	b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, b.Txs)
	advRemine(b)
}

// advRemine searches a proof that meets b's own target for b's header as it
// is, and sets Proof and Hash: after any mutation of the header, the proof
// of work is right again, so that the rule under test is what fails.
func advRemine(b *block.Block) {
	pre := b.Prefix()
	advSt := midstate.New(pre[:])
	proof, h, ok := advSt.Search(block.PrefixSize, 0, math.MaxUint64, &b.Target)
	if !ok {
		panic("remine: no proof")
	}
	b.Proof, b.Hash = proof, h
}

// advUnmine sets a proof whose hash is above b's target, with that hash.
func advUnmine(b *block.Block) {
	pre := b.Prefix()
	advSt := midstate.New(pre[:])
	for p := uint64(0); ; p++ {
		h := advSt.Hash(block.PrefixSize, p)
		if !pow.Meets(&h, &b.Target) {
			b.Proof, b.Hash = p, h
			return
		}
	}
}

func advBlockLine(b *block.Block) string { return string(b.AppendJSON(nil)) }

// advPadBlock returns b's line with spaces after its first comma so that it
// is exactly size bytes: JSON whitespace, which the block's size does not
// count (its canonical line's does).
func advPadBlock(t *testing.T, b *block.Block, size int) string {
	line := advBlockLine(b)
	if len(line) > size {
		t.Fatalf("block line of %d bytes is already above %d", len(line), size)
	}
	i := strings.IndexByte(line, ',') + 1
	return line[:i] + strings.Repeat(" ", size-len(line)) + line[i:]
}

// ---- text surgery ----

// rep replaces the one occurrence of old in s by new; it fails the test
// when old is not there exactly once, so a row never tests what it claims
// not to.
func (f *advFixture) rep(s, old, new string) string {
	f.t.Helper()
	if n := strings.Count(s, old); n != 1 {
		f.t.Fatalf("rep: %q occurs %d times in %s", old, n, s)
	}
	return strings.Replace(s, old, new, 1)
}

func advHexOf(b []byte) string { return hex.EncodeToString(b) }

// ---- Ed25519 edge cases ----

var (
	advCurveP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	advGroupL = func() *big.Int {
		l, _ := new(big.Int).SetString("27742317777372353535851937790883648493", 10)
		return l.Add(l, new(big.Int).Lsh(big.NewInt(1), 252))
	}()
)

func advLeInt(b []byte) *big.Int {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(r)
}

func advLeBytes(x *big.Int, n int) []byte {
	be := x.FillBytes(make([]byte, n))
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		be[i], be[j] = be[j], be[i]
	}
	return be
}

// advEncodePoint writes y (< 2^255, not reduced: so non-canonical encodings
// can be made) and the sign bit of x.
func advEncodePoint(y *big.Int, signX bool) (e [32]byte) {
	copy(e[:], advLeBytes(y, 32))
	if signX {
		e[31] |= 0x80
	}
	return e
}

// advSmallOrder are encodings of points of order 1, 2 and 4, canonical and
// not: ZIP-215 accepts every one of them as a public key, and with R =
// identity, S = 0 the cofactored equation [8]SB = [8]R + [8]kA holds for
// any message. Such an address is anyone-can-spend.
var advSmallOrder = []struct {
	name string
	enc  [32]byte
}{
	{"identity", advEncodePoint(big.NewInt(1), false)},
	{"identity, sign bit set (x = -0)", advEncodePoint(big.NewInt(1), true)},
	{"identity, non-canonical y = p+1", advEncodePoint(new(big.Int).Add(advCurveP, big.NewInt(1)), false)},
	{"order 2 (0, -1)", advEncodePoint(new(big.Int).Sub(advCurveP, big.NewInt(1)), false)},
	{"order 4 (sqrt(-1), 0)", advEncodePoint(big.NewInt(0), false)},
	{"order 4 (-sqrt(-1), 0)", advEncodePoint(big.NewInt(0), true)},
}

// advTrivialSig is R = identity, S = 0.
func advTrivialSig() (s [64]byte) { s[0] = 1; return s }

// keyTx is a transfer from the address of an arbitrary 32-byte public key,
// with the hash filled in and the signature left to the caller.
func (f *advFixture) keyTx(pub [32]byte, to string, amt uint64) *tx.Tx {
	t := &tx.Tx{ID: f.newID(), Sender: keys.Address(f.p.AddressPrefix, pub[:]), PubKey: pub,
		Receiver: to, Amount: amt, Fee: f.p.MinFee, Timestamp: f.now}
	t.Hash = t.ComputeHash(f.p.Hash())
	return t
}

// advNonCanonicalS returns t's signature with S replaced by S + L (same
// value mod L, not < L).
func advNonCanonicalS(sig [64]byte) [64]byte {
	s := advLeInt(sig[32:])
	s.Add(s, advGroupL)
	copy(sig[32:], advLeBytes(s, 32))
	return sig
}

// advMixedKey returns w's public key plus the point of order 2: (x, y) ->
// (-x, -y). It is another valid public key for w's private scalar under
// ZIP-215's cofactored equation.
func advMixedKey(w advWallet) [32]byte {
	e := w.pub
	sign := e[31]&0x80 != 0
	e[31] &^= 0x80
	y := advLeInt(e[:])
	return advEncodePoint(new(big.Int).Sub(advCurveP, y), !sign)
}

// advSignMixed signs t (whose PubKey is mixedKey(w)) with w's scalar:
// S' = S + (k' - k) a mod L where (R, S) is w's ordinary signature of the
// same message, k = H(R || A || M), k' = H(R || A' || M).
func advSignMixed(t *tx.Tx, w advWallet) {
	m := t.Hash[:]
	sig := ed25519.Sign(w.priv, m)
	k := advHramOf(sig[:32], w.pub[:], m)
	k2 := advHramOf(sig[:32], t.PubKey[:], m)
	h := sha512.Sum512(w.priv.Seed())
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	a := advLeInt(h[:32])
	s := advLeInt(sig[32:])
	s.Add(s, new(big.Int).Mul(new(big.Int).Sub(k2, k), a))
	s.Mod(s, advGroupL)
	copy(t.Signature[:32], sig[:32])
	copy(t.Signature[32:], advLeBytes(s, 32))
}

func advHramOf(r, a, m []byte) *big.Int {
	h := sha512.New()
	h.Write(r)
	h.Write(a)
	h.Write(m)
	k := advLeInt(h.Sum(nil))
	return k.Mod(k, advGroupL)
}

// advNotAPoint returns an encoding (canonical y, small) that decodes to no
// curve point: (y^2 - 1) / (d y^2 + 1) is not a square mod p.
func advNotAPoint() [32]byte {
	p := advCurveP
	d := new(big.Int).Mul(big.NewInt(-121665), new(big.Int).ModInverse(big.NewInt(121666), p))
	d.Mod(d, p)
	exp := new(big.Int).Rsh(new(big.Int).Sub(p, big.NewInt(1)), 1)
	for y := int64(2); ; y++ {
		yy := big.NewInt(y * y)
		u := new(big.Int).Sub(yy, big.NewInt(1))
		v := new(big.Int).Mul(d, yy)
		v.Add(v, big.NewInt(1)).Mod(v, p)
		w := new(big.Int).Mul(u, new(big.Int).ModInverse(v, p))
		w.Mod(w, p)
		if w.Sign() != 0 && new(big.Int).Exp(w, exp, p).Cmp(new(big.Int).Sub(p, big.NewInt(1))) == 0 {
			return advEncodePoint(big.NewInt(y), false)
		}
	}
}

// ---- replay ----

// advReplay connects lines on a fresh in-memory chain and returns its state
// as advState describes it, for comparing with a reopened directory.
func advReplay(t *testing.T, p *params.Params, now int64, lines [][]byte) string {
	t.Helper()
	c := chain.New(p, chain.NewMemStore())
	for i, l := range lines {
		b, err := block.Parse(l)
		if err == nil {
			_, err = c.Add(b, l, now)
		}
		if err != nil {
			t.Fatalf("replay of block %d: %v", i+1, err)
		}
	}
	snap, err := c.Ledger().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("tip %x height %d blocks %d ledger %x", c.Tip().Hash, c.Tip().Height, c.Len(), sha256.Sum256(snap))
}

// advPseudoNode is the chain.BlockNode that b will be once stored on parent: what
// blockOn needs to build on a block that is not in the chain yet.
func advPseudoNode(b *block.Block, parent *chain.BlockNode) *chain.BlockNode {
	return &chain.BlockNode{Hash: b.Hash, Parent: parent, Height: b.Index,
		Timestamp: b.Timestamp, Target: b.Target}
}
