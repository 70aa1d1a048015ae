package web

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/mempool"
	"github.com/coniunctum/cnj/lib/tx"
)

// MaxPoolFetch is how many transfer ids one /api/mempool/txs asks for:
// 50 ids fit in a request target of DefaultMaxURLBytes.
const MaxPoolFetch = 50

var hdrLines = []string{contentTypeLines}

// poolFetch answers GET /api/mempool/txs?ids=ID,ID,...: the pooled
// transfers with those ids (any sender), one transfer line each as
// mempool.jsonl holds them, application/x-ndjson; an id the pool does not
// hold is left out. With /api/mempool/txids, it is how a peer's cnj-sync
// fetches the pending transfers it lacks. At most MaxPoolFetch ids.
func (s *Server) poolFetch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()["ids"]
	if len(q) != 1 || q[0] == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "ids: give one list of transfer ids, comma-separated")
		return
	}
	parts := strings.Split(q[0], ",")
	if len(parts) > MaxPoolFetch {
		writeError(w, http.StatusBadRequest, codeBadRequest, "ids: at most "+strconv.Itoa(MaxPoolFetch)+" transfer ids")
		return
	}
	byID := s.pool.of(s.st.snap.Load().pool)
	buf := getBuf()
	defer putBuf(buf)
	for _, p := range parts {
		id, err := chainhash.ParseID(p)
		if err != nil {
			badHex(w, "a transaction id", 32)
			return
		}
		for _, t := range byID[id] {
			buf.b = append(t.AppendJSON(buf.b), '\n')
		}
	}
	write(w, hdrLines, buf.b)
}

// poolIndex finds the transfers of one pool by id, built once per pool
// (the pool of a snapshot never changes).
type poolIndex struct {
	mu   sync.Mutex
	pool *mempool.Pool
	byID map[[16]byte][]*tx.Tx
}

func (x *poolIndex) of(pool *mempool.Pool) map[[16]byte][]*tx.Tx {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.pool != pool || x.byID == nil {
		x.pool, x.byID = pool, map[[16]byte][]*tx.Tx{}
		for _, t := range pool.Txs() {
			x.byID[t.ID] = append(x.byID[t.ID], t)
		}
	}
	return x.byID
}

// appendPoolEvents appends the JSON array of what the node's pool did
// with a transfer id (chaindir's mempool-events.jsonl, oldest first),
//
//	[{"time":T,"event":"returned","block":HEX64,"sender":ADDR,"hash":HEX64},
//	 {"time":T,"event":"dropped","reason":CODE,"sender":ADDR,"hash":HEX64}]
//
// for /api/tx/ID/fate. returned: a reorganization abandoned the block
// that confirmed it and it is pending again; dropped: the pool let it go
// unmined, for the rule CODE.
func appendPoolEvents(b []byte, evs []chaindir.PoolEvent) []byte {
	b = append(b, '[')
	for i, e := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"time":`...)
		b = strconv.AppendInt(b, e.Time, 10)
		b = append(b, `,"event":"`...)
		b = append(b, e.Event...)
		if e.Event == chaindir.EventReturned {
			b = append(b, `","block":"`...)
			b = chainhash.Hash(e.Block).AppendHex(b)
		} else {
			b = append(b, `","reason":"`...)
			b = append(b, e.Reason...) // a rule code: [a-z-]
		}
		b = append(b, `","sender":`...)
		b = strconv.AppendQuote(b, e.Sender)
		b = append(b, `,"hash":"`...)
		b = chainhash.Hash(e.Hash).AppendHex(b)
		b = append(b, `"}`...)
	}
	return append(b, ']')
}

// poolEvents is mempool-events.jsonl by id, read again when the file
// changed (its Stamp).
type poolEvents struct {
	mu    sync.Mutex
	stamp chaindir.Stamp
	read  bool
	byID  map[[16]byte][]chaindir.PoolEvent
}

func (x *poolEvents) of(d chaindir.Dir, id [16]byte) ([]chaindir.PoolEvent, error) {
	st, err := d.PoolEventsStamp()
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.read || st != x.stamp {
		evs, st, err := d.ReadPoolEvents()
		if err != nil {
			return nil, err
		}
		x.byID = map[[16]byte][]chaindir.PoolEvent{}
		for _, e := range evs {
			e.Tx = nil // the answer does not need it
			x.byID[e.ID] = append(x.byID[e.ID], e)
		}
		x.stamp, x.read = st, true
	}
	return x.byID[id], nil
}
