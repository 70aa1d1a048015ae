package relay

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Inbound slots (DESIGN.md, "Network": each peer is bounded). A listener
// takes MaxConns connections, MaxConnsPerIP from one IP and
// MaxConnsPerGroup from one network group (netGroup). When it is full, a
// newcomer takes the slot of a connection evicted as Bitcoin Core evicts
// one (net.cpp, AttemptToEvictConnection): some connections are
// protected, and of the others the youngest of the network group with the
// most connections goes, so that one group holding many slots loses them
// first. Protected are, in this order, the oldest connection of
//
//   - each IP of the peers file (the node's own choice of peers, and the
//     peers it recorded because they proved useful);
//   - the ProtectBlocks IPs that delivered a valid new block last, and the
//     ProtectTxs that delivered a valid new transfer last (cnj-relay send
//     records them in relay-delivered.jsonl, as they come out of
//     cnj-verify: chaindir.MergeDelivered);
//
// and then the ProtectOldest longest-connected of the rest. Keep-alives
// and lines that cnj-verify refused or passed over are not usefulness:
// only a line that came out of cnj-verify is. When every connection is
// protected, the newcomer is refused.

// connInfo is one inbound connection.
type connInfo struct {
	cancel context.CancelFunc
	since  time.Time // accepted
}

// netGroup is the network group of ip, whose connections count together
// (MaxConnsPerGroup) and which eviction takes from first: the /24 of an
// IPv4 address, the /48 of an IPv6 one, as an attacker gets addresses from
// one provider in blocks. A loopback, private or link-local address is a
// group of its own: such peers are on the machine or the local network,
// and nodes on one machine are told apart by address only.
func netGroup(ip netip.Addr) netip.Prefix {
	switch {
	case ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast():
		return netip.PrefixFrom(ip, ip.BitLen())
	case ip.Is4():
		p, _ := ip.Prefix(24)
		return p
	}
	p, _ := ip.Prefix(48)
	return p
}

// slot is a connection, as eviction sees it.
type slot struct {
	ip    netip.Addr
	c     net.Conn
	since time.Time
}

// victim returns the connection to evict for a newcomer, or false when
// every connection is protected. l.mu is held.
func (l *Listener) victim() (slot, bool) {
	var all []slot
	for ip, m := range l.conns {
		for c, info := range m {
			all = append(all, slot{ip, c, info.since})
		}
	}
	// Oldest first, then by address and by connection for a fixed order.
	slices.SortFunc(all, func(a, b slot) int {
		return cmp.Or(a.since.Compare(b.since), a.ip.Compare(b.ip))
	})
	protected := make(map[net.Conn]bool)
	protectIP := func(ip netip.Addr) {
		for _, s := range all { // the oldest of ip not protected yet
			if s.ip == ip && !protected[s.c] {
				protected[s.c] = true
				return
			}
		}
	}
	for ip := range l.listed {
		protectIP(ip)
	}
	connected := make([]netip.Addr, 0, len(l.conns))
	for ip := range l.conns {
		connected = append(connected, ip)
	}
	for _, last := range []struct {
		at func(netip.Addr) int64
		n  int
	}{
		{func(ip netip.Addr) int64 { return l.useful[ip].Block }, ProtectBlocks},
		{func(ip netip.Addr) int64 { return l.useful[ip].Tx }, ProtectTxs},
	} {
		ips := slices.DeleteFunc(slices.Clone(connected), func(ip netip.Addr) bool { return last.at(ip) == 0 })
		slices.SortFunc(ips, func(a, b netip.Addr) int { return cmp.Or(cmp.Compare(last.at(b), last.at(a)), a.Compare(b)) })
		for _, ip := range ips[:min(len(ips), last.n)] {
			protectIP(ip)
		}
	}
	var rest []slot
	for _, s := range all {
		if !protected[s.c] {
			rest = append(rest, s)
		}
	}
	rest = rest[min(len(rest), ProtectOldest):]
	if len(rest) == 0 {
		return slot{}, false
	}
	// The group with the most connections left; between groups of as
	// many, the one with the youngest connection; its youngest goes.
	type group struct {
		n        int
		youngest slot
	}
	groups := map[netip.Prefix]*group{}
	var best *group
	for _, s := range rest {
		g := groups[netGroup(s.ip)]
		if g == nil {
			g = &group{}
			groups[netGroup(s.ip)] = g
		}
		g.n++
		g.youngest = s // rest is oldest first
		if best == nil || g.n > best.n || g.n == best.n && !s.since.Before(best.youngest.since) {
			best = g
		}
	}
	return best.youngest, true
}
