package web

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/txindex"
)

// Pages of Esplora's answers.
const (
	blocksPage  = 10 // /api/blocks
	txsPage     = 25 // /api/block/H/txs, an address's confirmed transactions
	mempoolPage = 50 // an address's mempool transactions
)

// defaultMaxLag bounds the block lines a lookup reads above the transfer
// index (explore.Lookup.MaxLag; Config.maxLag when zero): a few blocks
// behind is normal, for a moment; more is an index that is being made,
// and the lookup answers 503.
const defaultMaxLag = 8 << 20

func (s *Server) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/blocks/tip/height", s.tipHeight)
	m.HandleFunc("GET /api/blocks/tip/hash", s.tipHash)
	m.HandleFunc("GET /api/tip", s.tip)
	m.HandleFunc("GET /api/blocks", s.blocks)
	m.HandleFunc("GET /api/blocks/{start}", s.blocks)
	m.HandleFunc("GET /api/block/{hash}", s.block)
	// mempool.space's paths for the same answers.
	m.HandleFunc("GET /api/v1/blocks", s.blocks)
	m.HandleFunc("GET /api/v1/blocks/{start}", s.blocks)
	m.HandleFunc("GET /api/v1/block/{hash}", s.block)
	m.HandleFunc("GET /api/block/{hash}/status", s.blockStatus)
	m.HandleFunc("GET /api/block/{hash}/txids", s.blockTxids)
	m.HandleFunc("GET /api/block/{hash}/txs", s.blockTxs)
	m.HandleFunc("GET /api/block/{hash}/txs/{start}", s.blockTxs)
	m.HandleFunc("GET /api/block/{hash}/txid/{index}", s.blockTxid)
	m.HandleFunc("GET /api/block/{hash}/header", s.blockHeader)
	m.HandleFunc("GET /api/block/{hash}/raw", s.blockRaw)
	m.HandleFunc("GET /api/block-height/{index}", s.blockHeight)
	m.HandleFunc("GET /api/tx/{txid}", s.tx)
	m.HandleFunc("GET /api/tx/{txid}/status", s.txStatus)
	m.HandleFunc("GET /api/tx/{txid}/merkle-proof", s.txProof)
	m.HandleFunc("GET /api/tx/{txid}/fate", s.txFate)
	m.HandleFunc("GET /api/headers/{start}", s.headers)
	m.HandleFunc("GET /api/address/{addr}", s.address)
	m.HandleFunc("GET /api/address/{addr}/txs", s.addressTxs)
	m.HandleFunc("GET /api/address/{addr}/txs/chain", s.addressChain)
	m.HandleFunc("GET /api/address/{addr}/txs/chain/{last}", s.addressChain)
	m.HandleFunc("GET /api/address/{addr}/txs/mempool", s.addressMempool)
	m.HandleFunc("GET /api/mempool", s.mempool)
	m.HandleFunc("GET /api/mempool/txids", s.mempoolTxids)
	m.HandleFunc("GET /api/mempool/recent", s.mempoolRecent)
	m.HandleFunc("GET /api/fee-estimates", s.feeEstimates)
	m.HandleFunc("GET /api/v1/fees/recommended", s.feesRecommended)
	m.HandleFunc("GET /api/v1/fees/mempool-blocks", s.feesMempoolBlocks)
	m.HandleFunc("GET /api/mempool/txs", s.poolFetch)
	m.HandleFunc("GET /api/peers", s.peers)
	m.HandleFunc("GET /api/genesis", s.genesis)
	m.HandleFunc("GET /api/chain", s.download)
	m.HandleFunc("GET /metrics", s.metrics)
	m.HandleFunc("GET /{$}", s.pageIndex)
	m.HandleFunc("GET /blocks", s.pageBlocks)
	m.HandleFunc("GET /blocks/{height}", s.pageBlocks)
	m.HandleFunc("GET /mempool", s.pageMempool)
	m.HandleFunc("GET /peers", s.pagePeers)
	m.HandleFunc("GET /retarget", s.pageRetarget)
	m.HandleFunc("GET /block/{hash}", s.pageBlock)
	m.HandleFunc("GET /tx/{id}", s.pageTx)
	m.HandleFunc("GET /address/{addr}", s.pageAddress)
	m.HandleFunc("GET /search", s.search)
	m.HandleFunc("GET /install.sh", s.installScript)
	m.HandleFunc("GET /bin/{name}", s.binary)
	m.HandleFunc("GET /man/{name}", s.page)
	m.HandleFunc("GET /SHA256SUMS", s.checksums)
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
// malformed input, 503 when the directory is unavailable, busy or its
// index far behind, 500 otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, explore.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, err.Error())
	case errors.Is(err, explore.ErrBadRef):
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
	case rule.CodeOf(err) != "" && rule.CodeOf(err) != rule.Corrupt:
		writeError(w, http.StatusBadRequest, string(rule.CodeOf(err)), err.Error())
	case errors.Is(err, errUnavailable):
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, err.Error())
	case errors.Is(err, explore.ErrIndexBehind):
		w.Header()["Retry-After"] = hdrRetry
		writeError(w, http.StatusServiceUnavailable, codeIndexBehind, err.Error())
	case errors.As(err, new(*busyError)), errors.Is(err, txindex.ErrBusy):
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

func badTxid(w http.ResponseWriter) {
	writeError(w, http.StatusBadRequest, codeBadHex, "a txid is 32 lowercase hex digits (a transfer), or 64 (a reward)")
}

func badNumber(w http.ResponseWriter, what string) {
	writeError(w, http.StatusBadRequest, codeBadNumber, what+" is a decimal number without sign or leading zeros")
}

// answer writes an answer built by fn under the node's read lock
// (nothing is held while it goes out), or fn's error: JSON with its
// newline, or text when fn begins it with textMark.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, fn func(n *node.Node, dst []byte) ([]byte, error)) {
	n := s.st.rlock()
	if n == nil {
		s.unavailable(w)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	var err error
	buf.b, err = fn(n, buf.b)
	s.st.runlock()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(buf.b) > 0 && buf.b[0] == textMark {
		write(w, hdrText, buf.b[1:])
		return
	}
	write(w, hdrJSON, append(buf.b, '\n'))
}

// textMark begins an answer of answer's that is text, not JSON.
const textMark = 0

// lookup is the node's transfer-index lookups.
func (s *Server) lookup(n *node.Node) explore.Lookup {
	return explore.Lookup{N: n, X: s.st.idx, MaxLag: s.cfg.maxLag}
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

// notFoundError is a 404 of the web app's own.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return explore.ErrNotFound }

// badRefError is a malformed reference of the web app's own.
type badRefError struct{ msg string }

func (e *badRefError) Error() string { return e.msg }
func (e *badRefError) Unwrap() error { return explore.ErrBadRef }

// Blocks.

// findBlock returns the block whose hash is in the path (400 when it is
// not a hash), on the main chain or a side branch.
func (s *Server) findBlock(w http.ResponseWriter, r *http.Request, n *node.Node) (*chain.BlockNode, bool) {
	h, err := chainhash.ParseHash(r.PathValue("hash"))
	if err != nil {
		return nil, false
	}
	return n.Chain().Node(h), true
}

// withBlock runs fn on the block of the path's hash, with the node read
// locked; a malformed hash is 400, an unknown one 404.
func (s *Server) withBlock(w http.ResponseWriter, r *http.Request, fn func(n *node.Node, nd *chain.BlockNode, dst []byte) ([]byte, error)) {
	if _, err := chainhash.ParseHash(r.PathValue("hash")); err != nil {
		badHex(w, "a block hash", 64)
		return
	}
	s.answer(w, r, func(n *node.Node, dst []byte) ([]byte, error) {
		nd, _ := s.findBlock(w, r, n)
		if nd == nil {
			return dst, &notFoundError{r.PathValue("hash") + ": no such block"}
		}
		return fn(n, nd, dst)
	})
}

// info returns what the block answers need of block nd: its header, read
// from its line and checked against its hash.
func info(n *node.Node, nd *chain.BlockNode) (blockInfo, error) {
	bi := blockInfo{nd: nd, median: n.Chain().MedianTime(nd)}
	if nd.Parent == nil {
		return bi, nil
	}
	line, err := n.Line(nd)
	if err != nil {
		return bi, err
	}
	hdr, err := block.ParseHeader(line)
	if err != nil || hdr.ComputeHash() != nd.Hash {
		return bi, chaindir.Corruptf(chaindir.SegmentName(nd.Loc.Segment), 0, "the line of block %x does not hold its header: %s", nd.Hash[:8], chaindir.ReindexHint)
	}
	bi.hdr = hdr
	return bi, nil
}

func (s *Server) genesisSize() int { return len(s.st.snap.Load().params) - 1 }

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
	s.answer(w, r, func(n *node.Node, dst []byte) ([]byte, error) {
		c := n.Chain()
		h := c.Tip().Height
		if start != nil {
			if *start > h {
				return dst, &notFoundError{"no block at height " + strconv.FormatUint(*start, 10)}
			}
			h = *start
		}
		dst = append(dst, '[')
		for nd, i := c.AtHeight(h), 0; nd != nil && i < blocksPage; nd, i = nd.Parent, i+1 {
			bi, err := info(n, nd)
			if err != nil {
				return dst, err
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendBlock(dst, bi, n.Params(), s.genesisSize())
		}
		return append(dst, ']'), nil
	})
}

func (s *Server) block(w http.ResponseWriter, r *http.Request) {
	s.withBlock(w, r, func(n *node.Node, nd *chain.BlockNode, dst []byte) ([]byte, error) {
		bi, err := info(n, nd)
		if err != nil {
			return dst, err
		}
		return appendBlock(dst, bi, n.Params(), s.genesisSize()), nil
	})
}

// blockStatus answers {"in_best_chain":B,"height":N,"next_best":H}, the
// last two for a block of the main chain only, next_best below the tip
// only.
func (s *Server) blockStatus(w http.ResponseWriter, r *http.Request) {
	s.withBlock(w, r, func(n *node.Node, nd *chain.BlockNode, dst []byte) ([]byte, error) {
		c := n.Chain()
		if c.AtHeight(nd.Height) != nd {
			return append(dst, `{"in_best_chain":false}`...), nil
		}
		dst = append(dst, `{"in_best_chain":true,"height":`...)
		dst = strconv.AppendUint(dst, nd.Height, 10)
		if next := c.AtHeight(nd.Height + 1); next != nil {
			dst = append(dst, `,"next_best":"`...)
			dst = hex.AppendEncode(dst, next.Hash[:])
			dst = append(dst, '"')
		}
		return append(dst, '}'), nil
	})
}

func (s *Server) blockTxids(w http.ResponseWriter, r *http.Request) {
	s.withBlock(w, r, func(n *node.Node, nd *chain.BlockNode, dst []byte) ([]byte, error) {
		fs, err := explore.BlockTxs(n, nd, 0, nd.TxCount+1)
		if err != nil {
			return dst, err
		}
		dst = append(dst, '[')
		for i := range fs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = hex.AppendEncode(dst, fs[i].TxID())
			dst = append(dst, '"')
		}
		return append(dst, ']'), nil
	})
}

// blockTxs answers 25 transactions of a block from the start index, a
// multiple of 25 (400 else; 404 past the last).
func (s *Server) blockTxs(w http.ResponseWriter, r *http.Request) {
	start := uint64(0)
	if v := r.PathValue("start"); v != "" {
		h, ok := parseHeight(v)
		if !ok {
			badNumber(w, "the start index")
			return
		}
		if h%txsPage != 0 {
			writeError(w, http.StatusBadRequest, codeBadNumber, "the start index is a multiple of "+strconv.Itoa(txsPage))
			return
		}
		start = h
	}
	s.withBlock(w, r, func(n *node.Node, nd *chain.BlockNode, dst []byte) ([]byte, error) {
		count := uint64(nd.TxCount + 1)
		if nd.Parent == nil {
			count = 0
		}
		if start >= count {
			return dst, &notFoundError{"start index " + strconv.FormatUint(start, 10) + " out of range: the block holds " + strconv.FormatUint(count, 10) + " transactions"}
		}
		fs, err := explore.BlockTxs(n, nd, int(start), txsPage)
		if err != nil {
			return dst, err
		}
		return appendTxArray(dst, fs), nil
	})
}

func (s *Server) blockTxid(w http.ResponseWriter, r *http.Request) {
	i, ok := parseHeight(r.PathValue("index"))
	if !ok {
		badNumber(w, "a transaction index")
		return
	}
	s.withBlock(w, r, func(n *node.Node, nd *chain.BlockNode, dst []byte) ([]byte, error) {
		if nd.Parent == nil || i > uint64(nd.TxCount) {
			return dst, &notFoundError{"the block has no transaction " + strconv.FormatUint(i, 10)}
		}
		fs, err := explore.BlockTxs(n, nd, int(i), 1)
		if err != nil {
			return dst, err
		}
		dst = append(dst, textMark)
		return hex.AppendEncode(dst, fs[0].TxID()), nil
	})
}

// blockHeader answers the block's 200-byte header in hex (cnj-format(5));
// block 0 has none.
func (s *Server) blockHeader(w http.ResponseWriter, r *http.Request) {
	s.withBlock(w, r, func(n *node.Node, nd *chain.BlockNode, dst []byte) ([]byte, error) {
		if nd.Parent == nil {
			return dst, &notFoundError{"block 0 has no header: it is the genesis, /api/genesis"}
		}
		bi, err := info(n, nd)
		if err != nil {
			return dst, err
		}
		h := bi.hdr.Bytes()
		dst = append(dst, textMark)
		return hex.AppendEncode(dst, h[:]), nil
	})
}

// blockRaw answers the block's line as stored (the genesis line for
// block 0): cnj's raw form of a block.
func (s *Server) blockRaw(w http.ResponseWriter, r *http.Request) {
	s.withBlock(w, r, func(n *node.Node, nd *chain.BlockNode, dst []byte) ([]byte, error) {
		return explore.AppendBlockLine(dst, n, nd)
	})
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

// Transactions.

// withTx runs fn on the transaction of the path's txid.
func (s *Server) withTx(w http.ResponseWriter, r *http.Request, fn func(n *node.Node, f *explore.Found, dst []byte) ([]byte, error)) {
	txid, err := explore.ParseTxRef(r.PathValue("txid"))
	if err != nil {
		badTxid(w)
		return
	}
	s.answer(w, r, func(n *node.Node, dst []byte) ([]byte, error) {
		f, err := s.lookup(n).FindTx(txid)
		if err != nil {
			return dst, err
		}
		return fn(n, &f, dst)
	})
}

func (s *Server) tx(w http.ResponseWriter, r *http.Request) {
	s.withTx(w, r, func(n *node.Node, f *explore.Found, dst []byte) ([]byte, error) {
		return appendTxObject(dst, f), nil
	})
}

func (s *Server) txStatus(w http.ResponseWriter, r *http.Request) {
	s.withTx(w, r, func(n *node.Node, f *explore.Found, dst []byte) ([]byte, error) {
		return appendStatus(dst, f), nil
	})
}

// txProof answers the merkle proof of a confirmed transaction:
// {"block_height":H,"merkle":[HEX64...],"pos":P} (Esplora's), the audit
// path from the transaction's leaf up to its block's merkle root
// (cnj-format(5)), and cnj's tx_count, the leaves of the tree.
func (s *Server) txProof(w http.ResponseWriter, r *http.Request) {
	s.withTx(w, r, func(n *node.Node, f *explore.Found, dst []byte) ([]byte, error) {
		if f.Block == nil {
			return dst, &notFoundError{"the transaction is in the mempool: no proof until it is in a block"}
		}
		b, err := n.Chain().Block(f.Block)
		if err != nil {
			return dst, err
		}
		leaves := block.Leaves(n.Params().Hash(), &b.Reward, b.Txs)
		dst = append(dst, `{"block_height":`...)
		dst = strconv.AppendUint(dst, f.Block.Height, 10)
		dst = append(dst, `,"merkle":[`...)
		for i, h := range block.MerkleProof(leaves, f.Pos) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = hex.AppendEncode(dst, h[:])
			dst = append(dst, '"')
		}
		dst = append(dst, `],"pos":`...)
		dst = strconv.AppendInt(dst, int64(f.Pos), 10)
		dst = append(dst, `,"tx_count":`...)
		dst = strconv.AppendInt(dst, int64(len(leaves)), 10)
		return append(dst, '}'), nil
	})
}

// Addresses.

// withAddress runs fn for the path's address, checked against the
// network (400 bad-address, wrong-network).
func (s *Server) withAddress(w http.ResponseWriter, r *http.Request, fn func(n *node.Node, addr string, dst []byte) ([]byte, error)) {
	addr := r.PathValue("addr")
	s.answer(w, r, func(n *node.Node, dst []byte) ([]byte, error) {
		if err := explore.CheckAddress(n, addr); err != nil {
			return dst, err
		}
		return fn(n, addr, dst)
	})
}

// address answers {"address":A,"chain_stats":{..},"mempool_stats":{..}}
// and cnj's balance: confirmed, immature, pending and the tip's height.
func (s *Server) address(w http.ResponseWriter, r *http.Request) {
	s.withAddress(w, r, func(n *node.Node, addr string, dst []byte) ([]byte, error) {
		cs, err := s.lookup(n).Stats(addr)
		if err != nil {
			return dst, err
		}
		c := n.Chain()
		b := c.Ledger().Balance(addr)
		dst = append(dst, `{"address":"`...)
		dst = append(dst, addr...) // a valid address is lowercase letters and digits
		dst = append(dst, `","chain_stats":`...)
		dst = appendStats(dst, cs)
		dst = append(dst, `,"mempool_stats":`...)
		dst = appendStats(dst, s.poolOf(n).stats(addr))
		dst = append(dst, `,"confirmed":`...)
		dst = strconv.AppendUint(dst, b.Confirmed, 10)
		dst = append(dst, `,"immature":`...)
		dst = strconv.AppendUint(dst, b.Immature, 10)
		dst = append(dst, `,"pending":`...)
		dst = strconv.AppendInt(dst, n.Pool.Pending(addr), 10)
		dst = append(dst, `,"height":`...)
		dst = strconv.AppendUint(dst, c.Tip().Height, 10)
		return append(dst, '}'), nil
	})
}

// poolOf returns the answers of the pool of n: the snapshot's when it is
// n's pool (it is but for a moment after a refresh), else built anew.
func (s *Server) poolOf(n *node.Node) *poolView {
	if snap := s.st.snap.Load(); snap.pool == n.Pool {
		return snap.mempool()
	}
	return newPoolView(n.Pool.Txs())
}

// pendingOf returns addr's transactions in the pool, newest first, at
// most mempoolPage.
func (s *Server) pendingOf(n *node.Node, addr string) []explore.Found {
	var out []explore.Found
	for _, t := range s.poolOf(n).pending(addr, mempoolPage) {
		out = append(out, explore.Found{Tx: t})
	}
	return out
}

// confirmed returns a page of addr's history on the main chain, newest
// first, after the txid after (nil: from the newest).
func (s *Server) confirmed(n *node.Node, addr string, after []byte) ([]explore.Found, error) {
	var out []explore.Found
	err := s.lookup(n).History(addr, after, txsPage, func(f explore.Found) bool {
		out = append(out, f)
		return true
	})
	return out, err
}

// addressTxs answers the address's mempool transactions (newest first,
// up to 50), then its newest 25 on the main chain.
func (s *Server) addressTxs(w http.ResponseWriter, r *http.Request) {
	s.withAddress(w, r, func(n *node.Node, addr string, dst []byte) ([]byte, error) {
		fs, err := s.confirmed(n, addr, nil)
		if err != nil {
			return dst, err
		}
		return appendTxArray(dst, append(s.pendingOf(n, addr), fs...)), nil
	})
}

// addressChain answers 25 of the address's transactions on the main
// chain, newest first, after the txid in the path when there is one.
func (s *Server) addressChain(w http.ResponseWriter, r *http.Request) {
	var after []byte
	if v := r.PathValue("last"); v != "" {
		txid, err := explore.ParseTxRef(v)
		if err != nil {
			badTxid(w)
			return
		}
		after = txid
	}
	s.withAddress(w, r, func(n *node.Node, addr string, dst []byte) ([]byte, error) {
		fs, err := s.confirmed(n, addr, after)
		if err != nil {
			return dst, err
		}
		return appendTxArray(dst, fs), nil
	})
}

func (s *Server) addressMempool(w http.ResponseWriter, r *http.Request) {
	s.withAddress(w, r, func(n *node.Node, addr string, dst []byte) ([]byte, error) {
		return appendTxArray(dst, s.pendingOf(n, addr)), nil
	})
}

// Mempool and fees.

func (s *Server) mempool(w http.ResponseWriter, r *http.Request) {
	buf := getBuf()
	defer putBuf(buf)
	buf.b = append(s.st.snap.Load().mempool().appendMempool(buf.b), '\n')
	write(w, hdrJSON, buf.b)
}

func (s *Server) mempoolTxids(w http.ResponseWriter, r *http.Request) {
	write(w, hdrJSON, s.st.snap.Load().mempool().ids)
}

func (s *Server) mempoolRecent(w http.ResponseWriter, r *http.Request) {
	buf := getBuf()
	defer putBuf(buf)
	buf.b = append(s.st.snap.Load().mempool().appendRecent(buf.b), '\n')
	write(w, hdrJSON, buf.b)
}

// estimates returns the fee estimates of feeTargets at the node's tip.
func (s *Server) estimates(n *node.Node) ([]float64, error) {
	recent, err := s.fees.recent(n, feeWindow)
	if err != nil {
		return nil, err
	}
	return feeEstimates(recent, floorRate(n.Params())), nil
}

func (s *Server) feeEstimates(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, func(n *node.Node, dst []byte) ([]byte, error) {
		est, err := s.estimates(n)
		if err != nil {
			return dst, err
		}
		return appendFeeEstimates(dst, est), nil
	})
}

// feesRecommended answers mempool.space's /api/v1/fees/recommended from
// the same estimates: fastestFee (1 block), halfHourFee (3), hourFee (6),
// economyFee (144) and minimumFee (the floor).
func (s *Server) feesRecommended(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, func(n *node.Node, dst []byte) ([]byte, error) {
		est, err := s.estimates(n)
		if err != nil {
			return dst, err
		}
		at := func(k int) float64 {
			for i, t := range feeTargets {
				if t == k {
					return est[i]
				}
			}
			return 0
		}
		for i, f := range []struct {
			k    string
			rate float64
		}{{"fastestFee", at(1)}, {"halfHourFee", at(3)}, {"hourFee", at(6)}, {"economyFee", at(144)}, {"minimumFee", floorRate(n.Params())}} {
			if i == 0 {
				dst = append(dst, '{')
			} else {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, f.k...)
			dst = append(dst, `":`...)
			dst = appendRate(dst, f.rate)
		}
		return append(dst, '}'), nil
	})
}

// feesMempoolBlocks answers mempool.space's /api/v1/fees/mempool-blocks:
// the pool projected into the next blocks (poolView.nextBlocks), each
// filling the room that the node's miner fills (node.BlockRoom).
func (s *Server) feesMempoolBlocks(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, func(n *node.Node, dst []byte) ([]byte, error) {
		return appendNextBlocks(dst, s.poolOf(n).nextBlocks(node.BlockRoom(n.Params()))), nil
	})
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
