package web

import (
	"context"
	"fmt"
	"runtime"
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

// busyError refuses a request that found no turn to read the chain.
type busyError struct{ turns int }

func (e *busyError) Error() string {
	return fmt.Sprintf("busy: every turn to read the whole chain is taken (%d at once); try again shortly", e.turns)
}

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
	return nil, &busyError{cap(s.scans)}
}
