package relay

import (
	"net/netip"
	"sync"
	"time"
)

// Bans keeps the reject counts and cut-offs of peer IPs. It is safe for
// concurrent use; every method takes the time, so tests need no clock.
type Bans struct {
	// Threshold rejects within Window cut an IP off for CoolOff << (n-1)
	// at its n-th offence, at most MaxCoolOff; offences are forgotten
	// after Forget without one.
	Threshold  int
	Window     time.Duration
	CoolOff    time.Duration
	MaxCoolOff time.Duration
	Forget     time.Duration
	// OrphanWeight orphans (blocks refused as unknown-parent) within a
	// Window count as one reject (Orphan); 0 is DefaultOrphanWeight.
	OrphanWeight int

	mu  sync.Mutex
	ips map[netip.Addr]*banRecord
}

type banRecord struct {
	strikes   []time.Time // within Window, oldest first, at most Threshold
	offences  int
	lastCut   time.Time
	bannedTil time.Time
	// orphans counted since orphanStart, less than OrphanWeight
	orphans     int
	orphanStart time.Time
}

// maxTracked bounds the IPs Bans remembers; past it, those with nothing
// to remember are pruned, and then new IPs are not tracked.
const maxTracked = 1 << 16

// NewBans returns Bans with the package defaults: DefaultMaxRejects,
// DefaultRejectWindow, DefaultCoolOff, DefaultMaxCoolOff,
// DefaultForgetAfter.
func NewBans() *Bans {
	return &Bans{Threshold: DefaultMaxRejects, Window: DefaultRejectWindow, CoolOff: DefaultCoolOff,
		MaxCoolOff: DefaultMaxCoolOff, Forget: DefaultForgetAfter, OrphanWeight: DefaultOrphanWeight}
}

// Cut is a cut-off that a strike started.
type Cut struct {
	IP      netip.Addr
	For     time.Duration
	Rejects int // rejects within the window
	Offence int // 1 for the first cut-off of the IP
}

// Strike counts one reject of ip at now. It returns the cut-off it starts,
// or nil: below the threshold, or the IP is already cut off.
func (b *Bans) Strike(ip netip.Addr, now time.Time) *Cut {
	_, cut := b.Count(ip, now)
	return cut
}

// Count is Strike that also reports whether the reject was counted: not
// when ip is cut off already (or cannot be tracked). The check and the
// count are one step, so that of rejects of one IP arriving at once
// exactly those up to the threshold are counted.
func (b *Bans) Count(ip netip.Addr, now time.Time) (counted bool, cut *Cut) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.record(ip, now)
	if r == nil {
		return false, nil
	}
	return true, b.strike(ip, r, now)
}

// Orphan counts one orphan of ip at now: a block whose parent the node
// does not have. An honest peer sends a node that is behind one for each
// new block of the network until cnj-sync catches the node up, so an
// orphan counts only as 1/OrphanWeight of a reject: every OrphanWeight
// orphans within a Window are one strike (a window starts at its first
// orphan). It returns the cut-off that strike starts, or nil.
func (b *Bans) Orphan(ip netip.Addr, now time.Time) *Cut {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.record(ip, now)
	if r == nil {
		return nil
	}
	if r.orphans == 0 || now.Sub(r.orphanStart) >= b.Window {
		r.orphans, r.orphanStart = 0, now
	}
	r.orphans++
	weight := b.OrphanWeight
	if weight <= 0 {
		weight = DefaultOrphanWeight
	}
	if r.orphans < weight {
		return nil
	}
	r.orphans = 0
	return b.strike(ip, r, now)
}

// record returns the record of ip, new if need be, or nil when ip is cut
// off at now or cannot be tracked. b.mu is held.
func (b *Bans) record(ip netip.Addr, now time.Time) *banRecord {
	if b.ips == nil {
		b.ips = make(map[netip.Addr]*banRecord)
	}
	r := b.ips[ip]
	if r == nil {
		if len(b.ips) >= maxTracked {
			b.prune(now)
			if len(b.ips) >= maxTracked {
				return nil
			}
		}
		r = &banRecord{}
		b.ips[ip] = r
	}
	if now.Before(r.bannedTil) {
		return nil
	}
	return r
}

// strike counts one reject in r. b.mu is held.
func (b *Bans) strike(ip netip.Addr, r *banRecord, now time.Time) *Cut {
	if r.offences > 0 && now.Sub(r.lastCut) > b.Forget {
		r.offences = 0
	}
	keep := r.strikes[:0]
	for _, t := range r.strikes {
		if now.Sub(t) < b.Window {
			keep = append(keep, t)
		}
	}
	r.strikes = append(keep, now)
	threshold := max(b.Threshold, 1)
	if len(r.strikes) < threshold {
		return nil
	}
	n := len(r.strikes)
	r.strikes = r.strikes[:0]
	r.orphans = 0
	r.offences++
	d := b.CoolOff
	for i := 1; i < r.offences && d < b.MaxCoolOff; i++ {
		d *= 2
	}
	d = min(d, b.MaxCoolOff)
	r.lastCut, r.bannedTil = now, now.Add(d)
	return &Cut{IP: ip, For: d, Rejects: n, Offence: r.offences}
}

// Banned reports whether ip is cut off at now, and until when.
func (b *Bans) Banned(ip netip.Addr, now time.Time) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.ips[ip]
	if r == nil || !now.Before(r.bannedTil) {
		return false, time.Time{}
	}
	return true, r.bannedTil
}

// prune forgets the IPs with no strike in the window, no cut-off running
// and no offence to remember.
func (b *Bans) prune(now time.Time) {
	for ip, r := range b.ips {
		recent := len(r.strikes) > 0 && now.Sub(r.strikes[len(r.strikes)-1]) < b.Window ||
			r.orphans > 0 && now.Sub(r.orphanStart) < b.Window
		if !recent && !now.Before(r.bannedTil) && (r.offences == 0 || now.Sub(r.lastCut) > b.Forget) {
			delete(b.ips, ip)
		}
	}
}
