package mempool

import (
	"bytes"
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// MempoolFull is the verdict on a transfer refused because the pool is full
// and it pays no more than the cheapest transfer already there. It is node
// policy, not consensus: another node, or this one later, may take it.
const MempoolFull rule.Code = "mempool-full"

// DefaultMaxTxs bounds a pool when New is given no bound: about 25 MB of
// transfers, some 50 full blocks.
const DefaultMaxTxs = 50_000

// ErrKnown reports that the very same transfer is already in the pool. It is
// not a verdict (rule.CodeOf returns ""): callers pass it over quietly.
var ErrKnown = errors.New("transfer already in the mempool")

// Ledger is what the pool asks of the chain at its tip; *ledger.Ledger
// satisfies it.
type Ledger interface {
	// CanSpend returns nil when a transfer in the next block could spend
	// need from addr, else an insufficient-funds or immature-spend error.
	CanSpend(addr string, need uint64) error
	// HasID reports whether the pair (sender, id) is among the chain's
	// recent transfer ids.
	HasID(sender string, id [16]byte) bool
}

// Pool holds pending transfers. The zero Pool is not usable; call New.
type Pool struct {
	p   *params.Params
	max int

	mu     sync.Mutex
	byHash map[[32]byte]*entry
	byID   map[senderID]*entry // ids are scoped to their sender
	out    map[string]uint64   // sender -> sum of amount+fee pending
	in     map[string]uint64   // receiver -> sum of amount pending
	cheap  cheapHeap           // eviction order
	seq    uint64              // admissions so far
	// evicted holds the transfers pushed out since the last TakeEvicted,
	// each with the one that pushed it out.
	evicted []Eviction
}

// Eviction is a pooled transfer pushed out of the full pool by one that
// pays a higher fee.
type Eviction struct {
	Tx, By *tx.Tx
}

// senderID is a transfer's id with its sender: two senders may use one id.
type senderID struct {
	sender string
	id     [16]byte
}

func keyOf(t *tx.Tx) senderID { return senderID{t.Sender, t.ID} }

// entry is one pooled transfer.
type entry struct {
	tx   *tx.Tx
	size int    // length of its JSON line
	seq  uint64 // admission order: higher is newer
	heap int    // index in Pool.cheap
}

// New returns an empty pool for network p holding at most maxTxs transfers
// (DefaultMaxTxs when maxTxs <= 0).
func New(p *params.Params, maxTxs int) *Pool {
	if maxTxs <= 0 {
		maxTxs = DefaultMaxTxs
	}
	m := &Pool{p: p, max: maxTxs}
	m.reset()
	return m
}

func (m *Pool) reset() {
	m.byHash = make(map[[32]byte]*entry)
	m.byID = make(map[senderID]*entry)
	m.out = make(map[string]uint64)
	m.in = make(map[string]uint64)
	m.cheap = nil
}

// Add admits t as pending if it is valid in the next block on led and the
// pool has room, checking its signature. It returns ErrKnown when t is
// already in the pool, a *rule.Error when t is refused (see the package
// documentation for the codes), nil when t was added. now is the node's
// clock, Unix seconds. The pool keeps t: the caller must not change it.
func (m *Pool) Add(t *tx.Tx, led Ledger, now int64) error {
	return m.add(t, led, now, true)
}

// AddVerified is Add for a transfer whose signature the caller has already
// verified (consensus.VerifySignatures over a batch, say); every other
// check is made.
func (m *Pool) AddVerified(t *tx.Tx, led Ledger, now int64) error {
	return m.add(t, led, now, false)
}

func (m *Pool) add(t *tx.Tx, led Ledger, now int64, verify bool) error {
	if m.known(t) {
		return ErrKnown
	}
	// The signature is checked outside the lock: it is the costly part.
	check := consensus.CheckTxForm
	if verify {
		check = consensus.CheckTx
	}
	if err := check(t, m.p); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.knownLocked(t) {
		return ErrKnown
	}
	_, err := m.admit(t, led, now)
	return err
}

// known reports whether this very transfer is in the pool. A transfer that
// only claims the hash of a pooled one is not known: the checks refuse it.
func (m *Pool) known(t *tx.Tx) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.knownLocked(t)
}

func (m *Pool) knownLocked(t *tx.Tx) bool {
	e := m.byHash[t.Hash]
	return e != nil && *e.tx == *t
}

// admit makes the checks that depend on the chain, the clock and the pool,
// and inserts t, evicting the cheapest transfer when the pool is full. It
// returns the evicted transfer, if any.
func (m *Pool) admit(t *tx.Tx, led Ledger, now int64) (evicted *tx.Tx, err error) {
	if !consensus.TxTimeOK(t.Timestamp, now) {
		return nil, rule.Errorf(rule.BadTxTime, "timestamp %d outside [%d, %d]", t.Timestamp, now-params.TxWindowAfter, now+params.TxWindowBefore)
	}
	if led.HasID(t.Sender, t.ID) {
		return nil, rule.Errorf(rule.DuplicateID, "%s already used id %x on the chain", t.Sender, t.ID)
	}
	if m.byID[keyOf(t)] != nil {
		return nil, rule.Errorf(rule.DuplicateID, "%s already uses id %x in the mempool", t.Sender, t.ID)
	}
	if err := m.funds(t, led); err != nil {
		return nil, err
	}
	if len(m.byHash) >= m.max {
		low := m.cheap[0]
		if t.Fee <= low.tx.Fee {
			return nil, rule.Errorf(MempoolFull, "mempool holds %d transfers and fee %d is not above the lowest, %d", len(m.byHash), t.Fee, low.tx.Fee)
		}
		m.remove(low)
		evicted = low.tx
		m.evicted = append(m.evicted, Eviction{Tx: low.tx, By: t})
	}
	m.insert(t)
	return evicted, nil
}

// TakeEvicted returns the transfers Add, AddVerified or Update pushed out
// of the full pool since the last call, oldest first, and forgets them:
// the caller rewrites mempool.jsonl and logs them (rule.Evicted).
func (m *Pool) TakeEvicted() []Eviction {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev := m.evicted
	m.evicted = nil
	return ev
}

// funds checks that the sender can spend t's amount+fee on top of what it
// already has pending out of the pool.
func (m *Pool) funds(t *tx.Tx, led Ledger) error {
	pending := m.out[t.Sender]
	need, err := amount.Add(t.Amount, t.Fee)
	if err == nil {
		need, err = amount.Add(need, pending)
	}
	if err != nil {
		return rule.Errorf(rule.InsufficientFunds, "%s: amount+fee with %d pending in the mempool above the maximum amount", t.Sender, pending)
	}
	if err := led.CanSpend(t.Sender, need); err != nil {
		if pending > 0 {
			return fmt.Errorf("%w (with %d pending in the mempool)", err, pending)
		}
		return err
	}
	return nil
}

func (m *Pool) insert(t *tx.Tx) { m.insertSized(t, len(t.AppendJSON(nil))) }

// insertSized inserts t, whose JSON line is size bytes long.
func (m *Pool) insertSized(t *tx.Tx, size int) {
	m.seq++
	e := &entry{tx: t, size: size, seq: m.seq}
	m.byHash[t.Hash] = e
	m.byID[keyOf(t)] = e
	m.out[t.Sender] += t.Amount + t.Fee
	m.in[t.Receiver] += t.Amount
	heap.Push(&m.cheap, e)
}

func (m *Pool) remove(e *entry) {
	t := e.tx
	delete(m.byHash, t.Hash)
	delete(m.byID, keyOf(t))
	sub(m.out, t.Sender, t.Amount+t.Fee)
	sub(m.in, t.Receiver, t.Amount)
	heap.Remove(&m.cheap, e.heap)
}

// sub takes v from s's sum and forgets s at zero, so that the maps do not
// grow with every address ever seen.
func sub(sums map[string]uint64, s string, v uint64) {
	if sums[s] <= v {
		delete(sums, s)
		return
	}
	sums[s] -= v
}

// Has reports whether the transfer with this hash is in the pool.
func (m *Pool) Has(hash [32]byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byHash[hash] != nil
}

// Get returns the pooled transfer with this hash, or nil. The caller must
// not change it.
func (m *Pool) Get(hash [32]byte) *tx.Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.byHash[hash]; e != nil {
		return e.tx
	}
	return nil
}

// HasID reports whether a transfer in the pool has this id, from any
// sender: a walk over the pool (HasSenderID looks one pair up).
func (m *Pool) HasID(id [16]byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.byID {
		if k.id == id {
			return true
		}
	}
	return false
}

// HasSenderID reports whether a transfer of sender in the pool has this id.
func (m *Pool) HasSenderID(sender string, id [16]byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byID[senderID{sender, id}] != nil
}

// Len returns the number of transfers in the pool.
func (m *Pool) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byHash)
}

// Txs returns the transfers in the order they were admitted, oldest first:
// the order in which Load takes them back.
func (m *Pool) Txs() []*tx.Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.entries()
	slices.SortFunc(es, func(a, b *entry) int { return cmp.Compare(a.seq, b.seq) })
	txs := make([]*tx.Tx, len(es))
	for i, e := range es {
		txs[i] = e.tx
	}
	return txs
}

func (m *Pool) entries() []*entry {
	es := make([]*entry, 0, len(m.byHash))
	for _, e := range m.byHash {
		es = append(es, e)
	}
	return es
}

// Pending is the net effect of the pool on addr: what pending transfers pay
// it minus what it pays in amounts and fees.
func (m *Pool) Pending(addr string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(m.in[addr]) - int64(m.out[addr])
}

// Drop is a transfer Update took out of the pool unmined, and why: the
// rule error that refused it again (funds, ids, time window), or a
// rule.Evicted error when a transfer paying more took its place.
type Drop struct {
	Tx  *tx.Tx
	Err error
}

// Update brings the pool to a new tip, after led has connected the blocks
// of connected and disconnected those of disconnected (in any order; they
// are put back in chain order). It forgets the transfers the connected
// blocks carry, puts back those of the disconnected blocks that the new
// branch does not carry, and then keeps only what is still valid against
// led at time now, re-checked in chain order for put-back transfers and in
// admission order for the others. It returns the transfers it dropped,
// refused (funds, ids, time window) or evicted, each with its reason:
// callers log them. Mined transfers are not returned. Update(nil, nil,
// led, now) expires transfers that have left the time window.
func (m *Pool) Update(connected, disconnected []*block.Block, led Ledger, now int64) []Drop {
	m.mu.Lock()
	defer m.mu.Unlock()
	mined := make(map[[32]byte]bool)
	for _, b := range connected {
		for _, t := range b.Txs {
			mined[t.Hash] = true
		}
	}
	old := m.entries()
	slices.SortFunc(old, func(a, b *entry) int { return cmp.Compare(a.seq, b.seq) })
	cands := make([]*tx.Tx, 0, len(old))
	seen := make(map[[32]byte]bool, len(old))
	for _, e := range old {
		seen[e.tx.Hash] = true
	}
	back := slices.Clone(disconnected)
	slices.SortStableFunc(back, func(a, b *block.Block) int { return cmp.Compare(a.Index, b.Index) })
	for _, b := range back {
		for _, t := range b.Txs {
			if !mined[t.Hash] && !seen[t.Hash] {
				seen[t.Hash] = true
				cands = append(cands, t)
			}
		}
	}
	for _, e := range old {
		if !mined[e.tx.Hash] {
			cands = append(cands, e.tx)
		}
	}
	m.reset()
	var dropped []Drop
	for _, t := range cands {
		// Put-back transfers passed consensus in their block and pool
		// transfers passed Add: only the context can have changed.
		ev, err := m.admit(t, led, now)
		if err != nil {
			dropped = append(dropped, Drop{t, err})
		}
		if ev != nil {
			dropped = append(dropped, Drop{ev, rule.Errorf(rule.Evicted, "the mempool is full: left it for transfer %x at fee %d", t.ID, t.Fee)})
		}
	}
	return dropped
}

// Template picks the transfers for a block stamped blockTime on top of led:
// highest fee first (then earliest timestamp, then lowest id), each taken
// only if it is valid at that point of the block, with balances as the
// earlier picks change them (a transfer may spend what an earlier one in the
// block pays its sender), and only while the transfers' share of the block
// line, each transfer's JSON and one comma, stays at most maxBytes. The
// caller passes the room the block's size limit leaves beside its header
// and reward. The result is the same for the same pool, ledger and
// arguments.
func (m *Pool) Template(led Ledger, blockTime int64, maxBytes int) []*tx.Tx {
	m.mu.Lock()
	es := m.entries()
	m.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry) int {
		if c := cmp.Compare(b.tx.Fee, a.tx.Fee); c != 0 {
			return c
		}
		if c := cmp.Compare(a.tx.Timestamp, b.tx.Timestamp); c != 0 {
			return c
		}
		if c := bytes.Compare(a.tx.ID[:], b.tx.ID[:]); c != 0 {
			return c
		}
		return bytes.Compare(a.tx.Hash[:], b.tx.Hash[:])
	})
	spent := make(map[string]uint64) // amount+fee each sender pays in the block
	credit := make(map[string]uint64)
	ids := make(map[senderID]bool)
	var picked []*tx.Tx
	used := 0
	for _, e := range es {
		t := e.tx
		if used+e.size+1 > maxBytes || !consensus.TxTimeOK(t.Timestamp, blockTime) || ids[keyOf(t)] || led.HasID(t.Sender, t.ID) {
			continue
		}
		// The sender's balance at this point is its ledger balance plus
		// credit minus spent; the ledger must cover the rest.
		total := spent[t.Sender] + t.Amount + t.Fee
		if c := credit[t.Sender]; total > c && led.CanSpend(t.Sender, total-c) != nil {
			continue
		}
		picked = append(picked, t)
		used += e.size + 1
		ids[keyOf(t)] = true
		spent[t.Sender] = total
		credit[t.Receiver] += t.Amount
	}
	return picked
}

// Load rebuilds the pool from the lines of mempool.jsonl, each a transfer
// line without newline, checking each as Add does (signatures in batches).
// Empty lines are skipped. It returns how many lines it dropped: lines that
// do not decode and transfers refused; a line repeating a transfer already
// in the pool is not counted.
func (m *Pool) Load(lines [][]byte, led Ledger, now int64) (dropped int) {
	const batch = 256
	txs := make([]*tx.Tx, 0, batch)
	flush := func() {
		add := m.AddVerified
		if consensus.VerifySignatures(txs) != nil {
			add = m.Add // find the bad ones one by one
		}
		for _, t := range txs {
			if err := add(t, led, now); err != nil && !errors.Is(err, ErrKnown) {
				dropped++
			}
		}
		txs = txs[:0]
	}
	for _, line := range lines {
		if len(line) == 0 {
			continue
		}
		if len(line) > params.MaxTxLine {
			dropped++
			continue
		}
		t, err := tx.Parse(line)
		if err != nil {
			dropped++
			continue
		}
		if txs = append(txs, t); len(txs) == batch {
			flush()
		}
	}
	flush()
	return dropped
}

// cheapHeap orders entries for eviction: lowest fee first, and of equal
// fees the newest first.
type cheapHeap []*entry

func (h cheapHeap) Len() int { return len(h) }
func (h cheapHeap) Less(i, j int) bool {
	if h[i].tx.Fee != h[j].tx.Fee {
		return h[i].tx.Fee < h[j].tx.Fee
	}
	return h[i].seq > h[j].seq
}
func (h cheapHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heap, h[j].heap = i, j
}
func (h *cheapHeap) Push(x any) {
	e := x.(*entry)
	e.heap = len(*h)
	*h = append(*h, e)
}
func (h *cheapHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
