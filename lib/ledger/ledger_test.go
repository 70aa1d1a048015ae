package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

const (
	coin = amount.Coin
	t0   = 1_800_000_000 // genesis time
	day  = params.TxWindowAfter
)

// testParams returns a fixed devnet (maturity 3), the same on every run so
// that the fuzz corpus stays a snapshot of its network.
func testParams(t testing.TB, maturity uint64) *params.Params {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: t0, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	p.Salt = [16]byte{'l', 'e', 'd', 'g', 'e', 'r'}
	p.Maturity = maturity
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func addr(p *params.Params, seed byte) string {
	var s [32]byte
	s[0] = seed
	return keys.Address(p.AddressPrefix, ed25519.NewKeyFromSeed(s[:]).Public().(ed25519.PublicKey))
}

// builder makes blocks on a ledger's tip by hand: the ledger checks no
// signature, proof or merkle root, so none is made.
type builder struct {
	t   testing.TB
	p   *params.Params
	l   *Ledger
	ids byte
}

func (bd *builder) xfer(from, to string, amt, fee uint64, ts int64) *tx.Tx {
	bd.ids++
	return &tx.Tx{ID: [16]byte{bd.ids, 0xee}, Sender: from, Receiver: to, Amount: amt, Fee: fee, Timestamp: ts}
}

// next returns a block on l's tip paying miner the subsidy plus fees.
func (bd *builder) next(miner string, txs ...*tx.Tx) *block.Block {
	b := &block.Block{Header: block.Header{Index: bd.l.Height() + 1, PrevHash: bd.l.Tip(), Miner: miner,
		Timestamp: t0 + 2*int64(bd.l.Height()+1)}}
	var fees uint64
	for _, t := range txs {
		fees += t.Fee
	}
	b.Reward = tx.Reward{Receiver: miner, Amount: bd.p.Subsidy(b.Index) + fees, Index: b.Index}
	b.Txs = txs
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], b.Index)
	b.Hash = sha256.Sum256(append(append(seed[:], b.PrevHash[:]...), byte(len(txs))))
	return b
}

// connect connects b at parentMTP and fails the test on error.
func (bd *builder) connect(b *block.Block, mtp int64) *Undo {
	bd.t.Helper()
	u, err := bd.l.Connect(b, mtp)
	if err != nil {
		bd.t.Fatalf("block %d: %v", b.Index, err)
	}
	return u
}

// refuse expects Connect to fail with code and to leave the ledger as it was.
func (bd *builder) refuse(b *block.Block, mtp int64, code rule.Code) {
	bd.t.Helper()
	before := marshal(bd.t, bd.l)
	_, err := bd.l.Connect(b, mtp)
	if rule.CodeOf(err) != code || err == nil {
		bd.t.Fatalf("block %d: %v, want %q", b.Index, err, code)
	}
	if !bytes.Equal(before, marshal(bd.t, bd.l)) {
		bd.t.Fatalf("block %d: a refused block changed the ledger", b.Index)
	}
}

func marshal(t testing.TB, l *Ledger) []byte {
	t.Helper()
	b, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGenesis(t *testing.T) {
	p := testParams(t, 3)
	l := New(p)
	if l.Height() != 0 || l.Tip() != p.Hash() || l.Total() != 0 || l.Addresses() != 0 || l.IDs() != 0 {
		t.Fatalf("genesis ledger: height %d tip %x total %d", l.Height(), l.Tip(), l.Total())
	}
	if err := l.CanSpend(addr(p, 1), 1); !rule.Is(err, rule.InsufficientFunds) {
		t.Errorf("CanSpend at genesis: %v", err)
	}
	if err := l.CanSpend(addr(p, 1), 0); err != nil {
		t.Errorf("CanSpend(0) at genesis: %v", err)
	}
}

// TestMaturityBoundary: with maturity 3, the reward of block 1 is spendable
// in block 4 and not in block 3; the balance query sees it one block ahead.
func TestMaturityBoundary(t *testing.T) {
	p := testParams(t, 3)
	bd := &builder{t: t, p: p, l: New(p)}
	M, N, A := addr(p, 1), addr(p, 2), addr(p, 3)
	sub := p.Subsidy(1)

	want := func(h uint64, conf, imm uint64) {
		t.Helper()
		if got := bd.l.Balance(M); got != (Balance{conf, imm}) {
			t.Fatalf("after block %d: M %+v, want {%d %d}", h, got, conf, imm)
		}
	}
	bd.connect(bd.next(M), t0) // 1
	want(1, 0, sub)
	bd.connect(bd.next(N), t0) // 2
	want(2, 0, sub)
	// Block 3: block 1's reward is one block short of maturity.
	bd.refuse(bd.next(N, bd.xfer(M, A, coin, 1000, t0)), t0, rule.ImmatureSpend)
	if err := bd.l.CanSpend(M, coin); !rule.Is(err, rule.ImmatureSpend) {
		t.Fatalf("CanSpend after block 2: %v", err)
	}
	bd.connect(bd.next(N), t0) // 3
	want(3, sub, 0)            // spendable in the next block
	if err := bd.l.CanSpend(M, sub); err != nil {
		t.Fatalf("CanSpend after block 3: %v", err)
	}
	if err := bd.l.CanSpend(M, sub+1); !rule.Is(err, rule.InsufficientFunds) {
		t.Fatalf("CanSpend above the balance: %v", err)
	}
	// Block 4 may spend all of it, fee included.
	bd.connect(bd.next(N, bd.xfer(M, A, sub-1000, 1000, t0)), t0)
	want(4, 0, 0)
	if got := bd.l.Balance(A); got.Confirmed != sub-1000 {
		t.Fatalf("A after block 4: %+v", got)
	}
	// N mined 2, 3, 4: block 2's reward matures in block 5.
	if got := bd.l.Balance(N); got.Confirmed != sub || got.Immature != 2*sub+1000 {
		t.Fatalf("N after block 4: %+v", got)
	}
	if bd.l.Total() != 4*sub {
		t.Fatalf("total %d, want %d", bd.l.Total(), 4*sub)
	}
}

// TestMaturityZero: with maturity 0 a reward is spendable in its own block.
func TestMaturityZero(t *testing.T) {
	p := testParams(t, 0)
	bd := &builder{t: t, p: p, l: New(p)}
	M, A := addr(p, 1), addr(p, 2)
	b := bd.next(M, bd.xfer(M, A, coin, 1000, t0))
	u := bd.connect(b, t0)
	if got := bd.l.Balance(M); got.Confirmed != p.Subsidy(1)-coin || got.Immature != 0 {
		t.Fatalf("M: %+v", got)
	}
	bd.refuse(bd.next(A, bd.xfer(M, A, p.Subsidy(1), 1000, t0)), t0, rule.InsufficientFunds)
	if err := bd.l.Disconnect(b, u); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(marshal(t, bd.l), marshal(t, New(p))) {
		t.Fatal("disconnect did not return to genesis")
	}
}

// TestFundsInBlockOrder: earlier transfers of the block count, those that
// credit the sender included; two that together overspend are refused.
func TestFundsInBlockOrder(t *testing.T) {
	p := testParams(t, 1) // a reward is spendable in the next block
	bd := &builder{t: t, p: p, l: New(p)}
	M, A, B, C := addr(p, 1), addr(p, 2), addr(p, 3), addr(p, 4)
	bd.connect(bd.next(M), t0)
	// A holds nothing, but M pays A first in the same block.
	bd.connect(bd.next(C,
		bd.xfer(M, A, 10*coin, 1000, t0),
		bd.xfer(A, B, 4*coin, 1000, t0),
		bd.xfer(B, C, 4*coin-1000, 1000, t0)), t0)
	if a, b := bd.l.Balance(A), bd.l.Balance(B); a.Confirmed != 6*coin-1000 || b.Confirmed != 0 {
		t.Fatalf("A %+v, B %+v", a, b)
	}
	// In the other order the first transfer overspends.
	bd.refuse(bd.next(C, bd.xfer(B, C, coin, 1000, t0), bd.xfer(A, B, 4*coin, 1000, t0)), t0, rule.InsufficientFunds)
	// Two transfers that each fit but together do not.
	bd.refuse(bd.next(C, bd.xfer(A, B, 3*coin, 1000, t0), bd.xfer(A, C, 3*coin, 1000, t0)), t0, rule.InsufficientFunds)
	// Spending to the last unit, and one unit more.
	have := bd.l.Balance(A).Confirmed
	bd.refuse(bd.next(C, bd.xfer(A, B, have-1000+1, 1000, t0)), t0, rule.InsufficientFunds)
	bd.connect(bd.next(C, bd.xfer(A, B, have-1000, 1000, t0)), t0)
	if bd.l.Balance(A) != (Balance{}) || bd.l.Addresses() != 3 {
		t.Fatalf("A %+v after spending all; %d addresses held", bd.l.Balance(A), bd.l.Addresses())
	}
	// Sending to oneself moves nothing but the fee.
	before := bd.l.Balance(B).Confirmed
	bd.connect(bd.next(C, bd.xfer(B, B, before-1000, 1000, t0)), t0)
	if got := bd.l.Balance(B).Confirmed; got != before-1000 {
		t.Fatalf("B after paying itself: %d, want %d", got, before-1000)
	}
}

// TestIDWindow: an id stays in the recent set while its timestamp + 86400
// is at least the parent's median time past, and leaves at the first block
// whose parent's median time past is above that; disconnecting puts it back.
func TestIDWindow(t *testing.T) {
	p := testParams(t, 1)
	bd := &builder{t: t, p: p, l: New(p)}
	M, A := addr(p, 1), addr(p, 2)
	bd.connect(bd.next(M), t0)
	first := bd.xfer(M, A, coin, 1000, t0)
	bd.connect(bd.next(M, first), t0)
	if !bd.l.HasID(M, first.ID) {
		t.Fatal("id not recorded")
	}
	replay := *first
	replay.Timestamp = t0 + day // a new transfer reusing the id
	// At the boundary the id is still recent.
	bd.refuse(bd.next(M, &replay), t0+day, rule.DuplicateID)
	// One second later it is gone, and the id may be used again.
	snapBefore := marshal(t, bd.l)
	blk := bd.next(M, &replay)
	u := bd.connect(blk, t0+day+1)
	if !bd.l.HasID(M, first.ID) || bd.l.IDs() != 1 {
		t.Fatalf("after reuse: %d ids", bd.l.IDs())
	}
	if err := bd.l.Disconnect(blk, u); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapBefore, marshal(t, bd.l)) {
		t.Fatal("disconnect did not restore the dropped id")
	}
	// Twice in one block.
	a, b := bd.xfer(M, A, 1, 1000, t0), bd.xfer(M, A, 1, 1000, t0)
	b.ID = a.ID
	bd.refuse(bd.next(M, a, b), t0, rule.DuplicateID)
	// Pruning drops only expired ids.
	late := bd.xfer(M, A, 1, 1000, t0+100)
	bd.connect(bd.next(M, late), t0)
	bd.connect(bd.next(M), t0+day+1)
	if bd.l.HasID(M, first.ID) || !bd.l.HasID(M, late.ID) {
		t.Fatal("pruned the wrong ids")
	}
	bd.connect(bd.next(M), t0+100+day+1)
	if bd.l.IDs() != 0 {
		t.Fatalf("%d ids left", bd.l.IDs())
	}
}

// TestRecent: the recent-id set tells, from the ledger alone, a transfer
// on the chain (same sender, id and hash) from another transfer of its
// sender under its id, and leaves the id free for every other sender.
func TestRecent(t *testing.T) {
	p := testParams(t, 1)
	bd := &builder{t: t, p: p, l: New(p)}
	M, A := addr(p, 1), addr(p, 2)
	bd.connect(bd.next(M), t0)
	mined := bd.xfer(M, A, coin, 1000, t0)
	mined.Hash = [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
	bd.connect(bd.next(M, mined), t0)
	other := *mined
	other.Amount++
	other.Hash[HashPrefix-1]++ // differs within the prefix kept
	elsewhere := *mined
	elsewhere.Sender = A
	beyond := *mined
	beyond.Hash[HashPrefix]++ // differs only past the prefix kept
	for _, c := range []struct {
		name       string
		t          *tx.Tx
		used, same bool
	}{
		{"the mined transfer", mined, true, true},
		{"another transfer of its sender under its id", &other, true, false},
		{"a hash that differs only past the prefix", &beyond, true, true},
		{"the id under another sender", &elsewhere, false, false},
	} {
		if used, same := bd.l.Recent(c.t); used != c.used || same != c.same {
			t.Errorf("%s: Recent = %v, %v; want %v, %v", c.name, used, same, c.used, c.same)
		}
	}
}

// TestConnectDisconnectRestores: disconnecting blocks one by one gives back
// the snapshot taken before each was connected, byte for byte.
func TestConnectDisconnectRestores(t *testing.T) {
	p := testParams(t, 3)
	bd := &builder{t: t, p: p, l: New(p)}
	w := []string{addr(p, 1), addr(p, 2), addr(p, 3), addr(p, 4)}
	var blocks []*block.Block
	var undos []*Undo
	var snaps [][]byte
	ts := int64(t0)
	for h := 1; h <= 30; h++ {
		snaps = append(snaps, marshal(t, bd.l))
		var txs []*tx.Tx
		for i, from := range w {
			if have := bd.l.Balance(from).Confirmed; have > coin+1000 {
				txs = append(txs, bd.xfer(from, w[(i+h)%len(w)], have/3, 1000+uint64(h), ts+int64(h)))
			}
		}
		b := bd.next(w[h%len(w)], txs...)
		if h%4 == 0 {
			b.Reward.Amount /= 2 // burn half
		}
		undos = append(undos, bd.connect(b, ts+int64(h)*4000))
		blocks = append(blocks, b)
	}
	c := bd.l.Clone()
	for i := len(blocks) - 1; i >= 0; i-- {
		if err := bd.l.Disconnect(blocks[i], undos[i]); err != nil {
			t.Fatalf("disconnect %d: %v", i+1, err)
		}
		if !bytes.Equal(snaps[i], marshal(t, bd.l)) {
			t.Fatalf("after disconnecting block %d: snapshot differs", i+1)
		}
	}
	// The clone did not move with the original.
	if c.Height() != 30 || bd.l.Height() != 0 {
		t.Fatal("Clone shares state")
	}
	// Reconnecting gives the clone's state again.
	for i, b := range blocks {
		bd.connect(b, ts+int64(i+1)*4000)
	}
	if !bytes.Equal(marshal(t, c), marshal(t, bd.l)) {
		t.Fatal("reconnecting differs from the clone")
	}
}

// TestNotOnTip: blocks that do not fit the tip are plain errors and change
// nothing; Disconnect refuses what is not the tip or not its undo data.
func TestNotOnTip(t *testing.T) {
	p := testParams(t, 3)
	bd := &builder{t: t, p: p, l: New(p)}
	M := addr(p, 1)
	b1 := bd.next(M)
	u1 := bd.connect(b1, t0)
	b2 := bd.next(M)
	u2 := bd.connect(b2, t0)
	before := marshal(t, bd.l)

	wrongPrev := bd.next(M)
	wrongPrev.PrevHash = b1.Hash
	wrongIndex := bd.next(M)
	wrongIndex.Index = 5
	for _, b := range []*block.Block{wrongPrev, wrongIndex} {
		if _, err := bd.l.Connect(b, t0); err == nil || rule.CodeOf(err) != "" {
			t.Errorf("block %d on %x: %v, want a plain error", b.Index, b.PrevHash[:4], err)
		}
	}
	if err := bd.l.Disconnect(b1, u1); err == nil {
		t.Error("disconnected a block below the tip")
	}
	if err := bd.l.Disconnect(b2, u1); err == nil {
		t.Error("disconnected with another block's undo data")
	}
	if err := bd.l.Disconnect(b2, nil); err == nil {
		t.Error("disconnected without undo data")
	}
	fake := *b2
	fake.Reward.Amount++
	if err := bd.l.Disconnect(&fake, u2); err == nil {
		t.Error("disconnected a block whose reward is not the newest")
	}
	if !bytes.Equal(before, marshal(t, bd.l)) {
		t.Fatal("refused calls changed the ledger")
	}
}

// TestOverflow: credits that would wrap a uint64 are refused.
func TestOverflow(t *testing.T) {
	p := testParams(t, 1)
	bd := &builder{t: t, p: p, l: New(p)}
	M, A := addr(p, 1), addr(p, 2)
	bd.l.bal[A] = ^uint64(0) - 5
	bd.connect(bd.next(M), t0)
	bd.refuse(bd.next(M, bd.xfer(M, A, 10, 1000, t0)), t0, rule.Overflow)
	bd.refuse(bd.next(M, bd.xfer(M, M, amount.MaxMoney, 1000, t0)), t0, rule.Overflow)
}
