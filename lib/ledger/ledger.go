package ledger

import (
	"fmt"
	"maps"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
)

// Ledger is the state at one tip. The zero Ledger is not usable: make one
// with New (and UnmarshalBinary to load a snapshot).
type Ledger struct {
	p      *params.Params
	height uint64
	tip    [32]byte
	// bal holds spendable balances; never a zero entry.
	bal map[string]uint64
	// pending holds the rewards of blocks max(1, height-Maturity+1) ..
	// height, oldest first: min(Maturity, height) entries (none when
	// Maturity is 0, as a reward then matures in its own block).
	pending []reward
	// ids maps each recent (sender, id) to its transfer's timestamp and
	// hash prefix (ids.go).
	ids idSet
	// expiry is a min-heap by timestamp over the entries of ids. It may also
	// hold stale entries (ids that a Disconnect removed), which pruning
	// skips; every live entry of ids has an entry here with its timestamp.
	expiry idHeap
}

// New returns the ledger at genesis: height 0, tip = p.Hash(), nothing held.
func New(p *params.Params) *Ledger {
	return &Ledger{
		p:   p,
		tip: p.Hash(),
		bal: make(map[string]uint64),
		ids: newIDSet(0),
	}
}

// Height is the index of the tip block (0 at genesis).
func (l *Ledger) Height() uint64 { return l.height }

// Tip is the hash of the block the state is at.
func (l *Ledger) Tip() [32]byte { return l.tip }

// Connect applies b on the tip and returns its undo data. b must already have
// passed consensus.CheckHeader and consensus.CheckBody; parentMTP is the
// median time past of b's parent. Connect checks the contextual rules (see
// the package documentation) and returns their *rule.Error; a block whose
// PrevHash is not the tip or whose Index is not Height+1 is a plain error.
// On any error the ledger is unchanged.
func (l *Ledger) Connect(b *block.Block, parentMTP int64) (*Undo, error) {
	if b.PrevHash != l.tip {
		return nil, fmt.Errorf("ledger: block %x builds on %x, the tip is %x", b.Hash[:8], b.PrevHash[:8], l.tip[:8])
	}
	if b.Index != l.height+1 || b.Index == 0 {
		return nil, fmt.Errorf("ledger: block %x has index %d, the tip is at %d", b.Hash[:8], b.Index, l.height)
	}
	m := l.p.Maturity
	u := &Undo{block: b.Hash}

	// Every balance the block changes is computed here first and written
	// only when the whole block is known to be valid.
	ch := l.changes(len(b.Txs))
	credit := func(a string, v uint64) error {
		n := ch.get(a)
		if n+v < n {
			return rule.Errorf(rule.Overflow, "balance of %s overflows", a)
		}
		ch.bal[a] = n + v
		return nil
	}

	immature := l.pending
	switch {
	case m == 0:
		if err := credit(b.Reward.Receiver, b.Reward.Amount); err != nil {
			return nil, err
		}
	case b.Index > m:
		// pending holds Maturity entries, the first being block b.Index-m.
		r := l.pending[0]
		if err := credit(r.receiver, r.amount); err != nil {
			return nil, err
		}
		u.matured, u.hasMatured = r, true
		immature = l.pending[1:]
	}

	var inBlock map[idKey]struct{}
	if len(b.Txs) > 1 {
		inBlock = make(map[idKey]struct{}, len(b.Txs))
	}
	keys := make([]idKey, len(b.Txs))
	for i, t := range b.Txs {
		k, ok := keyOf(t.Sender, t.ID)
		if !ok {
			return nil, rule.Errorf(rule.BadAddress, "transaction %d: sender is not an address", i+1)
		}
		keys[i] = k
		if r, ok := l.ids.get(k); ok && !expired(r.ts, parentMTP) {
			return nil, rule.Errorf(rule.DuplicateID, "transaction %d: %s already used id %x on the chain", i+1, t.Sender, t.ID)
		}
		if inBlock != nil {
			if _, dup := inBlock[k]; dup {
				return nil, rule.Errorf(rule.DuplicateID, "transaction %d: %s uses id %x twice in the block", i+1, t.Sender, t.ID)
			}
			inBlock[k] = struct{}{}
		}
		need, err := amount.Add(t.Amount, t.Fee)
		if err != nil {
			return nil, rule.Errorf(rule.Overflow, "transaction %d: amount %d + fee %d above the maximum", i+1, t.Amount, t.Fee)
		}
		have := ch.get(t.Sender)
		if have < need {
			if need-have <= sumFor(immature, t.Sender) {
				return nil, rule.Errorf(rule.ImmatureSpend, "transaction %d (id %x): %s has %d spendable, needs %d; the rest is immature reward", i+1, t.ID, t.Sender, have, need)
			}
			return nil, rule.Errorf(rule.InsufficientFunds, "transaction %d (id %x): %s has %d spendable, needs %d", i+1, t.ID, t.Sender, have, need)
		}
		ch.bal[t.Sender] = have - need
		if err := credit(t.Receiver, t.Amount); err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i+1, err)
		}
	}

	// The block is valid: commit.
	u.dropped = l.prune(parentMTP)
	ch.commit()
	if m > 0 {
		if u.hasMatured {
			l.pending = l.pending[1:]
		}
		l.pending = append(l.pending, reward{b.Reward.Receiver, b.Reward.Amount})
	}
	for i, t := range b.Txs {
		l.ids.put(keys[i], recentOf(t))
		l.expiry.push(heapEntry{keys[i].id, t.Timestamp})
	}
	l.height++
	l.tip = b.Hash
	return u, nil
}

// balanceChanges are the balances a block changes, computed before any is
// written, so that a block that breaks a rule leaves the ledger as it was.
type balanceChanges struct {
	l   *Ledger
	bal map[string]uint64
}

// changes returns an empty set of changes for a block of n transfers.
func (l *Ledger) changes(n int) *balanceChanges {
	return &balanceChanges{l, make(map[string]uint64, 2*n+2)}
}

// get returns a's balance with the changes so far.
func (c *balanceChanges) get(a string) uint64 {
	if v, ok := c.bal[a]; ok {
		return v
	}
	return c.l.bal[a]
}

// commit writes the changes into the ledger; a balance of zero is no
// entry.
func (c *balanceChanges) commit() {
	for a, v := range c.bal {
		if v == 0 {
			delete(c.l.bal, a)
		} else {
			c.l.bal[a] = v
		}
	}
}

// Disconnect takes back the tip block b with the Undo that Connect returned
// for it. It is an error (and the ledger is unchanged) when b is not the tip
// or u is not b's undo data.
func (l *Ledger) Disconnect(b *block.Block, u *Undo) error {
	if b.Hash != l.tip || b.Index != l.height || l.height == 0 {
		return fmt.Errorf("ledger: cannot disconnect block %x at %d: the tip is %x at %d", b.Hash[:8], b.Index, l.tip[:8], l.height)
	}
	if u == nil || u.block != b.Hash {
		return fmt.Errorf("ledger: undo data is not for block %x", b.Hash[:8])
	}
	m := l.p.Maturity
	if u.hasMatured != (m > 0 && b.Index > m) {
		return fmt.Errorf("ledger: undo data of block %x does not fit maturity %d", b.Hash[:8], m)
	}
	if m > 0 {
		last := l.pending[len(l.pending)-1]
		if last.receiver != b.Reward.Receiver || last.amount != b.Reward.Amount {
			return fmt.Errorf("ledger: the newest reward is not block %x's", b.Hash[:8])
		}
	}
	ch := l.changes(len(b.Txs))
	debit := func(a string, v uint64) error {
		n := ch.get(a)
		if n < v {
			return fmt.Errorf("ledger: cannot take back %d from %s holding %d: block %x was not connected here", v, a, n, b.Hash[:8])
		}
		ch.bal[a] = n - v
		return nil
	}
	// Exactly the reverse of Connect, so that no step goes below zero.
	for i := len(b.Txs) - 1; i >= 0; i-- {
		t := b.Txs[i]
		if err := debit(t.Receiver, t.Amount); err != nil {
			return err
		}
		ch.bal[t.Sender] = ch.get(t.Sender) + t.Amount + t.Fee
	}
	switch {
	case m == 0:
		if err := debit(b.Reward.Receiver, b.Reward.Amount); err != nil {
			return err
		}
	case u.hasMatured:
		if err := debit(u.matured.receiver, u.matured.amount); err != nil {
			return err
		}
	}

	ch.commit()
	if m > 0 {
		l.pending = l.pending[:len(l.pending)-1]
		if u.hasMatured {
			p := make([]reward, 0, len(l.pending)+1)
			p = append(p, u.matured)
			l.pending = append(p, l.pending...)
		}
	}
	for _, t := range b.Txs {
		if k, ok := keyOf(t.Sender, t.ID); ok {
			l.ids.del(k) // its heap entry goes stale; prune skips it
		}
	}
	for _, e := range u.dropped {
		l.ids.put(e.key, e.recent)
		l.expiry.push(heapEntry{e.key.id, e.ts})
	}
	l.height--
	l.tip = b.PrevHash
	return nil
}

// Clone returns an independent copy.
func (l *Ledger) Clone() *Ledger {
	c := &Ledger{
		p:       l.p,
		height:  l.height,
		tip:     l.tip,
		bal:     maps.Clone(l.bal),
		pending: append([]reward(nil), l.pending...),
		ids:     l.ids.clone(),
	}
	if c.bal == nil {
		c.bal = make(map[string]uint64)
	}
	c.expiry = heapOf(&c.ids) // drops stale entries
	return c
}
