package web

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainhash"
)

// maxRefusals bounds the refused transfers a server remembers (the most
// recent ones of rejects.log, by id): about 1 MiB.
const maxRefusals = 10_000

// refusals are the transfers rejects.log names, read from its start and
// followed (chaindir's RejectTail), the oldest forgotten past
// maxRefusals.
type refusals struct {
	mu    sync.Mutex
	tail  *chaindir.RejectTail
	byID  map[chainhash.ID]chaindir.RejectEntry
	order []chainhash.ID
}

func newRefusals(d chaindir.Dir) *refusals {
	return &refusals{tail: d.TailRejects(false), byID: map[chainhash.ID]chaindir.RejectEntry{}}
}

// find reads what rejects.log gained since the last call and returns the
// last refusal of the transfer id, if one is known.
func (rf *refusals) find(id chainhash.ID) (chaindir.RejectEntry, bool, error) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	for {
		es, _, more, err := rf.tail.Read()
		if err != nil {
			return chaindir.RejectEntry{}, false, err
		}
		for _, e := range es {
			if !e.HasID || e.Reason == "" {
				continue
			}
			if _, ok := rf.byID[e.ID]; !ok {
				rf.order = append(rf.order, e.ID)
			}
			rf.byID[e.ID] = e
			if len(rf.order) > maxRefusals {
				delete(rf.byID, rf.order[0])
				rf.order = rf.order[1:]
			}
		}
		if !more {
			break
		}
	}
	e, ok := rf.byID[id]
	return e, ok, nil
}

// txFate answers GET /api/tx/{txid}/fate: what became of a transfer this
// node was given, as one JSON object with its "txid" and "state":
//
//	{"state":"confirmed","block_height":H,"block_hash":HEX64,"confirmations":N}
//	{"state":"pending"}      in the mempool
//	{"state":"refused","reason":CODE,"msg":"...","time":T}   in rejects.log
//	{"state":"dropped","reason":CODE,"time":T}   the pool let it go unmined
//	{"state":"unknown"}      none of these
//
// then "returned", how many times a reorganization put it back into the
// pool (confirmed, then pending again), and "events", what the pool did
// with it (appendPoolEvents). A transfer on the main chain or in the
// mempool is confirmed or pending whatever rejects.log and the pool's
// events say (a copy refused as a duplicate, say); of the others, the
// later of a refusal and a drop wins. It is
// what cnj-wallet send waits on, the web app having no POST: the wallet
// hands the transfer to the node's relay and asks here for its fate.
func (s *Server) txFate(w http.ResponseWriter, r *http.Request) {
	id, err := chainhash.ParseID(r.PathValue("txid"))
	if err != nil {
		badHex(w, "a transfer id", 32)
		return
	}
	n := s.st.rlock()
	if n == nil {
		s.unavailable(w)
		return
	}
	f, err := s.lookup(n).FindTx(id[:])
	s.st.runlock()
	evs, everr := s.poolEvs.of(chaindir.Dir(s.cfg.Chain), id)
	if everr != nil {
		s.fail(w, r, everr)
		return
	}
	out := append(make([]byte, 0, 256), `{"txid":"`...)
	out = hex.AppendEncode(out, id[:])
	switch {
	case err == nil && f.Block != nil:
		out = append(out, `","state":"confirmed","block_height":`...)
		out = strconv.AppendUint(out, f.Block.Height, 10)
		out = append(out, `,"block_hash":"`...)
		out = hex.AppendEncode(out, f.Block.Hash[:])
		out = append(out, `","confirmations":`...)
		out = strconv.AppendUint(out, f.Confirmations, 10)
	case err == nil:
		out = append(out, `","state":"pending"`...)
	case errors.Is(err, explore.ErrNotFound):
		e, ok, rerr := s.refusals.find(id)
		if rerr != nil {
			s.fail(w, r, rerr)
			return
		}
		drop := lastDrop(evs)
		switch {
		case drop != nil && (!ok || drop.Time >= e.Time):
			out = append(out, `","state":"dropped","reason":`...)
			out = appendString(out, string(drop.Reason))
			out = append(out, `,"time":`...)
			out = strconv.AppendInt(out, max(drop.Time, 0), 10)
		case ok:
			out = append(out, `","state":"refused","reason":`...)
			out = appendString(out, string(e.Reason))
			out = append(out, `,"msg":`...)
			out = appendString(out, e.Msg)
			out = append(out, `,"time":`...)
			out = strconv.AppendInt(out, max(e.Time, 0), 10)
		default:
			out = append(out, `","state":"unknown"`...)
		}
	default:
		s.fail(w, r, err)
		return
	}
	returned := 0
	for _, e := range evs {
		if e.Event == chaindir.EventReturned {
			returned++
		}
	}
	out = append(out, `,"returned":`...)
	out = strconv.AppendInt(out, int64(returned), 10)
	out = append(out, `,"events":`...)
	out = appendPoolEvents(out, evs)
	write(w, hdrJSON, append(out, "}\n"...))
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals; invalid UTF-8 is replaced
	return append(dst, b...)
}

// lastDrop returns the last drop of evs, or nil.
func lastDrop(evs []chaindir.PoolEvent) *chaindir.PoolEvent {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Event == chaindir.EventDropped {
			return &evs[i]
		}
	}
	return nil
}
