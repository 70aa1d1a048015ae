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
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/txindex"
)

// The explorer's pages (cnj-serve(1), PAGES): HTML for people, every one
// naming the network, no script. Their data comes from the same places
// as the JSON API's (the node under the read lock, the transfer index
// through explore.Lookup, the snapshot's pool view); what they add is
// layout, units, charts (svg.go) and the explanations of pages_teach.go.

// Pages of the explorer.
const (
	homeBlocks   = 10  // the newest blocks on the home page
	blocksPerPg  = 25  // /blocks/H
	blockTxsPage = 100 // transfers of a block page
	refreshHome  = 30  // seconds between the home page's reloads
	refreshPool  = 10  // the mempool page's
)

var pageFuncs = template.FuncMap{
	"cnj":    func(u uint64) string { return amount.Format(u) + " CNJ" },
	"units":  func(u uint64) string { return group(strconv.FormatUint(u, 10)) + " units" },
	"hex":    func(b [32]byte) string { return hexOf(b[:]) },
	"short":  func(b [32]byte) string { return hexOf(b[:6]) },
	"id":     func(b [16]byte) string { return hexOf(b[:]) },
	"time":   func(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02 15:04:05 UTC") },
	"ago":    ago,
	"bytes":  sizeOf,
	"int":    func(v any) string { return groupAny(v) },
	"plural": func(n any, one string) string { return plural(groupAny(n), one) },
	"signed": func(v int64) string {
		if v < 0 {
			return "-" + amount.Format(uint64(-v)) + " CNJ"
		}
		return amount.Format(uint64(v)) + " CNJ"
	},
	"rate": func(r float64) string { return strconv.FormatFloat(r, 'f', 2, 64) + " units/B" },
	"diff": func(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) },
	"hps":  func(f float64) string { return strings.TrimSpace(short(f)) + "H/s" },
}

// hexOf is lowercase hex.
func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// group writes decimal digits in groups of three: 1,234,567.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func groupAny(v any) string {
	switch n := v.(type) {
	case int:
		return group(strconv.Itoa(n))
	case int64:
		return group(strconv.FormatInt(n, 10))
	case uint64:
		return group(strconv.FormatUint(n, 10))
	case uint32:
		return group(strconv.FormatUint(uint64(n), 10))
	}
	return "?"
}

// sizeOf writes a size in bytes: "812 B", "1.5 kB", "2.25 MB" (SI).
func sizeOf(v any) string {
	var n float64
	switch x := v.(type) {
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	case uint64:
		n = float64(x)
	case uint32:
		n = float64(x)
	}
	switch {
	case n < 1000:
		return strconv.FormatFloat(n, 'f', 0, 64) + " B"
	case n < 1e6:
		return strconv.FormatFloat(n/1e3, 'g', 3, 64) + " kB"
	default:
		return strconv.FormatFloat(n/1e6, 'g', 3, 64) + " MB"
	}
}

// ago writes how long before now t was, roughly.
func ago(t int64) string {
	d := time.Now().Unix() - t
	switch {
	case d < 0:
		return strconv.FormatInt(-d, 10) + " s ahead of this node's clock"
	case d < 120:
		return strconv.FormatInt(d, 10) + " s ago"
	case d < 7200:
		return strconv.FormatInt(d/60, 10) + " min ago"
	case d < 172800:
		return strconv.FormatInt(d/3600, 10) + " h ago"
	}
	return strconv.FormatInt(d/86400, 10) + " days ago"
}

// page is what every template gets: the network, the title and the
// page's own data.
type page struct {
	Net     netName
	Title   string
	Refresh int // seconds; 0 never
	D       any
}

// netName names the network on every page: its name and the first
// digits of its genesis hash (which tell two devnets apart).
type netName struct {
	Name, Short, Genesis string
}

var pages = template.Must(template.New("").Funcs(pageFuncs).Parse(`
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">
{{end}}<title>{{.Title}} · Coniunctum {{.Net.Name}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:64em;margin:1em auto;padding:0 1em;color:#222}
a{color:#05c;text-decoration:none}a:hover{text-decoration:underline}
code,pre,.h{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
pre{background:#f5f5f5;padding:.6em;white-space:pre-wrap}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2em .5em;border-bottom:1px solid #ddd;vertical-align:top}
th{font-weight:600}header{display:flex;gap:1em;align-items:center;flex-wrap:wrap}
input[type=text]{width:28em;max-width:100%}.n{text-align:right}
.net{background:#eef3fa;border-radius:.3em;padding:.1em .5em}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(20em,1fr));gap:1em}
figure{margin:0}figcaption{font-weight:600}svg{width:100%;height:auto;font:10px system-ui,sans-serif}
.note,.empty{font-size:.85em;color:#555;margin:0}.yes{color:#070;font-weight:600}
.pager{display:flex;gap:1.5em;margin:.6em 0}
</style></head><body>
<header><a href="/"><b>Coniunctum</b></a> <span class="net" title="genesis {{.Net.Genesis}}">{{.Net.Name}} · {{.Net.Short}}</span>
<nav><a href="/blocks">blocks</a> · <a href="/mempool">mempool</a> · <a href="/peers">peers</a> · <a href="/retarget">difficulty</a></nav>
<form action="/search" method="get"><input type="text" name="q" placeholder="block height or hash, transaction id, address" aria-label="search"> <input type="submit" value="Search"></form></header>
<main>
{{end}}
{{define "bottom"}}</main>
<footer><p><small>Network {{.Net.Name}}, genesis <span class="h">{{.Net.Genesis}}</span> · <a href="/api/tip">API</a> · <a href="/metrics">metrics</a> · <a href="/install.sh">install.sh</a></small></p></footer>
</body></html>
{{end}}

{{define "blockrows"}}<table><tr><th>Height</th><th>Hash</th><th>Time</th><th class="n">Interval</th><th class="n">Transfers</th><th class="n">Size</th></tr>
{{range .}}<tr><td><a href="/block/{{hex .Node.Hash}}">{{.Node.Height}}</a></td><td><a class="h" href="/block/{{hex .Node.Hash}}">{{hex .Node.Hash}}</a></td><td>{{time .Node.Timestamp}}</td><td class="n">{{if .Node.Parent}}{{.Interval}} s{{else}}–{{end}}</td><td class="n">{{.Node.TxCount}}</td><td class="n">{{bytes .Size}}</td></tr>
{{end}}</table>{{end}}

{{define "index"}}{{template "top" .}}{{with .D}}
<h1>Chain</h1>
<table>
<tr><th>Network</th><td>{{$.Net.Name}}, genesis <span class="h">{{$.Net.Genesis}}</span></td></tr>
<tr><th>Tip</th><td><a href="/block/{{hex .Tip.Hash}}">{{.Tip.Height}}</a> · <a class="h" href="/block/{{hex .Tip.Hash}}">{{hex .Tip.Hash}}</a></td></tr>
<tr><th>Time</th><td>{{time .Tip.Timestamp}} ({{ago .Tip.Timestamp}})</td></tr>
<tr><th>Difficulty</th><td>{{diff .Difficulty}} (<a href="/retarget">how the next target is computed</a>)</td></tr>
<tr><th>Hashrate</th><td>{{hps .Hashrate}}, estimated from the work and the timestamps of the last {{plural .HashrateBlocks "block"}}</td></tr>
<tr><th>Mempool</th><td><a href="/mempool">{{plural .PoolCount "transfer"}}, {{bytes .PoolBytes}}</a></td></tr>
</table>
<h2>The last {{plural .ChartBlocks "block"}}</h2>
<div class="charts">{{range .Charts}}{{.}}{{end}}</div>
<h2>Latest blocks</h2>
{{template "blockrows" .Blocks}}
{{if .Older}}<p class="pager"><a href="/blocks/{{.Older}}">Older blocks →</a></p>{{end}}
{{end}}{{template "bottom" .}}{{end}}

{{define "blocks"}}{{template "top" .}}{{with .D}}
<h1>Blocks {{.From}} to {{.To}}</h1>
<p>The main chain, newest first, {{.PerPage}} a page; the tip is at {{.Tip}}.</p>
{{template "blockrows" .Blocks}}
<p class="pager">{{if .Newer}}<a href="/blocks/{{.Newer}}">← Newer</a>{{else if .Newest}}<a href="/blocks">← Newest</a>{{end}} {{if .HasOlder}}<a href="/blocks/{{.Older}}">Older →</a>{{end}}</p>
{{end}}{{template "bottom" .}}{{end}}

{{define "block"}}{{template "top" .}}{{with .D}}
<h1>Block {{.Node.Height}}</h1>
<table>
<tr><th>Hash</th><td class="h">{{hex .Node.Hash}}</td></tr>
{{if .Node.Parent}}<tr><th>Previous</th><td><a href="/block/{{hex .Node.Parent.Hash}}">{{.Node.Parent.Height}}</a> · <a class="h" href="/block/{{hex .Node.Parent.Hash}}">{{hex .Node.Parent.Hash}}</a></td></tr>{{end}}
{{with .Next}}<tr><th>Next</th><td><a href="/block/{{hex .Hash}}">{{.Height}}</a> · <a class="h" href="/block/{{hex .Hash}}">{{hex .Hash}}</a></td></tr>{{end}}
<tr><th>Status</th><td>{{if .Main}}main chain, {{plural .Confirmations "confirmation"}}{{else if .Node.Invalid}}invalid{{else}}side branch{{end}}</td></tr>
<tr><th>Time</th><td>{{time .Node.Timestamp}} ({{ago .Node.Timestamp}}); median of the last 11: {{time .Median}}</td></tr>
<tr><th>Size</th><td>{{bytes .Size}} ({{int .Size}} bytes of its line)</td></tr>
<tr><th>Target</th><td class="h">{{hex .Node.Target}}</td></tr>
<tr><th>Difficulty</th><td>{{diff .Difficulty}}</td></tr>
{{with .Block}}<tr><th>Merkle root</th><td class="h">{{hex .MerkleRoot}}</td></tr>
<tr><th>Proof</th><td>{{.Proof}}</td></tr>
<tr><th>Miner</th><td><a class="h" href="/address/{{.Miner}}">{{.Miner}}</a></td></tr>
<tr><th>Reward</th><td><a href="/tx/{{$.D.RewardID}}">{{cnj .Reward.Amount}}</a> ({{units .Reward.Amount}}), fees {{cnj $.D.Fees}} included</td></tr>{{end}}
</table>
{{if .Block}}{{template "header" .Teach}}
<h2>{{plural (len .Block.Txs) "transfer"}}{{if .Txs}}{{if .Paged}}: {{.First}} to {{.Last}}{{end}}{{end}}</h2>
{{if .Txs}}<table><tr><th>#</th><th>Id</th><th>From</th><th>To</th><th class="n">Amount</th><th class="n">Fee</th></tr>
{{range .Txs}}<tr><td>{{.N}}</td><td><a class="h" href="/tx/{{id .Tx.ID}}">{{id .Tx.ID}}</a></td><td><a class="h" href="/address/{{.Tx.Sender}}">{{.Tx.Sender}}</a></td><td><a class="h" href="/address/{{.Tx.Receiver}}">{{.Tx.Receiver}}</a></td><td class="n">{{cnj .Tx.Amount}}</td><td class="n">{{cnj .Tx.Fee}}</td></tr>
{{end}}</table>
{{if .Paged}}<p class="pager">{{if .Prev}}<a href="/block/{{hex .Node.Hash}}?start={{.PrevStart}}">← Earlier transfers</a>{{end}} {{if .More}}<a href="/block/{{hex .Node.Hash}}?start={{.Last}}">Later transfers →</a>{{end}}</p>{{end}}
{{else}}<p>Only the miner's reward.</p>{{end}}
{{else}}<p>The genesis block: it holds the network's parameters, <a href="/api/genesis">/api/genesis</a>, and its hash names the network.</p>{{end}}
{{end}}{{template "bottom" .}}{{end}}

{{define "tx"}}{{template "top" .}}{{with .D}}
<h1>{{if .F.Tx}}Transfer{{else}}Reward{{end}}</h1>
<table>
<tr><th>Txid</th><td class="h">{{.TxID}}</td></tr>
<tr><th>Status</th><td>{{if .F.Block}}in block <a href="/block/{{hex .F.Block.Hash}}">{{.F.Block.Height}}</a>, {{plural .F.Confirmations "confirmation"}}{{else}}pending (<a href="/mempool">mempool</a>){{end}}</td></tr>
{{with .F.Tx}}<tr><th>From</th><td><a class="h" href="/address/{{.Sender}}">{{.Sender}}</a></td></tr>
<tr><th>To</th><td><a class="h" href="/address/{{.Receiver}}">{{.Receiver}}</a></td></tr>
<tr><th>Amount</th><td>{{cnj .Amount}} ({{units .Amount}})</td></tr>
<tr><th>Fee</th><td>{{cnj .Fee}} ({{units .Fee}}, {{rate $.D.Rate}})</td></tr>
<tr><th>Time</th><td>{{time .Timestamp}}</td></tr>
<tr><th>Signed hash</th><td class="h">{{hex .Hash}}</td></tr>{{end}}
{{with .F.Reward}}<tr><th>To</th><td><a class="h" href="/address/{{.Receiver}}">{{.Receiver}}</a></td></tr>
<tr><th>Amount</th><td>{{cnj .Amount}} ({{units .Amount}}): the subsidy and the block's fees</td></tr>{{end}}
<tr><th>Size</th><td>{{bytes .Size}}</td></tr>
</table>
{{if .F.Block}}{{template "merkle" .Teach}}{{end}}
{{end}}{{template "bottom" .}}{{end}}

{{define "address"}}{{template "top" .}}{{with .D}}
<h1>Address</h1>
<p class="h">{{.Address}}</p>
<table>
<tr><th>Confirmed</th><td>{{cnj .Confirmed}} ({{units .Confirmed}})</td></tr>
<tr><th>Immature</th><td>{{cnj .Immature}} (rewards not yet spendable)</td></tr>
<tr><th>Pending</th><td>{{signed .Pending}} (in the mempool)</td></tr>
<tr><th>Transactions</th><td>{{plural .Total "transaction"}}</td></tr>
</table>
<h2>History{{if .After}}, older than <a class="h" href="/tx/{{.After}}">{{.After}}</a>{{end}}</h2>
{{if .Events}}<table><tr><th>Block</th><th>Kind</th><th>Transaction</th><th>Counterparty</th><th class="n">Amount</th><th class="n">Fee</th></tr>
{{range .Events}}<tr><td>{{if .Block}}<a href="/block/{{hex .Block.Hash}}">{{.Block.Height}}</a>{{else}}pending{{end}}</td><td>{{.Kind}}</td><td>{{with .Tx}}<a class="h" href="/tx/{{id .ID}}">{{id .ID}}</a>{{end}}</td><td>{{with .Counterparty}}<a class="h" href="/address/{{.}}">{{.}}</a>{{end}}</td><td class="n">{{cnj .Amount}}</td><td class="n">{{with .Tx}}{{cnj .Fee}}{{end}}</td></tr>
{{end}}</table>{{else}}<p>Nothing{{if .After}} older{{end}}.</p>{{end}}
<p class="pager">{{if .After}}<a href="/address/{{.Address}}">← Newest</a>{{end}} {{if .Next}}<a href="/address/{{.Address}}?after={{.Next}}">Older →</a>{{end}}</p>
{{end}}{{template "bottom" .}}{{end}}

{{define "error"}}{{template "top" .}}{{with .D}}
<h1>{{.Title}}</h1>
<p>{{.Msg}}</p>{{if .Code}}
<p><small>Reason code: <code>{{.Code}}</code> (HTTP {{.Status}})</small></p>{{end}}
<p><a href="/">The home page</a> lists the newest blocks; the search box takes a block height or hash, a transaction id or an address.</p>
{{end}}{{template "bottom" .}}{{end}}
`))

// render executes a page into memory and sends it; nothing is sent when it
// fails.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, refresh int, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, page{Net: s.net, Title: title, Refresh: refresh, D: data}); err != nil {
		s.log.Printf("%s %s: page %s: %v", r.Method, r.URL.Path, name, err)
		writeError(w, http.StatusInternalServerError, codeInternal, "internal error")
		return
	}
	h := w.Header()
	h["Content-Type"] = hdrHTML
	h["X-Content-Type-Options"] = hdrNosniff
	h["Content-Security-Policy"] = []string{"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"}
	if status != http.StatusOK {
		h["Cache-Control"] = hdrNoStore
	}
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	Title, Msg, Code string
	Status           int
}

// pageError answers err as an HTML page with the status fail would give,
// and its reason code.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status, title, code := http.StatusInternalServerError, "Error", codeInternal
	msg := "Something went wrong on this node."
	switch {
	case errors.Is(err, explore.ErrNotFound):
		status, title, code, msg = http.StatusNotFound, "Not found", codeNotFound, err.Error()
	case errors.Is(err, explore.ErrBadRef):
		status, title, code, msg = http.StatusBadRequest, "Bad request", codeBadRequest, err.Error()
		var bn *badNumberError
		if errors.As(err, &bn) {
			code = codeBadNumber
		}
	case rule.CodeOf(err) != "" && rule.CodeOf(err) != rule.Corrupt:
		status, title, code, msg = http.StatusBadRequest, "Bad request", string(rule.CodeOf(err)), err.Error()
	case errors.Is(err, errUnavailable):
		status, title, code, msg = http.StatusServiceUnavailable, "Unavailable", codeUnavailable, err.Error()
	case errors.As(err, new(*busyError)), errors.Is(err, txindex.ErrBusy):
		w.Header()["Retry-After"] = hdrRetry
		status, title, code, msg = http.StatusServiceUnavailable, "Busy", codeBusy, err.Error()
	case errors.Is(err, explore.ErrIndexBehind):
		w.Header()["Retry-After"] = hdrRetry
		status, title, code, msg = http.StatusServiceUnavailable, "Index behind", codeIndexBehind, err.Error()
	default:
		s.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	s.render(w, r, status, "error", title, 0, errorPage{title, msg, code, status})
}

// badNumberError is a malformed number of a page's path or query: 400
// with the reason code bad-number.
type badNumberError struct{ msg string }

func (e *badNumberError) Error() string { return e.msg }
func (e *badNumberError) Unwrap() error { return explore.ErrBadRef }

// forPeople reports whether an error answer to r should be a page: a
// browser asks for HTML, and the path is not one of the machine answers
// (the API, metrics, binaries, the installer), which stay as they are.
func forPeople(r *http.Request) bool {
	p := r.URL.Path
	if p == "/api" || strings.HasPrefix(p, "/api/") || p == "/metrics" || strings.HasPrefix(p, "/bin/") || p == "/install.sh" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// refuse answers a request the guards refuse: JSON, or an HTML page with
// the same status and reason code for a browser outside the API.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if !forPeople(r) {
		writeError(w, status, code, msg)
		return
	}
	title := http.StatusText(status)
	s.render(w, r, status, "error", title, 0, errorPage{title, strings.ToUpper(msg[:1]) + msg[1:] + ".", code, status})
}

// notFound answers a path that no route takes: JSON under /api/ and for
// the machine answers, an HTML page for people everywhere else.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/api" || strings.HasPrefix(p, "/api/") || p == "/metrics" || strings.HasPrefix(p, "/bin/") {
		writeError(w, http.StatusNotFound, codeNotFound, "no such page")
		return
	}
	s.render(w, r, http.StatusNotFound, "error", "Not found", 0, errorPage{"Not found",
		"There is no page " + p + " on this node.", codeNotFound, http.StatusNotFound})
}

// blockRow is a line of a table of blocks.
type blockRow struct {
	Node     *chain.BlockNode
	Interval int64 // seconds after its parent
	Size     int   // of its line; the genesis line's for block 0
}

func (s *Server) blockRow(nd *chain.BlockNode) blockRow {
	r := blockRow{Node: nd, Size: int(nd.Loc.Length)}
	if nd.Parent != nil {
		r.Interval = nd.Timestamp - nd.Parent.Timestamp
	} else {
		r.Size = s.genesisSize()
	}
	return r
}

func (s *Server) pageIndex(w http.ResponseWriter, r *http.Request) {
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	c := n.Chain()
	tip := c.Tip()
	var rows []blockRow
	for nd := tip; nd != nil && len(rows) < homeBlocks; nd = nd.Parent {
		rows = append(rows, s.blockRow(nd))
	}
	charts := s.chainCharts(n)
	hr := networkHashrate(n)
	s.st.runlock()
	pool := s.st.snap.Load().mempool()
	charts = append(charts, s.poolChart())
	data := struct {
		Tip                  *chain.BlockNode
		Difficulty, Hashrate float64
		HashrateBlocks       int
		PoolCount, PoolBytes int
		ChartBlocks          int
		Charts               []any
		Blocks               []blockRow
		Older                uint64
	}{Tip: tip, Difficulty: difficulty(&s.limit, &tip.Target), Hashrate: hr, HashrateBlocks: int(min(uint64(hashrateBlocks), tip.Height)),
		PoolCount: len(pool.txs), PoolBytes: pool.bytes, ChartBlocks: chartBlocks, Blocks: rows}
	for _, c := range charts {
		data.Charts = append(data.Charts, c)
	}
	if tip.Height >= homeBlocks {
		data.Older = tip.Height - homeBlocks
	}
	s.render(w, r, http.StatusOK, "index", "Explorer", refreshHome, data)
}

// pageBlocks answers a page of the main chain: blocksPerPg blocks from
// the height in the path (the tip without one) down.
func (s *Server) pageBlocks(w http.ResponseWriter, r *http.Request) {
	var from *uint64
	if v := r.PathValue("height"); v != "" {
		h, ok := parseHeight(v)
		if !ok {
			s.pageError(w, r, &badNumberError{v + ": a height is a decimal number without sign or leading zeros"})
			return
		}
		from = &h
	}
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	c := n.Chain()
	tipH := c.Tip().Height
	h := tipH
	if from != nil {
		h = *from
	}
	if h > tipH {
		s.st.runlock()
		s.pageError(w, r, &notFoundError{"no block at height " + strconv.FormatUint(h, 10) + ": the tip is at " + strconv.FormatUint(tipH, 10)})
		return
	}
	var rows []blockRow
	for nd := c.AtHeight(h); nd != nil && len(rows) < blocksPerPg; nd = nd.Parent {
		rows = append(rows, s.blockRow(nd))
	}
	s.st.runlock()
	last := rows[len(rows)-1].Node.Height
	data := struct {
		From, To, Tip    uint64
		PerPage          int
		Blocks           []blockRow
		Newer, Older     uint64
		Newest, HasOlder bool
	}{From: h, To: last, Tip: tipH, PerPage: blocksPerPg, Blocks: rows}
	if h < tipH {
		data.Newest = true
		if h+blocksPerPg < tipH {
			data.Newer = h + blocksPerPg
		}
	}
	if last > 0 {
		data.HasOlder, data.Older = true, last-1
	}
	s.render(w, r, http.StatusOK, "blocks", "Blocks "+strconv.FormatUint(h, 10)+" to "+strconv.FormatUint(last, 10), 0, data)
}

// blockTx is a transfer of a block page, numbered as in the block
// (1: the first after the reward).
type blockTx struct {
	N  int
	Tx any
}

func (s *Server) pageBlock(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("hash")
	if h, ok := parseHeight(ref); ok && len(ref) < 64 {
		// A height leads to the block of the main chain there.
		n := s.st.rlock()
		if n == nil {
			s.pageError(w, r, errUnavailable)
			return
		}
		nd, tipH := n.Chain().AtHeight(h), n.Chain().Tip().Height
		s.st.runlock()
		if nd == nil {
			s.pageError(w, r, &notFoundError{"no block at height " + ref + ": the tip is at " + strconv.FormatUint(tipH, 10)})
			return
		}
		http.Redirect(w, r, "/block/"+hexOf(nd.Hash[:]), http.StatusSeeOther)
		return
	}
	if _, err := chainhash.ParseHash(ref); err != nil {
		s.pageError(w, r, &badRefError{ref + ": a block is named by its height (decimal) or its hash (64 lowercase hex digits)"})
		return
	}
	start := 0
	if v := r.URL.Query().Get("start"); v != "" || r.URL.Query().Has("start") {
		h, ok := parseHeight(v)
		if !ok || h > 1<<31 {
			s.pageError(w, r, &badNumberError{"start=" + v + ": the first transfer shown is a decimal number without sign or leading zeros"})
			return
		}
		start = int(h)
	}
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	data, err := s.blockPage(n, r, ref, start)
	s.st.runlock()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "block", "Block "+strconv.FormatUint(data.Node.Height, 10), 0, data)
}

// blockData is the data of a block page.
type blockData struct {
	Node          *chain.BlockNode
	Next          *chain.BlockNode
	Block         *block.Block
	Main          bool
	Confirmations uint64
	Median        int64
	Size          int
	Difficulty    float64
	Fees          uint64
	RewardID      string
	Txs           []blockTx
	Paged         bool
	First, Last   int // the transfers shown, numbered from 1; Last is also the next page's start
	Prev, More    bool
	PrevStart     int
	Teach         *headerLesson
}

// blockPage gathers a block page under the read lock.
func (s *Server) blockPage(n *node.Node, r *http.Request, ref string, start int) (*blockData, error) {
	nd, err := explore.FindBlock(n, ref)
	if err != nil {
		return nil, err
	}
	c := n.Chain()
	d := &blockData{Node: nd, Main: c.AtHeight(nd.Height) == nd, Median: c.MedianTime(nd), Size: s.blockRow(nd).Size,
		Difficulty: difficulty(&s.limit, &nd.Target)}
	if d.Main {
		d.Confirmations = c.Tip().Height - nd.Height + 1
		d.Next = c.AtHeight(nd.Height + 1)
	}
	if nd.Parent == nil {
		if start != 0 {
			return nil, &notFoundError{"start=" + strconv.Itoa(start) + ": the genesis block holds no transfers"}
		}
		return d, nil
	}
	if d.Block, err = c.Block(nd); err != nil {
		return nil, err
	}
	b := d.Block
	for _, t := range b.Txs {
		d.Fees += t.Fee
	}
	leaf := block.Leaf(b.Reward.Canonical())
	d.RewardID = hexOf(leaf[:])
	if start > 0 && start >= len(b.Txs) {
		return nil, &notFoundError{"start=" + strconv.Itoa(start) + ": the block holds " + strconv.Itoa(len(b.Txs)) + " transfers, numbered from 0"}
	}
	end := min(start+blockTxsPage, len(b.Txs))
	for i := start; i < end; i++ {
		d.Txs = append(d.Txs, blockTx{N: i + 1, Tx: b.Txs[i]})
	}
	d.Paged = len(b.Txs) > blockTxsPage
	d.First, d.Last = start+1, end
	d.Prev, d.PrevStart = start > 0, max(start-blockTxsPage, 0)
	d.More = end < len(b.Txs)
	d.Teach = s.headerLesson(r, b)
	return d, nil
}

func (s *Server) pageTx(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("id")
	txid, err := explore.ParseTxRef(ref)
	if err != nil {
		s.pageError(w, r, &badRefError{ref + ": a transaction id is 32 lowercase hex digits (a transfer), or 64 (a reward)"})
		return
	}
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	data, err := s.txPage(n, r, txid)
	s.st.runlock()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	title := "Transfer"
	if data.F.Tx == nil {
		title = "Reward"
	}
	s.render(w, r, http.StatusOK, "tx", title, 0, data)
}

// txData is the data of a transaction page.
type txData struct {
	F     explore.Found
	TxID  string
	Size  int
	Rate  float64
	Teach *merkleLesson
}

func (s *Server) txPage(n *node.Node, r *http.Request, txid []byte) (*txData, error) {
	f, err := s.lookup(n).FindTx(txid)
	if err != nil {
		return nil, err
	}
	d := &txData{F: f, TxID: hexOf(f.TxID()), Size: f.Size()}
	if f.Tx != nil {
		d.Rate = rateOf(f.Tx, d.Size)
	}
	if f.Block != nil {
		b, err := n.Chain().Block(f.Block)
		if err != nil {
			return nil, err
		}
		d.Teach = s.merkleLesson(r, n, &f, b)
	}
	return d, nil
}

func (s *Server) pageAddress(w http.ResponseWriter, r *http.Request) {
	addr := r.PathValue("addr")
	var after []byte
	afterRef := r.URL.Query().Get("after")
	if afterRef != "" || r.URL.Query().Has("after") {
		var err error
		if after, err = explore.ParseTxRef(afterRef); err != nil {
			s.pageError(w, r, &badRefError{"after=" + afterRef + ": the last transaction seen is a txid, 32 lowercase hex digits (a transfer) or 64 (a reward)"})
			return
		}
	}
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
		Total               uint64
		After, Next         string
	}
	err := explore.CheckAddress(n, addr)
	if err == nil {
		b := n.Chain().Ledger().Balance(addr)
		data.Address, data.Confirmed, data.Immature, data.After = addr, b.Confirmed, b.Immature, afterRef
		data.Pending = n.Pool.Pending(addr)
		l := s.lookup(n)
		var st txindex.Stats
		st, err = l.Stats(addr)
		pending := s.poolOf(n).pending(addr, mempoolPage)
		data.Total = st.TxCount + uint64(len(pending))
		// The first page: the pending transfers, then the newest
		// confirmed; the next pages: the confirmed after the last one
		// shown, as /api/address/A/txs/chain/LAST.
		if after == nil {
			for _, t := range pending {
				data.Events = append(data.Events, explore.EventOf(explore.Found{Tx: t}, addr))
			}
		}
		var last []byte
		k := 0
		if err == nil {
			err = l.History(addr, after, txsPage, func(f explore.Found) bool {
				data.Events = append(data.Events, explore.EventOf(f, addr))
				last = f.TxID()
				k++
				return true
			})
		}
		if k == txsPage {
			data.Next = hexOf(last)
		}
	}
	s.st.runlock()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "address", "Address "+addr, 0, data)
}

// search sends the search box's query to its page: a block height or
// hash, a transaction id, or an address. What it does not find, it says:
// what the query was taken for and why nothing matched.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		s.pageError(w, r, &badRefError{"Type a block height or hash, a transaction id or an address in the search box."})
		return
	}
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	to, err := s.searchIn(n, q)
	s.st.runlock()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// searchIn returns the page of q, or what was not found.
func (s *Server) searchIn(n *node.Node, q string) (string, error) {
	c := n.Chain()
	quoted := strconv.Quote(q)
	if len(q) > 80 {
		quoted = strconv.Quote(q[:80]) + "…"
	}
	if h, ok := parseHeight(q); ok {
		if nd := c.AtHeight(h); nd != nil {
			return "/block/" + hexOf(nd.Hash[:]), nil
		}
		return "", &notFoundError{"Nothing found for " + quoted + ": there is no block at height " + q + ", the tip is at " + strconv.FormatUint(c.Tip().Height, 10) + "."}
	}
	if hh, err := chainhash.ParseHash(q); err == nil {
		if c.Node(hh) != nil {
			return "/block/" + q, nil
		}
		// 64 hex digits are also a reward's txid.
		if f, err := s.lookup(n).FindTx(hh[:]); err == nil && f.Reward != nil {
			return "/tx/" + q, nil
		} else if err != nil && !errors.Is(err, explore.ErrNotFound) {
			return "", err
		}
		return "", &notFoundError{"Nothing found for " + quoted + ": no block and no reward has this hash."}
	}
	if id, err := chainhash.ParseID(q); err == nil {
		if _, err := s.lookup(n).FindTx(id[:]); err != nil {
			if errors.Is(err, explore.ErrNotFound) {
				return "", &notFoundError{"Nothing found for " + quoted + ": no transfer on the main chain or in the mempool has this id."}
			}
			return "", err
		}
		return "/tx/" + q, nil
	}
	prefix := n.Params().AddressPrefix
	if err := keys.CheckAddress(q, prefix); err == nil {
		return "/address/" + q, nil
	} else if rule.CodeOf(err) == rule.WrongNetwork {
		return "", &notFoundError{"Nothing found for " + quoted + ": it is an address of another network; addresses of " + s.net.Name + " begin with " + prefix + "1."}
	} else if strings.HasPrefix(strings.ToLower(q), prefix+"1") {
		return "", &notFoundError{"Nothing found for " + quoted + ": it is not a valid address (" + err.Error() + ")."}
	}
	return "", &notFoundError{"Nothing found for " + quoted + ": it is not a block height (digits), a block hash (64 hex digits), a transaction id (32 hex digits) or an address of " + s.net.Name + " (" + prefix + "1…)."}
}

// plural says n (digits, grouped) and the noun one, in the plural unless
// n is 1: "1 block", "2 blocks", "0 processes". The nouns of the pages
// are all regular.
func plural(n, one string) string {
	if n == "1" {
		return n + " " + one
	}
	for _, end := range []string{"s", "x", "z", "ch", "sh"} {
		if strings.HasSuffix(one, end) {
			return n + " " + one + "es"
		}
	}
	return n + " " + one + "s"
}
