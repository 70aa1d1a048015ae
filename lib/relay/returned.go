package relay

import (
	"context"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/wire"
)

// DefaultReturnedPoll is how often Send looks at mempool-events.jsonl for
// transfers a reorganization returned to the pool (SendConfig.Returned).
const DefaultReturnedPoll = 250 * time.Millisecond

// followReturned sends to lines, marked again, the transfers that the
// chain directory's writers return to the pool from now on (the returned
// events of mempool-events.jsonl, chaindir's PoolEventTail), until ctx is
// done. A line that does not decode is logged and skipped.
func (s *sender) followReturned(ctx context.Context, lines chan<- item) {
	tail := chaindir.Dir(s.cfg.Chain).TailPoolEvents()
	t := time.NewTicker(s.cfg.ReturnedPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for more := true; more; {
			evs, m, err := tail.Read()
			more = m
			if err != nil {
				s.logf("%s: %v", chaindir.MempoolEventsFile, err)
				break
			}
			for _, e := range evs {
				if e.Event != chaindir.EventReturned {
					continue
				}
				rec, err := wire.Decode(e.Tx, s.cfg.Params)
				if err != nil || rec.Tx == nil {
					s.st.badLines.Add(1)
					s.logf("%s: a returned transfer skipped: %v", chaindir.MempoolEventsFile, err)
					continue
				}
				select {
				case lines <- item{raw: rec.Raw, again: true}:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}
