package web

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/rule"
)

// blocksPage is how many summaries /api/blocks returns.
const blocksPage = 10

func (s *Server) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/blocks/tip/height", s.tipHeight)
	m.HandleFunc("GET /api/blocks/tip/hash", s.tipHash)
	m.HandleFunc("GET /api/tip", s.tip)
	m.HandleFunc("GET /api/blocks", s.blocks)
	m.HandleFunc("GET /api/blocks/{start}", s.blocks)
	m.HandleFunc("GET /api/block/{hash}", s.block)
	m.HandleFunc("GET /api/block-height/{index}", s.blockHeight)
	m.HandleFunc("GET /api/tx/{id}", s.tx)
	m.HandleFunc("GET /api/tx/{id}/events", s.txEvents)
	m.HandleFunc("GET /api/address/{addr}", s.address)
	m.HandleFunc("GET /api/address/{addr}/txs", s.addressTxs)
	m.HandleFunc("GET /api/mempool", s.mempool)
	m.HandleFunc("GET /api/mempool/txids", s.mempoolTxids)
	m.HandleFunc("GET /api/mempool/txs", s.poolFetch)
	m.HandleFunc("GET /api/peers", s.peers)
	m.HandleFunc("GET /api/genesis", s.genesis)
	m.HandleFunc("GET /api/chain", s.download)
	m.HandleFunc("GET /metrics", s.metrics)
	m.HandleFunc("GET /{$}", s.pageIndex)
	m.HandleFunc("GET /block/{hash}", s.pageBlock)
	m.HandleFunc("GET /tx/{id}", s.pageTx)
	m.HandleFunc("GET /address/{addr}", s.pageAddress)
	m.HandleFunc("GET /search", s.search)
	m.HandleFunc("GET /install.sh", s.installScript)
	m.HandleFunc("GET /bin/{name}", s.binary)
	m.HandleFunc("/", s.notFound)
	return m
}

// buffer is a pooled answer under construction.
type buffer struct{ b []byte }

var bufPool = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 1024)} }}

func getBuf() *buffer { return bufPool.Get().(*buffer) }

func putBuf(b *buffer) {
	if cap(b.b) <= 64<<10 {
		b.b = b.b[:0]
		bufPool.Put(b)
	}
}

// write answers 200 with body.
func write(w http.ResponseWriter, ct []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = ct
	h["X-Content-Type-Options"] = hdrNosniff
	w.Write(body)
}

// fail answers err as JSON: 404 for what the chain does not hold, 400 for
// malformed input, 503 when the directory is unavailable, 500 otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, explore.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, err.Error())
	case errors.Is(err, explore.ErrBadRef):
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
	case rule.CodeOf(err) != "":
		writeError(w, http.StatusBadRequest, string(rule.CodeOf(err)), err.Error())
	case errors.Is(err, errUnavailable):
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, err.Error())
	case errors.As(err, new(*busyError)):
		w.Header()["Retry-After"] = hdrRetry
		writeError(w, http.StatusServiceUnavailable, codeBusy, err.Error())
	default:
		s.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
		writeError(w, http.StatusInternalServerError, codeInternal, "internal error")
	}
}

func (s *Server) unavailable(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, codeUnavailable, errUnavailable.Error())
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, codeNotFound, "no such page")
}

// parseHeight reads a block height as JSON integers are written: decimal
// digits, no sign, no leading zero, at most uint64.
func parseHeight(v string) (uint64, bool) {
	if v == "" || len(v) > 20 || (len(v) > 1 && v[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	h, err := strconv.ParseUint(v, 10, 64)
	return h, err == nil
}

func badHex(w http.ResponseWriter, what string, digits int) {
	writeError(w, http.StatusBadRequest, codeBadHex, what+" is "+strconv.Itoa(digits)+" lowercase hex digits")
}

func badNumber(w http.ResponseWriter, what string) {
	writeError(w, http.StatusBadRequest, codeBadNumber, what+" is a decimal number without sign or leading zeros")
}

func (s *Server) tipHeight(w http.ResponseWriter, r *http.Request) {
	write(w, hdrText, s.st.snap.Load().height)
}

func (s *Server) tipHash(w http.ResponseWriter, r *http.Request) {
	write(w, hdrText, s.st.snap.Load().hash)
}

func (s *Server) tip(w http.ResponseWriter, r *http.Request) {
	write(w, hdrJSON, s.st.snap.Load().tipAPI)
}

func (s *Server) genesis(w http.ResponseWriter, r *http.Request) {
	write(w, hdrJSON, s.st.snap.Load().params)
}

// appendSummary appends a block summary:
// {"height":N,"hash":H,"previous_hash":H|null,"timestamp":T,"target":HEX,
// "transfers":N,"size":N}, size being the length of its line.
func appendSummary(dst []byte, nd *chain.BlockNode, genesisSize int) []byte {
	dst = append(dst, `{"height":`...)
	dst = strconv.AppendUint(dst, nd.Height, 10)
	dst = append(dst, `,"hash":"`...)
	dst = hex.AppendEncode(dst, nd.Hash[:])
	dst = append(dst, `","previous_hash":`...)
	size := int(nd.Loc.Length)
	if nd.Parent == nil {
		dst = append(dst, "null"...)
		size = genesisSize
	} else {
		dst = append(dst, '"')
		dst = hex.AppendEncode(dst, nd.PrevHash[:])
		dst = append(dst, '"')
	}
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, nd.Timestamp, 10)
	dst = append(dst, `,"target":"`...)
	dst = hex.AppendEncode(dst, nd.Target[:])
	dst = append(dst, `","transfers":`...)
	dst = strconv.AppendInt(dst, int64(nd.TxCount), 10)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, int64(size), 10)
	return append(dst, '}')
}

// summaries returns the main-chain blocks from start (nil: the tip) down,
// at most blocksPage of them.
func (s *Server) summaries(start *uint64) ([]*chain.BlockNode, int, error) {
	n := s.st.rlock()
	if n == nil {
		return nil, 0, errUnavailable
	}
	defer s.st.runlock()
	c := n.Chain()
	h := c.Tip().Height
	if start != nil {
		if *start > h {
			return nil, 0, &notFoundError{"no block at height " + strconv.FormatUint(*start, 10)}
		}
		h = *start
	}
	nds := make([]*chain.BlockNode, 0, blocksPage)
	for nd := c.AtHeight(h); nd != nil && len(nds) < blocksPage; nd = nd.Parent {
		nds = append(nds, nd)
	}
	return nds, len(s.st.snap.Load().params) - 1, nil
}

// notFoundError is a 404 of the web app's own.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return explore.ErrNotFound }

func (s *Server) blocks(w http.ResponseWriter, r *http.Request) {
	var start *uint64
	if v := r.PathValue("start"); v != "" {
		h, ok := parseHeight(v)
		if !ok {
			badNumber(w, "the start height")
			return
		}
		start = &h
	}
	nds, gsize, err := s.summaries(start)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	buf.b = append(buf.b, '[')
	for i, nd := range nds {
		if i > 0 {
			buf.b = append(buf.b, ',')
		}
		buf.b = appendSummary(buf.b, nd, gsize)
	}
	buf.b = append(buf.b, "]\n"...)
	write(w, hdrJSON, buf.b)
}

func (s *Server) block(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("hash")
	if _, err := chainhash.ParseHash(ref); err != nil {
		badHex(w, "a block hash", 64)
		return
	}
	s.blockLine(w, r, ref)
}

// blockLine answers the line of the block ref names (explore.FindBlock).
func (s *Server) blockLine(w http.ResponseWriter, r *http.Request, ref string) {
	n := s.st.rlock()
	if n == nil {
		s.unavailable(w)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	nd, err := explore.FindBlock(n, ref)
	if err == nil {
		buf.b, err = explore.AppendBlockLine(buf.b, n, nd)
	}
	s.st.runlock()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	write(w, hdrJSON, append(buf.b, '\n'))
}

func (s *Server) blockHeight(w http.ResponseWriter, r *http.Request) {
	h, ok := parseHeight(r.PathValue("index"))
	if !ok {
		badNumber(w, "a block height")
		return
	}
	n := s.st.rlock()
	if n == nil {
		s.unavailable(w)
		return
	}
	nd := n.Chain().AtHeight(h)
	s.st.runlock()
	if nd == nil {
		s.fail(w, r, &notFoundError{"no block at height " + strconv.FormatUint(h, 10)})
		return
	}
	var hx [64]byte
	hex.Encode(hx[:], nd.Hash[:])
	write(w, hdrText, hx[:])
}

func (s *Server) address(w http.ResponseWriter, r *http.Request) {
	addr := r.PathValue("addr")
	n := s.st.rlock()
	if n == nil {
		s.unavailable(w)
		return
	}
	buf := getBuf()
	var err error
	buf.b, err = explore.AppendBalance(buf.b, n, addr)
	s.st.runlock()
	if err != nil {
		putBuf(buf)
		s.fail(w, r, err)
		return
	}
	buf.b = append(buf.b, '\n')
	write(w, hdrJSON, buf.b)
	putBuf(buf)
}

// findTx looks for a transfer as explore.FindTx does, newest block first,
// then in the mempool, reading the chain a piece at a time.
func (s *Server) findTx(ctx context.Context, id [16]byte) (explore.TxFound, error) {
	release, err := s.scanTurn(ctx)
	if err != nil {
		return explore.TxFound{}, err
	}
	defer release()
	path, err := s.st.path(1, ^uint64(0))
	if err != nil {
		return explore.TxFound{}, err
	}
	var tipHeight uint64
	if len(path) > 0 {
		tipHeight = path[len(path)-1].Height
	}
	// Blocks with only a reward cannot hold it: skip reading them.
	path = slices.DeleteFunc(path, func(nd *chain.BlockNode) bool { return nd.TxCount == 0 })
	slices.Reverse(path)
	var found explore.TxFound
	err = s.st.scan(path, func(nd *chain.BlockNode, b *block.Block) error {
		for _, t := range b.Txs {
			if t.ID == id {
				found = explore.TxFound{Tx: t, Block: nd}
				return errStop
			}
		}
		return nil
	}, func() error { return nil })
	if err != nil {
		return found, err
	}
	if found.Tx != nil {
		found.Confirmations = tipHeight - found.Block.Height + 1
		return found, nil
	}
	for _, t := range s.st.snap.Load().pool.Txs() {
		if t.ID == id {
			return explore.TxFound{Tx: t}, nil
		}
	}
	return found, &notFoundError{hex.EncodeToString(id[:]) + ": no such transaction on the main chain or in the mempool"}
}

func (s *Server) tx(w http.ResponseWriter, r *http.Request) {
	id, err := chainhash.ParseID(r.PathValue("id"))
	if err != nil {
		badHex(w, "a transaction id", 32)
		return
	}
	f, err := s.findTx(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	buf.b = append(explore.AppendTx(buf.b, f), '\n')
	write(w, hdrJSON, buf.b)
}

// checkAddress checks addr against the network's prefix.
func (s *Server) checkAddress(addr string) error {
	n := s.st.rlock()
	if n == nil {
		return errUnavailable
	}
	defer s.st.runlock()
	return explore.CheckAddress(n, addr)
}

// events calls fn for each event of addr (explore.Events), reading the
// chain a piece at a time, in its turn (scanTurn), and calling flush
// between pieces, without the lock and without the turn.
func (s *Server) events(ctx context.Context, addr string, fn func(explore.Event) error, flush func() error) error {
	release, err := s.scanTurn(ctx)
	if err != nil {
		return err
	}
	held := true
	defer func() {
		if held {
			release()
		}
	}()
	// A piece written to a slow client must not keep the turn from others:
	// give it back while flushing, and wait for it again (without a limit:
	// the answer has begun) before reading on.
	flushFree := func() error {
		release()
		held = false
		if err := flush(); err != nil {
			return err
		}
		select {
		case s.scans <- struct{}{}:
			held = true
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	path, err := s.st.path(1, ^uint64(0))
	if err != nil {
		return err
	}
	err = s.st.scan(path, func(nd *chain.BlockNode, b *block.Block) error {
		return explore.BlockEvents(addr, nd, b, fn)
	}, flushFree)
	if err != nil {
		return err
	}
	if err := explore.PoolEvents(addr, s.st.snap.Load().pool.Txs(), fn); err != nil {
		return err
	}
	return flushFree()
}

// addressTxs answers the history of an address as a JSON array, streamed:
// an error after the first piece cuts the response.
func (s *Server) addressTxs(w http.ResponseWriter, r *http.Request) {
	addr := r.PathValue("addr")
	if err := s.checkAddress(addr); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["X-Content-Type-Options"] = hdrNosniff
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	buf := getBuf()
	defer putBuf(buf)
	buf.b = append(buf.b, '[')
	first := true
	err := s.events(r.Context(), addr, func(e explore.Event) error {
		if !first {
			buf.b = append(buf.b, ',')
		}
		first = false
		buf.b = explore.AppendEvent(buf.b, e)
		return nil
	}, func() error {
		if len(buf.b) < 16<<10 {
			return nil // keep small pieces together
		}
		err := writeOut(w, buf.b)
		buf.b = buf.b[:0]
		return err
	})
	if err == nil {
		buf.b = append(buf.b, "]\n"...)
		err = writeOut(w, buf.b)
	}
	if err != nil {
		s.cut(w, r, rc, err)
	}
}

// cut ends a response that went wrong after it started: when nothing was
// sent yet, an error answer; else the connection is cut, so that the client
// never takes a short body for a whole one.
func (s *Server) cut(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, err error) {
	if g, ok := w.(*guardWriter); ok && !g.wrote {
		s.fail(w, r, err)
		return
	}
	if !errors.Is(err, errUnavailable) && !isClientGone(err) {
		s.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	panic(http.ErrAbortHandler)
}

// isClientGone tells write errors (the client left) from reading errors.
func isClientGone(err error) bool {
	var we *writeErr
	return errors.As(err, &we)
}

// writeOut writes to the client; its errors are *writeErr.
func writeOut(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return &writeErr{err}
	}
	return nil
}

// writeErr marks an error of writing to the client.
type writeErr struct{ err error }

func (e *writeErr) Error() string { return "writing the response: " + e.err.Error() }
func (e *writeErr) Unwrap() error { return e.err }

func (s *Server) mempool(w http.ResponseWriter, r *http.Request) {
	snap := s.st.snap.Load().mempool()
	buf := getBuf()
	defer putBuf(buf)
	buf.b = append(buf.b, `{"count":`...)
	buf.b = strconv.AppendInt(buf.b, int64(snap.poolCount), 10)
	buf.b = append(buf.b, `,"total_fee":`...)
	buf.b = strconv.AppendUint(buf.b, snap.poolFee, 10)
	buf.b = append(buf.b, "}\n"...)
	write(w, hdrJSON, buf.b)
}

func (s *Server) mempoolTxids(w http.ResponseWriter, r *http.Request) {
	write(w, hdrJSON, s.st.snap.Load().mempool().poolIDs)
}

// readPeers returns the peers of the peers file. Its bad lines are
// skipped (chaindir's policy): a mistyped line of the node's own file is
// not the client's fault, and the other peers are still worth knowing.
// Like every answer, it is 503 while the chain directory is unavailable.
func (s *Server) readPeers() ([]string, error) {
	if n := s.st.rlock(); n == nil {
		return nil, errUnavailable
	}
	s.st.runlock()
	peers, _, err := chaindir.Dir(s.cfg.Chain).ReadPeers()
	return peers, err
}

func (s *Server) peers(w http.ResponseWriter, r *http.Request) {
	peers, err := s.readPeers()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if peers == nil {
		peers = []string{}
	}
	b, _ := json.Marshal(peers)
	write(w, hdrJSON, append(b, '\n'))
}
