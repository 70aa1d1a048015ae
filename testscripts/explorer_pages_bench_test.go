package testscripts

import (
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/node"
)

// BenchmarkExplorerPages measures every explorer page through a real
// cnj-serve on 127.0.0.155, on the sync benchmark's chain (testchain.Build
// of testchain.BenchSize; the figure: CNJ_SYNC_BENCH_BLOCKS=10000
// CNJ_SYNC_BENCH_TXS=1000000), one request at a time on a kept-alive
// connection: the home page, a page of older blocks, a block page (a
// block of transfers, its header lesson included), a transfer page (its
// merkle path included), a reward's, the first and the second page of a
// receiver's and of a sender's history, the mempool, peers and retarget
// pages, a search and the 404 page; against the same server's cheapest
// answer (/api/blocks/tip/height). It reports each page's p99 in ms
// (PAGE-p99-ms) and over the floor's (PAGE-ratio); the goal is a p99 of
// at most 20 ms for every page, and a home page of at most 60 KB
// (home-bytes), which it checks. The chain has no mempool: the mempool
// page is measured empty. The chain is benchChain's: built once into
// $CNJ_BENCH_DIR when it is set, and measured again from there.
func BenchmarkExplorerPages(b *testing.B) {
	const ip = "127.0.0.155"
	root := b.TempDir()
	src := &testchain.Chain{Dir: benchChain(b)}
	ids, receivers, senders := lookupSamples(b, src.Dir, 200)
	var hashes, rewards []string
	var tipH int
	{
		d, err := node.Open(src.Dir)
		if err != nil {
			b.Fatal(err)
		}
		c := d.Chain()
		tipH = int(c.Tip().Height)
		for i := 0; i < 50; i++ {
			nd := c.AtHeight(c.Tip().Height - uint64(i*int(c.Tip().Height)/50))
			hashes = append(hashes, hex.EncodeToString(nd.Hash[:]))
		}
		d.Close()
	}

	startProc(b, root, "exec cnj-serve --rate 0 --listen "+ip+":56230 --chain "+src.Dir)
	base := "http://" + ip + ":56230"
	netAnswers(b, base+"/api/blocks/tip/height")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, status int) (time.Duration, []byte) {
		begin := time.Now()
		resp, err := hc.Get(base + path)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(begin)
		if err != nil || resp.StatusCode != status {
			b.Fatalf("GET %s: %d, want %d: %v", path, resp.StatusCode, status, err)
		}
		return took, body
	}
	for _, h := range hashes {
		_, body := get("/api/block/"+h+"/txid/0", 200)
		rewards = append(rewards, string(body))
	}
	older := func(addr string) string {
		_, body := get("/address/"+addr, 200)
		m := regexp.MustCompile(`\?after=([0-9a-f]+)">Older`).FindSubmatch(body)
		if m == nil {
			return "" // a history of one page
		}
		return "/address/" + addr + "?after=" + string(m[1])
	}
	_, home := get("/", 200)
	if len(home) > 60<<10 {
		b.Errorf("the home page is %d bytes, more than 60 KB", len(home))
	}
	type pageCase struct {
		name   string
		path   func(i int) string
		status int
	}
	cases := []pageCase{
		{"floor", func(int) string { return "/api/blocks/tip/height" }, 200},
		{"home", func(int) string { return "/" }, 200},
		{"blocks", func(i int) string { return "/blocks/" + strconv.Itoa(i*37%tipH) }, 200},
		{"block", func(i int) string { return "/block/" + hashes[i%len(hashes)] }, 200},
		{"tx", func(i int) string { return "/tx/" + ids[i%len(ids)] }, 200},
		{"reward", func(i int) string { return "/tx/" + rewards[i%len(rewards)] }, 200},
		{"receiver", func(i int) string { return "/address/" + receivers[i%len(receivers)] }, 200},
		{"sender", func(i int) string { return "/address/" + senders[i%len(senders)] }, 200},
		{"mempool", func(int) string { return "/mempool" }, 200},
		{"peers", func(int) string { return "/peers" }, 200},
		{"retarget", func(int) string { return "/retarget" }, 200},
		{"search", func(i int) string { return "/search?q=" + ids[i%len(ids)] }, http.StatusSeeOther},
		{"notfound", func(int) string { return "/no-such-page" }, 404},
	}
	olderPages := map[string]string{}
	for _, a := range receivers[:20] {
		olderPages[a] = older(a)
	}
	for _, a := range senders[:min(20, len(senders))] {
		olderPages[a] = older(a)
	}
	var olderList []string
	for _, p := range olderPages {
		if p != "" {
			olderList = append(olderList, p)
		}
	}
	if len(olderList) == 0 {
		b.Fatal("no history of more than one page")
	}
	cases = append(cases, pageCase{"history-page-2", func(i int) string { return olderList[i%len(olderList)] }, 200})
	// Warm the page cache and the server: a node that serves has read its
	// chain before.
	for _, c := range cases {
		for i := range 20 {
			get(c.path(i), c.status)
		}
	}
	took := make([][]time.Duration, len(cases))
	b.ResetTimer()
	for range b.N {
		for i := range 200 {
			for k, c := range cases {
				d, _ := get(c.path(i), c.status)
				took[k] = append(took[k], d)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(home)), "home-bytes")
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	floor := pct(took[0], 0.99)
	for k, c := range cases {
		p := pct(took[k], 0.99)
		b.ReportMetric(ms(p), c.name+"-p99-ms")
		if k > 0 {
			b.ReportMetric(float64(p)/float64(floor), c.name+"-ratio")
		}
	}
}
