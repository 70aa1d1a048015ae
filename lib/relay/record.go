package relay

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
)

// Recording peers (DESIGN.md, "Network"; cnj-format(5), the peers file).
// The listener records the address a peer's hello names in the peers
// file, so that a node that joins through one node becomes that node's
// peer. Anyone can connect and say hello, so the address is recorded only
// when
//
//   - it names the IP the peer connects from (nobody fills the file with
//     others' addresses), and is not this node's;
//   - and the peer proved to be a node of this network: a line it sent
//     came out of cnj-verify (valid and new: relay-delivered.jsonl, which
//     costs a fee or a block's work), or its web app, asked at the
//     peer's IP on WebPort, answers /api/genesis with this network's
//     genesis (a node of the network runs one: cnj-sync asks it).
//
// Until then the hello's address waits (at most maxPending IPs, the last
// address of each). The peers file holds one entry per IP: a later hello
// of a recorded IP with another port changes the port. A hello of an IP of
// the peers file notes that the peer was seen, so that the entries of
// peers that stay away age out (chaindir.PeerExpiry).
const (
	// ProbeTimeout bounds the question to a peer's web app.
	ProbeTimeout = 5 * time.Second
	// ProbeEvery is how long the listener waits before asking again a web
	// app that did not answer as this network's.
	ProbeEvery = 10 * time.Minute
	// maxProbes bounds the questions asked at once, maxPending the
	// addresses waiting and maxProbed the answers remembered.
	maxProbes  = 4
	maxPending = 256
	maxProbed  = 4096
)

// probe is what a peer's web app answered, and when.
type probe struct {
	at time.Time
	ok bool // as a node of this network
}

// helloAddr is the address a peer's hello named, and the hello's number.
type helloAddr struct {
	addr string
	seq  uint64
}

// record takes the hello address of a peer connected from ip (see above).
func (l *Listener) record(ip netip.Addr, h helloAddr, self netip.AddrPort) {
	if l.cfg.Chain == "" {
		return
	}
	ap, err := netip.ParseAddrPort(h.addr)
	if err != nil {
		return
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if ap.Addr() != ip || ap == self || ap.Port() == 0 {
		return
	}
	now := l.cfg.Now()
	l.mu.Lock()
	if !l.proven(ip) {
		if w, ok := l.pending[ip]; ok && w.seq < h.seq || !ok && len(l.pending) < maxPending {
			l.pending[ip] = helloAddr{ap.String(), h.seq}
		}
		ask := l.probing < maxProbes
		if p, ok := l.probed[ip]; ok && now.Sub(p.at) < ProbeEvery {
			ask = false
		}
		if ask {
			l.probing++
			if len(l.probed) >= maxProbed {
				for a, p := range l.probed {
					if now.Sub(p.at) >= ProbeEvery {
						delete(l.probed, a)
					}
				}
			}
			if len(l.probed) < maxProbed {
				l.probed[ip] = probe{at: now} // asking
			}
		}
		l.mu.Unlock()
		if ask {
			l.wg.Add(1)
			go func() { defer l.wg.Done(); l.ask(ip) }()
		}
		return
	}
	l.mu.Unlock()
	l.write(ip, helloAddr{ap.String(), h.seq})
}

// proven tells whether ip is in the peers file, delivered a valid line
// or has a web app of this network. l.mu is held.
func (l *Listener) proven(ip netip.Addr) bool {
	return l.listed[ip] || l.useful[ip] != (chaindir.Delivered{}) || l.probed[ip].ok
}

// ask asks the web app at ip whether it is a node of this network, and
// records the address waiting for ip when it is.
func (l *Listener) ask(ip netip.Addr) {
	ctx, cancel := context.WithTimeout(l.ctx, ProbeTimeout)
	defer cancel()
	web := netip.AddrPortFrom(ip, uint16(l.cfg.WebPort)).String()
	p, err := l.web.Genesis(ctx, web)
	ok := err == nil && p.Hash() == l.network
	if err == nil && !ok {
		err = errors.New("a node of another network")
	}
	l.mu.Lock()
	l.probing--
	if _, asked := l.probed[ip]; asked {
		l.probed[ip] = probe{at: l.cfg.Now(), ok: ok}
	}
	w, waiting := l.pending[ip]
	if ok {
		delete(l.pending, ip)
	}
	l.mu.Unlock()
	switch {
	case ok && waiting:
		l.write(ip, w)
	case !ok && waiting && l.ctx.Err() == nil:
		l.logEvery("probe "+ip.String(), ProbeEvery, "%s: peer %s not recorded yet: no valid line from it so far, and its web app %s: %v", ip, w.addr, web, err)
	}
}

// refreshPeers reads again the peers file and relay-delivered.jsonl when
// they changed, and records the waiting addresses of the peers that
// delivered meanwhile.
func (l *Listener) refreshPeers() {
	d := chaindir.Dir(l.cfg.Chain)
	var listed map[netip.Addr]bool
	if st, err := chaindir.StampFile(d.File(chaindir.PeersFile)); err == nil && st != l.peersSt || err != nil && l.peersSt != (chaindir.Stamp{}) {
		peers, _, _ := d.ReadPeers()
		listed = map[netip.Addr]bool{}
		for _, p := range peers {
			if ap, err := netip.ParseAddrPort(p); err == nil {
				listed[ap.Addr()] = true
			}
		}
		l.peersSt = st
	}
	var useful map[netip.Addr]chaindir.Delivered
	if st, err := chaindir.StampFile(d.File(chaindir.DeliveredFile)); err == nil && st != l.deliveredSt {
		es, st, err := d.ReadDelivered()
		if err == nil {
			useful = map[netip.Addr]chaindir.Delivered{}
			for _, e := range es {
				useful[e.IP] = e
			}
			l.deliveredSt = st
		}
	}
	if listed == nil && useful == nil {
		return
	}
	ready := map[netip.Addr]helloAddr{}
	l.mu.Lock()
	if listed != nil {
		l.listed = listed
	}
	if useful != nil {
		l.useful = useful
	}
	for ip, w := range l.pending {
		if l.useful[ip] != (chaindir.Delivered{}) {
			ready[ip] = w
			delete(l.pending, ip)
		}
	}
	l.mu.Unlock()
	for ip, w := range ready {
		l.write(ip, w)
	}
}

// write records the address of a peer that proved itself in the peers
// file, unless a later hello of the same IP was written already (its
// connection's goroutine ran first).
func (l *Listener) write(ip netip.Addr, h helloAddr) {
	l.peersMu.Lock()
	defer l.peersMu.Unlock()
	if h.seq < l.written[ip] {
		return
	}
	if len(l.written) >= maxProbed {
		clear(l.written) // bounded; forgetting costs only this ordering
	}
	l.written[ip] = h.seq
	addr := h.addr
	what, err := chaindir.Dir(l.cfg.Chain).RecordPeer(addr, l.cfg.Now())
	switch {
	case err != nil:
		l.logEvery("addpeer", time.Minute, "%s: peer %s not recorded: %v", ip, addr, err)
		return
	case what == chaindir.PeerAdded:
		l.cfg.Logf("%s: new peer %s recorded", ip, addr)
	case what == chaindir.PeerUpdated:
		l.cfg.Logf("%s: peer %s recorded, in place of its other port", ip, addr)
	}
	l.mu.Lock()
	l.listed[ip] = true
	l.mu.Unlock()
}
