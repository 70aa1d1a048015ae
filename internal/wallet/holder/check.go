package holder

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/webclient"
)

// Source is one source node as the wallet found it: its chain, checked,
// and what it said that the proofs contradict.
type Source struct {
	Addr  string // HOST:PORT of its web app
	Tip   webclient.Tip
	Chain *Chain // its header chain, checked; nil when it lied about it
	// Stale: its chain has less work than the held one and leaves it at
	// most MaxStaleFork blocks below its tip (a branch it has not left
	// yet); Behind: its chain is a part of the held one.
	Stale, Behind bool
	Lies          []string
}

func (s *Source) lie(format string, args ...any) {
	l := fmt.Sprintf(format, args...)
	if !slices.Contains(s.Lies, l) { // a session may judge a chain twice (caughtUp)
		s.Lies = append(s.Lies, l)
	}
}

// Session is a run of the wallet against its sources: the network, the
// held header chain, brought up to the most work any source proves.
type Session struct {
	P       *params.Params
	Store   *Store
	Sources []*Source
	wc      *webclient.Client
	// now is the clock headers are judged by; caughtUp is set once the
	// session fetched the headers again for an entry above them.
	now      func() int64
	caughtUp bool
}

// Held returns the held header chain.
func (ss *Session) Held() *Chain { return ss.Store.Chain }

// Close lets go of the held chain.
func (ss *Session) Close() error { return ss.Store.Close() }

// Lies returns the lies of every source, each as "source ADDR: WHAT".
func (ss *Session) Lies() []string {
	var out []string
	for _, s := range ss.Sources {
		for _, l := range s.Lies {
			out = append(out, "source "+s.Addr+": "+l)
		}
	}
	return out
}

// sync fetches every source's header chain, adopts the one with the most
// work (the held chain stays when none has more), and judges each
// source's chain against it.
func (ss *Session) sync(ctx context.Context, now int64) error {
	best := ss.Held()
	for _, s := range ss.Sources {
		tip, err := ss.wc.Tip(ctx, s.Addr)
		if err != nil {
			return fmt.Errorf("source node %s did not answer: %w", s.Addr, err)
		}
		s.Tip = tip
		c, _, err := Fetch(ctx, ss.wc, s.Addr, ss.Held(), tip, now)
		if IsLie(err) {
			s.lie("%v", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("source node %s: %w", s.Addr, err)
		}
		s.Chain = c
		if c.Work().Cmp(best.Work()) > 0 {
			best = c
		}
	}
	if best != ss.Held() {
		if err := ss.Store.Adopt(best); err != nil {
			return err
		}
	}
	for _, s := range ss.Sources {
		if s.Chain == nil || s.Chain == best {
			continue
		}
		fork := forkHeight(s.Chain, best)
		switch {
		case fork == s.Chain.Height():
			s.Behind = true
		case s.Chain.Work().Cmp(best.Work()) < 0 && s.Chain.Height()-fork > MaxStaleFork:
			s.lie("a header chain with less work than the %d headers held (%x, against %x): it leaves them at height %d, %d blocks below its tip",
				best.Height(), s.Chain.Work(), best.Work(), fork, s.Chain.Height()-fork)
		default:
			s.Stale = true
		}
	}
	return nil
}

// forkHeight is the height of the last block a and b share.
func forkHeight(a, b *Chain) uint64 {
	h := min(a.Height(), b.Height())
	for h > 0 && a.Hash(h) != b.Hash(h) {
		h--
	}
	return h
}

// Entry is one transaction of the wallet's address as a source reports
// it, with what the wallet made of it.
type Entry struct {
	At   webclient.TxAt
	Kind string // "in", "out", "self" or "reward"
	// Amount is what the entry moves, Fee what the address pays for it
	// (an outgoing transfer's fee).
	Amount, Fee   uint64
	Counterparty  string
	Confirmations uint64 // in the held chain; 0 when pending
	// Verified: a confirmed entry whose transfer, merkle proof and block
	// the wallet checked against the held chain.
	Verified bool
	Source   string // the source that reported it first
}

// TxID is the entry's txid in hex.
func (e *Entry) TxID() string { return hex.EncodeToString(e.At.TxID) }

// entryOf reads what at means for addr; the error says why at is not the
// address's at all.
func entryOf(at webclient.TxAt, addr string) (Entry, error) {
	e := Entry{At: at}
	switch {
	case at.Reward != nil:
		if at.Reward.Receiver != addr {
			return e, fmt.Errorf("reward of block %d pays %s, not this address", at.Reward.Index, at.Reward.Receiver)
		}
		e.Kind, e.Amount = "reward", at.Reward.Amount
	case at.Transfer.Sender == addr && at.Transfer.Receiver == addr:
		e.Kind, e.Amount, e.Fee, e.Counterparty = "self", at.Transfer.Amount, at.Transfer.Fee, addr
	case at.Transfer.Sender == addr:
		e.Kind, e.Amount, e.Fee, e.Counterparty = "out", at.Transfer.Amount, at.Transfer.Fee, at.Transfer.Receiver
	case at.Transfer.Receiver == addr:
		e.Kind, e.Amount, e.Counterparty = "in", at.Transfer.Amount, at.Transfer.Sender
	default:
		return e, fmt.Errorf("transfer %s neither pays nor is paid by this address", hex.EncodeToString(at.TxID))
	}
	return e, nil
}

// check checks what source s reports of one transaction of addr. A
// transfer must pass the network's checks of a transfer (its hash over
// every field, so an altered amount fails, and its signature). A
// confirmed entry must name a block of the held chain, and its merkle
// proof must lead from its leaf to that block's merkle root. It returns
// the entry, verified or not, or the Lie that it is. An entry in a block
// that only a stale source's branch holds is neither verified nor a lie.
func (ss *Session) check(ctx context.Context, s *Source, addr string, at webclient.TxAt) (Entry, error) {
	e, err := entryOf(at, addr)
	if err != nil {
		return e, &Lie{What: "reports a transaction that is not the address's: " + err.Error()}
	}
	e.Source = s.Addr
	if at.Transfer != nil {
		if err := consensus.CheckTx(at.Transfer, ss.P); err != nil {
			return e, &Lie{What: fmt.Sprintf("transfer %s is altered: %v", e.TxID(), err)}
		}
	}
	if !at.Confirmed {
		if at.Reward != nil {
			return e, &Lie{What: "reports a reward outside any block"}
		}
		return e, nil
	}
	held := ss.Held()
	name := "transfer " + e.TxID()
	if at.Reward != nil {
		name = fmt.Sprintf("the reward of block %d", at.Height)
		if at.Reward.Index != at.Height {
			return e, &Lie{What: fmt.Sprintf("%s is the reward of block %d", name, at.Reward.Index)}
		}
	}
	if at.Height > held.Height() && !ss.caughtUp {
		// The sources' chains grew since the session fetched their
		// headers (a block found meanwhile): fetch them again, once a
		// session, before an entry above them is called invented.
		ss.caughtUp = true
		now := time.Now().Unix()
		if ss.now != nil {
			now = ss.now()
		}
		if err := ss.sync(ctx, now); err != nil {
			return e, err
		}
		held = ss.Held()
	}
	if at.Height == 0 || at.Height > held.Height() || held.Hash(at.Height) != at.Block {
		if s.Stale && s.Chain != nil && at.Height <= s.Chain.Height() && at.Height > 0 && s.Chain.Hash(at.Height) == at.Block {
			return e, nil // on the source's own branch, which the held chain left
		}
		return e, &Lie{What: fmt.Sprintf("an invented entry: %s is said to be in block %d (%x), which is not in the %d headers held", name, at.Height, at.Block[:8], held.Height())}
	}
	proof, err := ss.wc.MerkleProof(ctx, s.Addr, at.TxID)
	var se *webclient.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return e, &Lie{What: fmt.Sprintf("an invented entry: %s is said to be in block %d, and has no merkle proof", name, at.Height)}
	}
	if err != nil {
		return e, fmt.Errorf("source node %s: %w", s.Addr, err)
	}
	var leaf [32]byte
	if at.Reward != nil {
		leaf = block.Leaf(at.Reward.Canonical())
	} else {
		leaf = block.Leaf(at.Transfer.Canonical(ss.P.Hash()))
	}
	hdr := held.Header(at.Height)
	if proof.Height != at.Height || (at.Reward != nil) != (proof.Pos == 0) ||
		!block.VerifyProof(leaf, proof.Pos, proof.Count, proof.Path, hdr.MerkleRoot) {
		return e, &Lie{What: fmt.Sprintf("a proof that does not match: the merkle proof of %s does not lead to the merkle root of block %d", name, at.Height)}
	}
	e.Verified = true
	e.Confirmations = held.Height() - at.Height + 1
	return e, nil
}

// Report is what the sources proved of an address: its entries, oldest
// first then pending, each once, and how many were checked.
type Report struct {
	Address   string
	Entries   []Entry
	Confirmed int    // confirmed entries reported
	Verified  int    // of which verified
	Headers   uint64 // the held chain's height
}

// history reads addr's history from every source, checks every entry,
// compares what the sources report, and compares each source's balance
// with the sum of what it proved. The lies are recorded on the sources.
func (ss *Session) history(ctx context.Context, addr string) (*Report, error) {
	r := &Report{Address: addr, Headers: ss.Held().Height()}
	seen := map[string]int{} // txid -> index in r.Entries
	reported := make([]map[string]bool, len(ss.Sources))
	for i, s := range ss.Sources {
		reported[i] = map[string]bool{}
		if s.Chain == nil {
			continue // its headers were a lie: nothing it says can be checked
		}
		claim, err := ss.wc.Balance(ctx, s.Addr, addr)
		if err != nil {
			return nil, fmt.Errorf("source node %s: %w", s.Addr, err)
		}
		chain, pending, err := ss.wc.History(ctx, s.Addr, addr)
		if err != nil {
			return nil, fmt.Errorf("source node %s: %w", s.Addr, err)
		}
		var own []Entry
		lied := false
		for _, at := range append(chain, pending...) {
			e, err := ss.check(ctx, s, addr, at)
			if IsLie(err) {
				s.lie("%v", err)
				lied = true
				continue
			}
			if err != nil {
				return nil, err
			}
			reported[i][e.TxID()] = true
			own = append(own, e)
		}
		if !lied && !s.Stale && claim.Height <= ss.Held().Height() {
			sum, ok := sumAt(own, claim.Height, ss.P.Maturity)
			switch {
			case !ok:
				s.lie("an omission: the entries it reports up to height %d spend more than they receive", claim.Height)
			case sum.Confirmed != claim.Confirmed || sum.Immature != claim.Immature:
				s.lie("an altered balance: it reports %s CNJ spendable and %s immature at height %d, its entries sum to %s and %s",
					amount.Format(claim.Confirmed), amount.Format(claim.Immature), claim.Height, amount.Format(sum.Confirmed), amount.Format(sum.Immature))
			}
		}
		for _, e := range own {
			if j, ok := seen[e.TxID()]; ok {
				if e.Verified && !r.Entries[j].Verified {
					r.Entries[j] = e
				}
				continue
			}
			seen[e.TxID()] = len(r.Entries)
			r.Entries = append(r.Entries, e)
		}
	}
	// What one source proves, another whose chain holds that block must
	// report too.
	for i, s := range ss.Sources {
		if s.Chain == nil {
			continue
		}
		for _, e := range r.Entries {
			if !e.Verified || reported[i][e.TxID()] || e.At.Height > s.Chain.Height() || s.Chain.Hash(e.At.Height) != e.At.Block {
				continue
			}
			s.lie("an omission: it does not report %s of block %d, which %s proves", entryName(&e), e.At.Height, e.Source)
		}
	}
	slices.SortStableFunc(r.Entries, func(a, b Entry) int {
		switch {
		case a.At.Confirmed && !b.At.Confirmed:
			return -1
		case !a.At.Confirmed && b.At.Confirmed:
			return 1
		case a.At.Height < b.At.Height:
			return -1
		case a.At.Height > b.At.Height:
			return 1
		}
		return 0
	})
	for _, e := range r.Entries {
		if e.At.Confirmed {
			r.Confirmed++
			if e.Verified {
				r.Verified++
			}
		}
	}
	return r, nil
}

func entryName(e *Entry) string {
	if e.At.Reward != nil {
		return "its reward"
	}
	return "transfer " + e.TxID()
}

// Sums are an address's funds as its entries add up.
type Sums struct {
	Confirmed, Immature uint64 // as the next block after the height sees them
	Pending             int64  // what pending transfers add or take
}

// sumAt adds up the confirmed entries up to height h as the ledger does
// (a reward of block b is spendable from block b+maturity), and the
// pending ones; ok is false when the sum does not hold: the entries spend
// more than they receive, which a complete history never does.
func sumAt(es []Entry, h, maturity uint64) (s Sums, ok bool) {
	var in, out uint64
	for _, e := range es {
		if !e.At.Confirmed {
			switch e.Kind {
			case "in":
				s.Pending += int64(e.Amount)
			case "out":
				s.Pending -= int64(e.Amount + e.Fee)
			case "self":
				s.Pending -= int64(e.Fee)
			}
			continue
		}
		if e.At.Height > h {
			continue
		}
		switch e.Kind {
		case "reward":
			if maturity == 0 || e.At.Height+maturity <= h+1 {
				in += e.Amount
			} else {
				s.Immature += e.Amount
			}
		case "in":
			in += e.Amount
		case "out":
			out += e.Amount + e.Fee
		case "self":
			out += e.Fee
		}
	}
	if out > in {
		return s, false
	}
	s.Confirmed = in - out
	return s, true
}

// Sums adds up the report's verified entries at the held chain's tip:
// what the wallet shows. Entries it could not verify are not counted.
func (r *Report) Sums(maturity uint64) Sums {
	var es []Entry
	for _, e := range r.Entries {
		if e.Verified || !e.At.Confirmed {
			es = append(es, e)
		}
	}
	s, _ := sumAt(es, r.Headers, maturity)
	return s
}
