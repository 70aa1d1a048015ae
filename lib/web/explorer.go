package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/txindex"
)

// maxPageEvents bounds the history an address page shows (newest kept).
const maxPageEvents = 500

var pageFuncs = template.FuncMap{
	"cnj":  func(u uint64) string { return amount.Format(u) },
	"hex":  func(b [32]byte) string { return hexOf(b[:]) },
	"id":   func(b [16]byte) string { return hexOf(b[:]) },
	"time": func(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02 15:04:05 UTC") },
	"signed": func(v int64) string {
		if v < 0 {
			return "-" + amount.Format(uint64(-v))
		}
		return amount.Format(uint64(v))
	},
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

var pages = template.Must(template.New("").Funcs(pageFuncs).Parse(`
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · Coniunctum</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#222}
a{color:#05c;text-decoration:none}a:hover{text-decoration:underline}
code,.h{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2em .5em;border-bottom:1px solid #ddd;vertical-align:top}
th{font-weight:600}header{display:flex;gap:1em;align-items:center;flex-wrap:wrap}
input[type=text]{width:28em;max-width:100%}.n{text-align:right}
</style></head><body>
<header><a href="/"><b>Coniunctum</b></a>
<form action="/search" method="get"><input type="text" name="q" placeholder="block hash or height, transaction id, address" aria-label="search"> <input type="submit" value="Search"></form></header>
{{end}}
{{define "bottom"}}<footer><p><small><a href="/api/tip">API</a> · <a href="/metrics">metrics</a> · <a href="/install.sh">install.sh</a></small></p></footer>
</body></html>
{{end}}

{{define "index"}}{{template "top" "Explorer"}}
<h1>Chain</h1>
<table>
<tr><th>Tip</th><td>{{.Tip.Height}} · <a class="h" href="/block/{{hex .Tip.Hash}}">{{hex .Tip.Hash}}</a></td></tr>
<tr><th>Time</th><td>{{time .Tip.Timestamp}}</td></tr>
<tr><th>Mempool</th><td>{{.Mempool}} transfers</td></tr>
</table>
<h2>Latest blocks</h2>
<table><tr><th>Height</th><th>Hash</th><th>Time</th><th class="n">Transfers</th><th class="n">Size</th></tr>
{{range .Blocks}}<tr><td>{{.Height}}</td><td><a class="h" href="/block/{{hex .Hash}}">{{hex .Hash}}</a></td><td>{{time .Timestamp}}</td><td class="n">{{.TxCount}}</td><td class="n">{{if .Parent}}{{.Loc.Length}}{{else}}–{{end}}</td></tr>
{{end}}</table>
{{template "bottom"}}{{end}}

{{define "block"}}{{template "top" (printf "Block %d" .Node.Height)}}
<h1>Block {{.Node.Height}}</h1>
<table>
<tr><th>Hash</th><td class="h">{{hex .Node.Hash}}</td></tr>
{{if .Node.Parent}}<tr><th>Previous</th><td><a class="h" href="/block/{{hex .Node.PrevHash}}">{{hex .Node.PrevHash}}</a></td></tr>{{end}}
<tr><th>Status</th><td>{{if .Main}}main chain, {{.Confirmations}} confirmations{{else if .Node.Invalid}}invalid{{else}}side branch{{end}}</td></tr>
<tr><th>Time</th><td>{{time .Node.Timestamp}}</td></tr>
<tr><th>Target</th><td class="h">{{hex .Node.Target}}</td></tr>
{{with .Block}}<tr><th>Merkle root</th><td class="h">{{hex .MerkleRoot}}</td></tr>
<tr><th>Proof</th><td>{{.Proof}}</td></tr>
<tr><th>Miner</th><td><a class="h" href="/address/{{.Miner}}">{{.Miner}}</a></td></tr>
<tr><th>Reward</th><td>{{cnj .Reward.Amount}} CNJ</td></tr>{{end}}
</table>
{{with .Block}}<h2>{{len .Txs}} transfers</h2>
<table><tr><th>Id</th><th>From</th><th>To</th><th class="n">Amount</th><th class="n">Fee</th></tr>
{{range .Txs}}<tr><td><a class="h" href="/tx/{{id .ID}}">{{id .ID}}</a></td><td><a class="h" href="/address/{{.Sender}}">{{.Sender}}</a></td><td><a class="h" href="/address/{{.Receiver}}">{{.Receiver}}</a></td><td class="n">{{cnj .Amount}}</td><td class="n">{{cnj .Fee}}</td></tr>
{{end}}</table>{{else}}<p>The genesis block: the network's parameters, <a href="/api/genesis">/api/genesis</a>.</p>{{end}}
{{template "bottom"}}{{end}}

{{define "tx"}}{{template "top" "Transaction"}}
<h1>Transaction</h1>
<table>
<tr><th>Id</th><td class="h">{{id .Tx.ID}}</td></tr>
<tr><th>Status</th><td>{{if .Block}}in block <a href="/block/{{hex .Block.Hash}}">{{.Block.Height}}</a>, {{.Confirmations}} confirmations{{else}}pending (mempool){{end}}</td></tr>
<tr><th>From</th><td><a class="h" href="/address/{{.Tx.Sender}}">{{.Tx.Sender}}</a></td></tr>
<tr><th>To</th><td><a class="h" href="/address/{{.Tx.Receiver}}">{{.Tx.Receiver}}</a></td></tr>
<tr><th>Amount</th><td>{{cnj .Tx.Amount}} CNJ</td></tr>
<tr><th>Fee</th><td>{{cnj .Tx.Fee}} CNJ</td></tr>
<tr><th>Time</th><td>{{time .Tx.Timestamp}}</td></tr>
<tr><th>Hash</th><td class="h">{{hex .Tx.Hash}}</td></tr>
</table>
{{template "bottom"}}{{end}}

{{define "address"}}{{template "top" "Address"}}
<h1>Address</h1>
<p class="h">{{.Address}}</p>
<table>
<tr><th>Confirmed</th><td>{{cnj .Confirmed}} CNJ</td></tr>
<tr><th>Immature</th><td>{{cnj .Immature}} CNJ</td></tr>
<tr><th>Pending</th><td>{{signed .Pending}} CNJ</td></tr>
</table>
<h2>History{{if .Cut}} (the latest {{len .Events}} of {{.Total}}){{end}}</h2>
<table><tr><th>Block</th><th>Kind</th><th>Transaction</th><th>Counterparty</th><th class="n">Amount</th><th class="n">Fee</th></tr>
{{range .Events}}<tr><td>{{if .Block}}<a href="/block/{{hex .Block.Hash}}">{{.Block.Height}}</a>{{else}}pending{{end}}</td><td>{{.Kind}}</td><td>{{with .Tx}}<a class="h" href="/tx/{{id .ID}}">{{id .ID}}</a>{{end}}</td><td>{{with .Counterparty}}<a class="h" href="/address/{{.}}">{{.}}</a>{{end}}</td><td class="n">{{cnj .Amount}}</td><td class="n">{{with .Tx}}{{cnj .Fee}}{{end}}</td></tr>
{{end}}</table>
{{template "bottom"}}{{end}}

{{define "error"}}{{template "top" .Title}}
<h1>{{.Title}}</h1>
<p>{{.Msg}}</p>
{{template "bottom"}}{{end}}
`))

// render executes a page into memory and sends it; nothing is sent when it
// fails.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		s.log.Printf("%s %s: page %s: %v", r.Method, r.URL.Path, name, err)
		writeError(w, http.StatusInternalServerError, codeInternal, "internal error")
		return
	}
	h := w.Header()
	h["Content-Type"] = hdrHTML
	h["X-Content-Type-Options"] = hdrNosniff
	h["Content-Security-Policy"] = []string{"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// pageError answers err as an HTML page with the status fail would give.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status, title := http.StatusInternalServerError, "Error"
	msg := "Something went wrong on this node."
	switch {
	case errors.Is(err, explore.ErrNotFound):
		status, title, msg = http.StatusNotFound, "Not found", err.Error()
	case errors.Is(err, explore.ErrBadRef), rule.CodeOf(err) != "":
		status, title, msg = http.StatusBadRequest, "Bad request", err.Error()
	case errors.Is(err, errUnavailable):
		status, title, msg = http.StatusServiceUnavailable, "Unavailable", err.Error()
	case errors.As(err, new(*busyError)), errors.Is(err, txindex.ErrBusy):
		w.Header()["Retry-After"] = hdrRetry
		status, title, msg = http.StatusServiceUnavailable, "Busy", err.Error()
	case errors.Is(err, explore.ErrIndexBehind):
		w.Header()["Retry-After"] = hdrRetry
		status, title, msg = http.StatusServiceUnavailable, "Index behind", err.Error()
	default:
		s.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	s.render(w, r, status, "error", struct{ Title, Msg string }{title, msg})
}

func (s *Server) pageIndex(w http.ResponseWriter, r *http.Request) {
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	var nds []*chain.BlockNode
	for nd := n.Chain().Tip(); nd != nil && len(nds) < blocksPage; nd = nd.Parent {
		nds = append(nds, nd)
	}
	s.st.runlock()
	snap := s.st.snap.Load()
	s.render(w, r, http.StatusOK, "index", struct {
		Tip     *chain.BlockNode
		Mempool int
		Blocks  []*chain.BlockNode
	}{snap.tip, len(snap.mempool().txs), nds})
}

func (s *Server) pageBlock(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("hash")
	if _, err := chainhash.ParseHash(ref); err != nil {
		s.pageError(w, r, &badRefError{"a block hash is 64 lowercase hex digits"})
		return
	}
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	data := struct {
		Node          *chain.BlockNode
		Block         *block.Block
		Main          bool
		Confirmations uint64
	}{}
	nd, err := explore.FindBlock(n, ref)
	if err == nil {
		c := n.Chain()
		data.Node, data.Main = nd, c.AtHeight(nd.Height) == nd
		if data.Main {
			data.Confirmations = c.Tip().Height - nd.Height + 1
		}
		if nd.Parent != nil {
			data.Block, err = c.Block(nd)
		}
	}
	s.st.runlock()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "block", data)
}

func (s *Server) pageTx(w http.ResponseWriter, r *http.Request) {
	id, err := chainhash.ParseID(r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, &badRefError{"a transaction id is 32 lowercase hex digits"})
		return
	}
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	f, err := s.lookup(n).FindTx(id[:])
	s.st.runlock()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "tx", f)
}

func (s *Server) pageAddress(w http.ResponseWriter, r *http.Request) {
	addr := r.PathValue("addr")
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	var data struct {
		Address             string
		Confirmed, Immature uint64
		Pending             int64
		Events              []explore.Event
		Total               int
		Cut                 bool
	}
	err := explore.CheckAddress(n, addr)
	if err == nil {
		b := n.Chain().Ledger().Balance(addr)
		data.Address, data.Confirmed, data.Immature = addr, b.Confirmed, b.Immature
		data.Pending = n.Pool.Pending(addr)
		// The newest maxPageEvents events, newest first: pending, then
		// confirmed.
		l := s.lookup(n)
		var st txindex.Stats
		st, err = l.Stats(addr)
		pending := s.pendingOf(n, addr)
		data.Total = int(st.TxCount) + len(pending)
		for _, f := range pending {
			data.Events = append(data.Events, explore.EventOf(f, addr))
		}
		if err == nil {
			err = l.History(addr, nil, maxPageEvents-len(data.Events), func(f explore.Found) bool {
				data.Events = append(data.Events, explore.EventOf(f, addr))
				return true
			})
		}
	}
	s.st.runlock()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data.Cut = data.Total > len(data.Events)
	s.render(w, r, http.StatusOK, "address", data)
}

// search sends the search box's query to its page: a block hash or height,
// a transaction id, or an address.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	_, hashErr := chainhash.ParseHash(q)
	_, idErr := chainhash.ParseID(q)
	var to string
	switch {
	case hashErr == nil:
		to = "/block/" + q
	case idErr == nil:
		to = "/tx/" + q
	default:
		if h, ok := parseHeight(q); ok {
			n := s.st.rlock()
			if n == nil {
				s.pageError(w, r, errUnavailable)
				return
			}
			nd := n.Chain().AtHeight(h)
			s.st.runlock()
			if nd == nil {
				s.pageError(w, r, &notFoundError{"no block at height " + strconv.FormatUint(h, 10)})
				return
			}
			to = "/block/" + hexOf(nd.Hash[:])
		} else if q != "" && len(q) <= 64 && strings.Trim(q, "abcdefghijklmnopqrstuvwxyz0123456789") == "" {
			to = "/address/" + q
		} else {
			s.pageError(w, r, &badRefError{"not a block hash or height, a transaction id or an address"})
			return
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
