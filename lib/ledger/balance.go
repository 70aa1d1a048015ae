package ledger

// Funds and maturity: what an address may spend in the next block, and
// the rewards still maturing that Connect counts toward immature-spend.

import "github.com/coniunctum/cnj/lib/rule"

// Balance is what an address holds at the tip, as seen by the next block.
type Balance struct {
	// Confirmed is what a transfer in the next block could spend: the
	// spendable balance plus the reward that matures at the next block.
	Confirmed uint64
	// Immature is the sum of the address's rewards that are not spendable
	// in the next block yet.
	Immature uint64
}

// reward is a block reward still maturing.
type reward struct {
	receiver string
	amount   uint64
}

// sumFor is the sum of the rewards of rs that pay addr.
func sumFor(rs []reward, addr string) uint64 {
	var s uint64
	for _, r := range rs {
		if r.receiver == addr {
			s += r.amount
		}
	}
	return s
}

// Balance returns what addr holds as seen by the next block.
func (l *Ledger) Balance(addr string) Balance {
	bl := Balance{Confirmed: l.bal[addr]}
	// pending[0] matures at the next block when pending is full.
	full := l.p.Maturity > 0 && uint64(len(l.pending)) == l.p.Maturity
	for i, r := range l.pending {
		if r.receiver != addr {
			continue
		}
		if i == 0 && full {
			bl.Confirmed += r.amount
		} else {
			bl.Immature += r.amount
		}
	}
	return bl
}

// CanSpend reports whether a transfer from addr in the next block could
// spend need (amount+fee, plus whatever the caller already counts as
// pending): nil, or a *rule.Error with immature-spend or insufficient-funds.
func (l *Ledger) CanSpend(addr string, need uint64) error {
	bl := l.Balance(addr)
	switch {
	case need <= bl.Confirmed:
		return nil
	case need-bl.Confirmed <= bl.Immature:
		return rule.Errorf(rule.ImmatureSpend, "%s has %d spendable, needs %d; the rest is immature reward", addr, bl.Confirmed, need)
	}
	return rule.Errorf(rule.InsufficientFunds, "%s has %d spendable, needs %d", addr, bl.Confirmed, need)
}

// Total is the sum of every spendable and immature balance. No money is
// made or lost: it equals the sum of the reward amounts of the blocks
// connected so far less the fees their transfers paid (a fee leaves its
// sender and comes back only inside a reward, which may claim less than
// subsidy + fees and so burn the rest).
func (l *Ledger) Total() uint64 {
	var s uint64
	for _, v := range l.bal {
		s += v
	}
	for _, r := range l.pending {
		s += r.amount
	}
	return s
}

// Addresses returns the number of addresses with a spendable balance.
func (l *Ledger) Addresses() int { return len(l.bal) }
