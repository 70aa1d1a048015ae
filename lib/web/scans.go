package web

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"time"
)

// Reading the whole chain (a transfer's lookup, an address's history: there
// is no index) costs seconds of a core on a chain of a million transfers,
// and any client may ask for it. A Server runs at most Config.MaxScans such
// reads at once; a request waits up to Config.ScanWait for a turn and is
// then refused with 503 (busy, with Retry-After), so that clients cannot
// take every core from the node's validator. A request holds its turn
// while it reads the chain, not while its answer goes out, so that a
// client that reads slowly does not keep the turn from the others.

// DefaultScanWait is how long a request waits for a turn to read the chain.
const DefaultScanWait = 5 * time.Second

// DefaultMaxScans is half the cores, at least one.
func DefaultMaxScans() int { return max(1, runtime.NumCPU()/2) }

// busyError refuses a request that found no turn: to read the whole chain,
// or to download it.
type busyError struct{ msg string }

func (e *busyError) Error() string { return e.msg }

// scanTurn waits for a turn to read the whole chain and returns the
// function that gives it back.
func (s *Server) scanTurn(ctx context.Context) (func(), error) {
	release := func() { <-s.scans }
	select {
	case s.scans <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(s.cfg.ScanWait)
	defer t.Stop()
	select {
	case s.scans <- struct{}{}:
		return release, nil
	case <-t.C:
	case <-ctx.Done():
	}
	s.busy.Add(1)
	return nil, &busyError{fmt.Sprintf("busy: every turn to read the whole chain is taken (%d at once); try again shortly", cap(s.scans))}
}

// DownloadsPerClient is how many chain downloads (/api/chain) one client
// (an IP address, a /64 for IPv6) may run at once. A whole download costs
// seconds of CPU (reading the segments, compressing), and a client may hold
// Config.MaxConnsPerIP connections; a syncing node needs one download per peer.
// There is no limit over all clients: one client's downloads cannot keep
// another's waiting.
const DownloadsPerClient = 2

// clientTurns counts the downloads each client is running.
type clientTurns struct {
	mu    sync.Mutex
	held  map[netip.Addr]int
	freed chan struct{} // closed, and replaced, when a turn is given back
}

func newClientTurns() *clientTurns {
	return &clientTurns{held: make(map[netip.Addr]int), freed: make(chan struct{})}
}

// downloadTurn waits up to ScanWait for one of the client's
// DownloadsPerClient turns and returns the function that gives it back. A
// request that is not from an IP address (a test, a unix socket) needs
// none.
func (s *Server) downloadTurn(ctx context.Context, remote string) (func(), error) {
	ip := clientKey(remote)
	if !ip.IsValid() {
		return func() {}, nil
	}
	c := s.downloads
	t := time.NewTimer(s.cfg.ScanWait)
	defer t.Stop()
	for {
		c.mu.Lock()
		if c.held[ip] < DownloadsPerClient {
			c.held[ip]++
			c.mu.Unlock()
			return func() {
				c.mu.Lock()
				if c.held[ip]--; c.held[ip] <= 0 {
					delete(c.held, ip)
				}
				close(c.freed)
				c.freed = make(chan struct{})
				c.mu.Unlock()
			}, nil
		}
		freed := c.freed
		c.mu.Unlock()
		select {
		case <-freed:
			continue
		case <-t.C:
		case <-ctx.Done():
		}
		s.busy.Add(1)
		return nil, &busyError{msg: fmt.Sprintf("busy: this client already runs %d downloads of the chain; try again shortly", DownloadsPerClient)}
	}
}
