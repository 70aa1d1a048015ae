package web

import (
	"cmp"
	"html/template"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
)

// The home page's charts, the mempool page and the peers page.

const (
	// chartBlocks is how many of the last blocks the charts draw.
	chartBlocks = 100
	// chartHashrateBlocks is the window of each point of the hashrate
	// chart: the work of that many blocks over their time.
	chartHashrateBlocks = 12
	// poolSampleEvery and poolSamples bound the mempool's history: a
	// sample at the first refresh at least poolSampleEvery after the
	// last, the last poolSamples kept (half an hour), in memory only.
	poolSampleEvery = 10 * time.Second
	poolSamples     = 180
	// poolPageTxs bounds the pending transfers the mempool page lists.
	poolPageTxs = 100
)

var netPages = template.Must(pages.New("net").Parse(`
{{define "mempool"}}{{template "top" .}}{{with .D}}
<h1>Mempool</h1>
<p>Transfers this node has accepted and no block holds yet; miners take the best fee rates first.</p>
<table>
<tr><th>Transfers</th><td>{{plural .Count "transfer"}}</td></tr>
<tr><th>Size</th><td>{{bytes .Bytes}} ({{int .Bytes}} bytes of their lines)</td></tr>
<tr><th>Fees</th><td>{{cnj .Fees}} ({{units .Fees}})</td></tr>
</table>
<div class="charts">{{.Histogram}}{{.History}}</div>
{{if .Bins}}<h2>Fee histogram</h2>
<table><tr><th>Fee rate from</th><th class="n">Size</th></tr>
{{range .Bins}}<tr><td>{{rate .Rate}}</td><td class="n">{{bytes .Bytes}}</td></tr>
{{end}}</table>{{end}}
<h2>Pending transfers by fee rate{{if .Cut}} (the best {{len .Txs}}){{end}}</h2>
{{if .Txs}}<table><tr><th>Id</th><th>From</th><th>To</th><th class="n">Amount</th><th class="n">Fee</th><th class="n">Size</th><th class="n">Rate</th></tr>
{{range .Txs}}<tr><td><a class="h" href="/tx/{{id .Tx.ID}}">{{id .Tx.ID}}</a></td><td><a class="h" href="/address/{{.Tx.Sender}}">{{.Tx.Sender}}</a></td><td><a class="h" href="/address/{{.Tx.Receiver}}">{{.Tx.Receiver}}</a></td><td class="n">{{cnj .Tx.Amount}}</td><td class="n">{{cnj .Tx.Fee}}</td><td class="n">{{bytes .Size}}</td><td class="n">{{rate .Rate}}</td></tr>
{{end}}</table>{{else}}<p>The mempool is empty.</p>{{end}}
{{end}}{{template "bottom" .}}{{end}}

{{define "peer-list"}}{{template "top" .}}{{with .D}}
<h1>Peers</h1>
<p>The nodes this node relays to and syncs from: its peers file. Their tips are what each claimed when cnj-sync last asked it (a claim: cnj-sync checks the blocks it downloads, not the claim). What the node also records is when a peer was last seen (its hello on the relay, or an answer to cnj-sync) and when it last delivered a new valid block or transfer.</p>
{{if .Peers}}<table><tr><th>Peer</th><th>Its tip</th><th>Last seen</th><th>Last new block from it</th><th>Last new transfer from it</th><th>Sync</th></tr>
{{range .Peers}}<tr><td class="h">{{.Addr}}</td><td>{{if .TipTime}}block <a href="/block/{{.TipHash}}">{{int .TipHeight}}</a>{{if .Behind}} ({{plural .Behind "block"}} behind this node){{end}}, claimed {{ago .TipTime}}{{else}}not asked yet (cnj-sync asks){{end}}</td><td>{{if .Seen}}{{time .Seen}} ({{ago .Seen}}){{else}}not recorded (written by hand){{end}}</td><td>{{if .Block}}{{time .Block}} ({{ago .Block}}){{else}}none in the last day{{end}}</td><td>{{if .Tx}}{{time .Tx}} ({{ago .Tx}}){{else}}none in the last day{{end}}</td><td>{{if .Slow}}too slow at {{time .Slow}}{{else}}–{{end}}</td></tr>
{{end}}</table>{{else}}<p>No peers: the peers file is empty.</p>{{end}}
<h2>Relay</h2>
<table>
<tr><th>Listening</th><td>{{plural .In.Running "process"}}{{if .In.Running}}, {{plural .In.Sum.Connected "peer"}} connected in, {{int .In.Sum.LinesBlock}} new blocks and {{int .In.Sum.LinesTx}} new transfers passed on{{end}}</td></tr>
<tr><th>Sending</th><td>{{plural .Out.Running "process"}}{{if .Out.Running}}, {{plural .Out.Sum.Connected "peer"}} connected of {{int .Out.Sum.Peers}}, {{bytes .Out.Sum.Bytes}} sent{{end}}</td></tr>
</table>
{{end}}{{template "bottom" .}}{{end}}
`))

// poolSample is the mempool at a moment.
type poolSample struct {
	Time  int64
	Count int
	Bytes int
}

// poolHistory is the mempool's size over the last half hour, sampled by
// the refresher; it is lost when the server stops.
type poolHistory struct {
	mu      sync.Mutex
	samples []poolSample // oldest first, at most poolSamples
}

// sample records the pool of snap at now when the last sample is at least
// poolSampleEvery old.
func (h *poolHistory) sample(snap *snapshot, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if k := len(h.samples); k > 0 && now.Sub(time.Unix(h.samples[k-1].Time, 0)) < poolSampleEvery {
		return
	}
	v := snap.mempool()
	if len(h.samples) == poolSamples {
		h.samples = append(h.samples[:0], h.samples[1:]...)
	}
	h.samples = append(h.samples, poolSample{now.Unix(), len(v.txs), v.bytes})
}

func (h *poolHistory) get() []poolSample {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.samples)
}

// poolChart draws the mempool's size over its history.
func (s *Server) poolChart() template.HTML {
	hs := s.poolHist.get()
	c := chart{ID: "chart-mempool", Title: "Mempool size", Unit: "B", Href: "/mempool",
		Note: "Sampled every " + strconv.Itoa(int(poolSampleEvery/time.Second)) + " s while this server runs, the last half hour."}
	for _, x := range hs {
		c.X = append(c.X, time.Unix(x.Time, 0).UTC().Format("15:04:05"))
		c.Y = append(c.Y, float64(x.Bytes))
	}
	return c.svg()
}

// chainCharts draws the last chartBlocks blocks of the main chain: their
// intervals, difficulty, transfers and the estimated hashrate. The caller
// holds the read lock.
func (s *Server) chainCharts(n *node.Node) []template.HTML {
	var nds []*chain.BlockNode
	for nd := n.Chain().Tip(); nd != nil && nd.Parent != nil && len(nds) < chartBlocks; nd = nd.Parent {
		nds = append(nds, nd)
	}
	slices.Reverse(nds)
	interval := chart{ID: "chart-interval", Title: "Block interval", Unit: "s", Bars: true,
		Note: "Seconds after the parent's timestamp; the network aims at " + strconv.FormatInt(n.Params().Spacing, 10) + " s."}
	diff := chart{ID: "chart-difficulty", Title: "Difficulty", Href: "/retarget",
		Note: "The highest target over the block's; how the next one is computed: follow the title."}
	txs := chart{ID: "chart-transfers", Title: "Transfers per block", Bars: true}
	rate := chart{ID: "chart-hashrate", Title: "Estimated hashrate", Unit: "H/s",
		Note: "The work of " + strconv.Itoa(chartHashrateBlocks) + " blocks over the time between their timestamps."}
	for _, nd := range nds {
		x := strconv.FormatUint(nd.Height, 10)
		for _, c := range []*chart{&interval, &diff, &txs, &rate} {
			c.X = append(c.X, x)
		}
		interval.Y = append(interval.Y, float64(nd.Timestamp-nd.Parent.Timestamp))
		diff.Y = append(diff.Y, difficulty(&s.limit, &nd.Target))
		txs.Y = append(txs.Y, float64(nd.TxCount))
		hr := hashrateAt(nd, chartHashrateBlocks)
		if hr == 0 {
			hr = math.NaN()
		}
		rate.Y = append(rate.Y, hr)
	}
	return []template.HTML{interval.svg(), diff.svg(), txs.svg(), rate.svg()}
}

// relaySummary is a direction of the relay as the peers page shows it.
type relaySummary struct {
	Running uint64
	Sum     chaindir.RelayStats
}

// pendingTx is a row of the mempool page.
type pendingTx struct {
	Tx   *tx.Tx
	Size int
	Rate float64
}

func (s *Server) pageMempool(w http.ResponseWriter, r *http.Request) {
	v := s.st.snap.Load().mempool()
	rows := make([]pendingTx, len(v.txs))
	for i, t := range v.txs {
		rows[i] = pendingTx{t, v.sizes[i], rateOf(t, v.sizes[i])}
	}
	slices.SortStableFunc(rows, func(a, b pendingTx) int { return cmp.Compare(b.Rate, a.Rate) })
	data := struct {
		Count, Bytes       int
		Fees               uint64
		Histogram, History template.HTML
		Bins               []struct{ Rate, Bytes float64 }
		Txs                []pendingTx
		Cut                bool
	}{Count: len(v.txs), Bytes: v.bytes, Fees: v.fees, History: s.poolChart()}
	hist := chart{ID: "chart-fees", Title: "Fee histogram", Unit: "B", Bars: true,
		Note: "Bytes of pending transfers by fee rate, highest rate first."}
	for _, h := range v.histogram {
		data.Bins = append(data.Bins, struct{ Rate, Bytes float64 }{h[0], h[1]})
		hist.X = append(hist.X, strconv.FormatFloat(h[0], 'f', 2, 64)+" units/B")
		hist.Y = append(hist.Y, h[1])
	}
	data.Histogram = hist.svg()
	data.Cut = len(rows) > poolPageTxs
	data.Txs = rows[:min(len(rows), poolPageTxs)]
	s.render(w, r, http.StatusOK, "mempool", "Mempool", refreshPool, data)
}

// peerRow is a line of the peers page.
type peerRow struct {
	Addr                  string
	Seen, Block, Tx, Slow int64
	// The tip it last claimed to cnj-sync (chaindir's PeerTips), when
	// (TipTime, 0 when never), and how far below this node's it is.
	TipHeight, Behind uint64
	TipHash           chainhash.Hash
	TipTime           int64
}

func (s *Server) pagePeers(w http.ResponseWriter, r *http.Request) {
	peers, err := s.readPeers()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := chaindir.Dir(s.cfg.Chain)
	seen, err := d.PeersSeen()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	delivered, _, err := d.ReadDelivered()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	now := time.Now()
	slow, err := d.SlowPeers(now)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	byIP := map[netip.Addr]chaindir.Delivered{}
	for _, e := range delivered {
		byIP[e.IP] = e
	}
	slowByHost := map[string]int64{}
	for addr, t := range slow {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			slowByHost[host] = t
		}
	}
	tips, err := d.PeerTips(now)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	tipByHost := map[string]chaindir.PeerTip{}
	for addr, t := range tips {
		if host, _, err := net.SplitHostPort(addr); err == nil && t.Time > tipByHost[host].Time {
			tipByHost[host] = t
		}
	}
	height := s.st.snap.Load().tip.Height
	var rows []peerRow
	for _, p := range peers {
		row := peerRow{Addr: p, Seen: seen[p]}
		if host, _, err := net.SplitHostPort(p); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil {
				e := byIP[ip.Unmap()]
				row.Block, row.Tx = e.Block, e.Tx
			}
			row.Slow = slowByHost[host]
			if t, ok := tipByHost[host]; ok {
				row.TipHeight, row.TipHash, row.TipTime = t.Height, t.Hash, t.Time
				if t.Height < height {
					row.Behind = height - t.Height
				}
			}
		}
		rows = append(rows, row)
	}
	dirs, err := s.relayDirs(now)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "peer-list", "Peers", 0, struct {
		Peers   []peerRow
		In, Out relaySummary
	}{rows, relaySummary{dirs[0].running, dirs[0].sum}, relaySummary{dirs[1].running, dirs[1].sum}})
}
