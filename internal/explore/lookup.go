package explore

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/txindex"
)

// ErrIndexBehind is wrapped by the error of a lookup that would have to
// read more of the chain than Lookup.MaxLag allows because the transfer
// index is behind (or missing): the next write catches it up, cnj-chain
// reindex rebuilds it.
var ErrIndexBehind = errors.New("the transfer index is behind the chain")

// Lookup answers the questions that need the transfer index (package
// txindex): a transaction by txid, an address's history, page by page,
// and its totals. It reads the index up to the height where the index and
// the node's main chain agree (txindex.View.Agree) and the blocks above
// it, so that its answers are those of the node's chain whatever the
// index's lag. The node is used as the queries do (read-only: the caller
// holds it still).
type Lookup struct {
	N *node.Node
	X *txindex.Reader
	// MaxLag bounds the block lines a lookup reads above the index, in
	// bytes; 0 is no bound (cnj-chain: a lookup on a directory without an
	// index reads the whole chain, slowly but right).
	MaxLag int64
}

// Found is a transaction of the main chain or the mempool.
type Found struct {
	Tx     *tx.Tx     // a transfer; nil for a reward
	Reward *tx.Reward // a reward; nil for a transfer
	// Block is the transaction's block on the main chain, nil in the
	// mempool; Pos its place in the block's list (0: the reward).
	Block *chain.BlockNode
	Pos   int
	// Confirmations counts the tip and the blocks below it down to
	// Block (0 in the mempool).
	Confirmations uint64
}

// TxID returns the transaction's txid: a transfer's id, a reward's
// merkle leaf.
func (f *Found) TxID() []byte {
	if f.Tx != nil {
		return f.Tx.ID[:]
	}
	leaf := block.Leaf(f.Reward.Canonical())
	return leaf[:]
}

// Size is the length of the transaction's JSON object, as in its block.
func (f *Found) Size() int {
	if f.Tx != nil {
		return len(f.Tx.AppendJSON(nil))
	}
	return len(f.Reward.AppendJSON(nil))
}

// Fee is what a transfer pays its block's miner; 0 for a reward.
func (f *Found) Fee() uint64 {
	if f.Tx != nil {
		return f.Tx.Fee
	}
	return 0
}

// place is where a transaction is on the main chain, with how to read it
// fast when the index knows: where it is in its block's line.
type place struct {
	nd    *chain.BlockNode
	pos   int
	span  txindex.Span
	spans bool // span is known and the index's line is the node's
}

// view is what a lookup learns of the index in one read transaction.
type view struct {
	agree uint64 // the index and the chain agree up to here
	lag   []*chain.BlockNode
}

// agree reads the agreement of the index with the chain and the blocks
// above it, newest first, within MaxLag.
func (l Lookup) agree(v *txindex.View) (view, error) {
	c := l.N.Chain()
	var w view
	if v != nil {
		a, err := v.Agree(c)
		if err != nil {
			return w, err
		}
		w.agree = a
	}
	var size int64
	for nd := c.Tip(); nd.Height > w.agree; nd = nd.Parent {
		size += int64(nd.Loc.Length)
		if l.MaxLag > 0 && size > l.MaxLag {
			return w, fmt.Errorf("%w by %d blocks: it catches up at the next write; cnj-chain reindex rebuilds it", ErrIndexBehind, c.Tip().Height-w.agree)
		}
		w.lag = append(w.lag, nd)
	}
	return w, nil
}

// withView runs fn on the index's view, or on none when there is no
// usable index (the whole chain is then above it).
func (l Lookup) withView(fn func(v *txindex.View) error) error {
	if l.X == nil {
		return fn(nil)
	}
	err := l.X.View(fn)
	if errors.Is(err, txindex.ErrNoIndex) {
		return fn(nil)
	}
	return err
}

// placeOf returns where the transaction at loc is, with its span when the
// index has the block's record.
func (l Lookup) placeOf(v *txindex.View, loc txindex.Loc) (place, error) {
	nd := l.N.Chain().AtHeight(loc.Height)
	p := place{nd: nd, pos: int(loc.Pos)}
	hash, lineLen, sp, ok, err := v.Span(loc.Height, loc.Pos)
	if err != nil {
		return p, err
	}
	if ok && hash == nd.Hash && lineLen == nd.Loc.Length {
		p.span, p.spans = sp, true
	}
	return p, nil
}

// read reads the transaction at p: its span of the block line when
// known (checked: it decodes, and a transfer's hash is its own), else the
// whole block.
func (l Lookup) read(p place) (Found, error) {
	f := Found{Block: p.nd, Pos: p.pos, Confirmations: l.N.Chain().Tip().Height - p.nd.Height + 1}
	if p.spans {
		obj, err := l.N.Store().LinePart(p.nd.Loc, p.span.Off, p.span.Len)
		if err == nil && l.decode(&f, obj) == nil {
			return f, nil
		}
	}
	b, err := l.N.Chain().Block(p.nd)
	if err != nil {
		return f, err
	}
	if p.pos > len(b.Txs) {
		return f, fmt.Errorf("block %x has no transaction %d", p.nd.Hash[:8], p.pos)
	}
	if p.pos == 0 {
		f.Reward = &b.Reward
	} else {
		f.Tx = b.Txs[p.pos-1]
	}
	return f, nil
}

// readers is how many transactions of a page are read at once: each may
// decompress a frame of a sealed segment.
const readers = 4

// readAll reads the transactions at places, in order, several at once.
func (l Lookup) readAll(places []place) ([]Found, error) {
	out := make([]Found, len(places))
	errs := make([]error, len(places))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(readers, len(places)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(places) {
					return
				}
				out[i], errs[i] = l.read(places[i])
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// decode reads one transaction object of a block line into f.
func (l Lookup) decode(f *Found, obj []byte) error {
	if f.Pos == 0 {
		v, err := jsonl.Parse(obj)
		if err != nil {
			return err
		}
		r, err := tx.RewardFromValue(v)
		if err != nil {
			return err
		}
		if r.Index != f.Block.Height {
			return errors.New("the reward of another block")
		}
		f.Reward = r
		return nil
	}
	t, err := tx.Parse(obj)
	if err != nil {
		return err
	}
	if t.ComputeHash(l.N.Params().Hash()) != t.Hash {
		return errors.New("a transfer whose hash is not its own")
	}
	f.Tx = t
	return nil
}

// scanBlock calls fn with each transaction of block nd, last first.
func (l Lookup) scanBlock(nd *chain.BlockNode, fn func(Found) bool) (bool, error) {
	b, err := l.N.Chain().Block(nd)
	if err != nil {
		return false, err
	}
	conf := l.N.Chain().Tip().Height - nd.Height + 1
	for i := len(b.Txs); i >= 0; i-- {
		f := Found{Block: nd, Pos: i, Confirmations: conf}
		if i == 0 {
			f.Reward = &b.Reward
		} else {
			f.Tx = b.Txs[i-1]
		}
		if !fn(f) {
			return false, nil
		}
	}
	return true, nil
}

// FindTx finds the transaction with this txid (16 bytes: a transfer's id;
// 32: a reward's merkle leaf) on the main chain, newest first, then in
// the mempool. Its error wraps ErrNotFound when there is none,
// ErrIndexBehind when the index lags more than MaxLag.
func (l Lookup) FindTx(txid []byte) (Found, error) {
	if len(txid) != 16 && len(txid) != 32 {
		return Found{}, badRef("a txid is 32 hex digits (a transfer) or 64 (a reward)")
	}
	var found Found
	var ok bool
	var places []place
	err := l.withView(func(v *txindex.View) error {
		w, err := l.agree(v)
		if err != nil {
			return err
		}
		for _, nd := range w.lag {
			if (len(txid) == 16 && nd.TxCount == 0) || ok {
				continue
			}
			if _, err := l.scanBlock(nd, func(f Found) bool {
				if bytes.Equal(f.TxID(), txid) {
					found, ok = f, true
					return false
				}
				return true
			}); err != nil {
				return err
			}
		}
		if ok || v == nil {
			return nil
		}
		var locs []txindex.Loc
		if err := v.Lookup(txid, func(loc txindex.Loc) bool {
			if loc.Height <= w.agree {
				locs = append(locs, loc)
			}
			return true
		}); err != nil {
			return err
		}
		slices.SortFunc(locs, func(a, b txindex.Loc) int {
			if b.Less(a) {
				return -1
			}
			return 1
		})
		for _, loc := range locs {
			p, err := l.placeOf(v, loc)
			if err != nil {
				return err
			}
			places = append(places, p)
		}
		return nil
	})
	if err != nil || ok {
		return found, err
	}
	for _, p := range places {
		f, err := l.read(p)
		if err != nil {
			return f, err
		}
		if bytes.Equal(f.TxID(), txid) {
			return f, nil
		}
	}
	if len(txid) == 16 {
		for _, t := range l.N.Pool.Txs() {
			if bytes.Equal(t.ID[:], txid) {
				return Found{Tx: t}, nil
			}
		}
	}
	return Found{}, notFound("%x: no such transaction on the main chain or in the mempool", txid)
}

// Payload returns the payload of an address of the node's network, or
// the address's error (bad-address, wrong-network).
func (l Lookup) Payload(addr string) ([txindex.PayloadSize]byte, error) {
	hrp, p, err := keys.ParseAddress(addr)
	if err != nil || hrp != l.N.Params().AddressPrefix {
		return p, CheckAddress(l.N, addr) // its error, worded as everywhere
	}
	return p, nil
}

// History calls fn with the transactions of addr on the main chain,
// newest first, from the one after the transaction whose txid is after
// (nil: from the newest), until fn returns false or n have been given
// (n <= 0: no bound). A txid after that is not in addr's history wraps
// ErrNotFound.
func (l Lookup) History(addr string, after []byte, n int, fn func(Found) bool) error {
	p, err := l.Payload(addr)
	if err != nil {
		return err
	}
	var places []place
	var lagged []Found
	err = l.withView(func(v *txindex.View) error {
		w, err := l.agree(v)
		if err != nil {
			return err
		}
		seen := after == nil
		full := func() bool { return n > 0 && len(lagged)+len(places) >= n }
		for _, nd := range w.lag {
			if full() {
				return nil
			}
			if _, err := l.scanBlock(nd, func(f Found) bool {
				if !involves(&f, addr) {
					return true
				}
				if !seen {
					seen = bytes.Equal(f.TxID(), after)
					return true
				}
				lagged = append(lagged, f)
				return !full()
			}); err != nil {
				return err
			}
		}
		if v == nil {
			if !seen {
				return notFound("%x: not in the history of %s", after, addr)
			}
			return nil
		}
		before := txindex.End
		if !seen {
			loc, ok, err := l.locate(v, w, p, after)
			if err != nil {
				return err
			}
			if !ok {
				return notFound("%x: not in the history of %s", after, addr)
			}
			before = loc
		}
		var perr error
		err = v.History(p, before, func(e txindex.Entry) bool {
			if e.Height > w.agree {
				return true
			}
			pl, err := l.placeOf(v, e.Loc)
			if err != nil {
				perr = err
				return false
			}
			places = append(places, pl)
			return !full()
		})
		if perr != nil {
			return perr
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, f := range lagged {
		if !fn(f) {
			return nil
		}
	}
	fs, err := l.readAll(places)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if !fn(f) {
			return nil
		}
	}
	return nil
}

// locate returns where the transaction with this txid is in the history
// of the address whose payload is p, on the part of the chain the index
// agrees with.
func (l Lookup) locate(v *txindex.View, w view, p [txindex.PayloadSize]byte, txid []byte) (txindex.Loc, bool, error) {
	if len(txid) != 16 && len(txid) != 32 {
		return txindex.Loc{}, false, nil
	}
	var at txindex.Loc
	ok := false
	var rerr error
	err := v.Lookup(txid, func(loc txindex.Loc) bool {
		if loc.Height > w.agree {
			return true
		}
		// The id may be at more than one place (ids are unique per
		// sender): the place in this history, with this very txid.
		in := false
		v.History(p, txindex.Loc{Height: loc.Height, Pos: loc.Pos + 1}, func(e txindex.Entry) bool {
			in = e.Loc == loc
			return false
		})
		if !in {
			return true
		}
		pl, err := l.placeOf(v, loc)
		if err != nil {
			rerr = err
			return false
		}
		f, err := l.read(pl)
		if err != nil {
			rerr = err
			return false
		}
		if bytes.Equal(f.TxID(), txid) {
			at, ok = loc, true
			return false
		}
		return true
	})
	if rerr != nil {
		return at, false, rerr
	}
	return at, ok, err
}

// involves reports whether addr receives, sends or mines f.
func involves(f *Found, addr string) bool {
	if f.Reward != nil {
		return f.Reward.Receiver == addr
	}
	return f.Tx.Sender == addr || f.Tx.Receiver == addr
}

// Stats returns addr's totals on the main chain (Esplora's chain_stats):
// the index's, corrected by the blocks above where it agrees with the
// chain, and by those of the branch it is on above there.
func (l Lookup) Stats(addr string) (txindex.Stats, error) {
	p, err := l.Payload(addr)
	if err != nil {
		return txindex.Stats{}, err
	}
	var s txindex.Stats
	var extra, taken []*chain.BlockNode
	err = l.withView(func(v *txindex.View) error {
		w, err := l.agree(v)
		if err != nil {
			return err
		}
		extra = w.lag
		if v == nil {
			return nil
		}
		if s, err = v.Stats(p); err != nil {
			return err
		}
		// Blocks the index holds above the agreement: take them out.
		hash, height, err := v.Tip()
		if err != nil {
			return err
		}
		c := l.N.Chain()
		nd := c.Node(hash)
		if height > w.agree && nd == nil {
			// The index is ahead of this node, which has not followed the
			// directory yet: its totals are of a chain a moment newer.
			extra = nil
			return nil
		}
		for ; nd != nil && nd.Height > w.agree; nd = nd.Parent {
			taken = append(taken, nd)
		}
		return nil
	})
	if err != nil {
		return s, err
	}
	for _, nd := range extra {
		if err := l.addBlock(&s, nd, addr, false); err != nil {
			return s, err
		}
	}
	for _, nd := range taken {
		if err := l.addBlock(&s, nd, addr, true); err != nil {
			return s, err
		}
	}
	return s, nil
}

// addBlock adds what block nd gives addr to s, or takes it out.
func (l Lookup) addBlock(s *txindex.Stats, nd *chain.BlockNode, addr string, out bool) error {
	_, err := l.scanBlock(nd, func(f Found) bool {
		if !involves(&f, addr) {
			return true
		}
		d := Totals([]Found{f}, addr)
		if out {
			s.FundedCount -= d.FundedCount
			s.FundedSum = s.FundedSum.Sub(d.FundedSum.Lo)
			s.SpentCount -= d.SpentCount
			s.SpentSum = s.SpentSum.Sub(d.SpentSum.Lo)
			s.TxCount -= d.TxCount
		} else {
			s.FundedCount += d.FundedCount
			s.FundedSum = s.FundedSum.Add(d.FundedSum.Lo)
			s.SpentCount += d.SpentCount
			s.SpentSum = s.SpentSum.Add(d.SpentSum.Lo)
			s.TxCount += d.TxCount
		}
		return true
	})
	return err
}

// Totals returns what the transactions fs give addr, counted as
// Esplora's chain_stats and mempool_stats count them: outputs paid to it
// (transfers received, rewards) and their sum, transfers it sent and
// their cost (amount and fee), and the transactions.
func Totals(fs []Found, addr string) txindex.Stats {
	var s txindex.Stats
	for i := range fs {
		f := &fs[i]
		if !involves(f, addr) {
			continue
		}
		s.TxCount++
		if f.Reward != nil {
			s.FundedCount++
			s.FundedSum = s.FundedSum.Add(f.Reward.Amount)
			continue
		}
		if f.Tx.Receiver == addr {
			s.FundedCount++
			s.FundedSum = s.FundedSum.Add(f.Tx.Amount)
		}
		if f.Tx.Sender == addr {
			s.SpentCount++
			s.SpentSum = s.SpentSum.Add(f.Tx.Amount + f.Tx.Fee)
		}
	}
	return s
}

// Pending returns the mempool's transfers that addr sends or receives,
// in admission order, at most n of them (n <= 0: all).
func Pending(n *node.Node, addr string, max int) []Found {
	var out []Found
	for _, t := range n.Pool.Txs() {
		if t.Sender == addr || t.Receiver == addr {
			out = append(out, Found{Tx: t})
			if max > 0 && len(out) == max {
				break
			}
		}
	}
	return out
}

// BlockTxs returns the transactions of block nd (its reward first) from
// index start on, at most n of them.
func BlockTxs(n *node.Node, nd *chain.BlockNode, start, max int) ([]Found, error) {
	if nd.Parent == nil {
		return nil, nil
	}
	b, err := n.Chain().Block(nd)
	if err != nil {
		return nil, err
	}
	var conf uint64
	if n.Chain().AtHeight(nd.Height) == nd {
		conf = n.Chain().Tip().Height - nd.Height + 1
	}
	var out []Found
	for i := start; i <= len(b.Txs) && len(out) < max; i++ {
		f := Found{Block: nd, Pos: i, Confirmations: conf}
		if i == 0 {
			f.Reward = &b.Reward
		} else {
			f.Tx = b.Txs[i-1]
		}
		out = append(out, f)
	}
	return out, nil
}
