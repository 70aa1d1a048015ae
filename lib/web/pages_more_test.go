package web

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html"
	"math/big"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/pow"
)

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// tagRe finds the tags of a page; attrsRe is what may follow a tag's
// name: attributes with double-quoted values, and a "/" for SVG's empty
// elements.
var (
	tagRe   = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>`)
	attrsRe = regexp.MustCompile(`^(\s+[a-zA-Z][a-zA-Z:-]*(="[^"<>]*")?)*\s*/?$`)
	voidEl  = map[string]bool{"meta": true, "link": true, "input": true, "br": true, "img": true, "hr": true}
)

// checkPage checks the structure of an explorer page: one doctype, every
// element closed in order (void ones excepted), attributes quoted, one
// h1, the network named in the title and the header, each chart a
// well-formed SVG document, no script.
func checkPage(t *testing.T, f *fixture, path string, body []byte) {
	t.Helper()
	s := string(body)
	if !strings.HasPrefix(s, "<!doctype html>\n<html lang=\"en\">") || !strings.HasSuffix(s, "</html>\n") {
		t.Errorf("%s: not one html document", path)
	}
	var stack []string
	for _, m := range tagRe.FindAllStringSubmatch(s, -1) {
		closing, name, attrs := m[1] == "/", strings.ToLower(m[2]), m[3]
		if !attrsRe.MatchString(attrs) {
			t.Errorf("%s: <%s%s>: malformed attributes", path, name, attrs)
		}
		switch {
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Errorf("%s: </%s> closes %v", path, name, stack)
				return
			}
			stack = stack[:len(stack)-1]
		case voidEl[name] || strings.HasSuffix(attrs, "/"):
		default:
			stack = append(stack, name)
		}
	}
	if len(stack) != 0 {
		t.Errorf("%s: left open: %v", path, stack)
	}
	g := f.p.Hash()
	if strings.Count(s, "<h1>") != 1 {
		t.Errorf("%s: %d h1 elements", path, strings.Count(s, "<h1>"))
	}
	if !regexp.MustCompile(`<title>[^<]* · Coniunctum devnet</title>`).MatchString(s) {
		t.Errorf("%s: the title does not name the network", path)
	}
	if !strings.Contains(s, `<span class="net" title="genesis `+hex.EncodeToString(g[:])+`">devnet · `+hex.EncodeToString(g[:6])+`</span>`) {
		t.Errorf("%s: the header does not name the network and its genesis", path)
	}
	if strings.Contains(s, "<script") || strings.Contains(s, "javascript:") {
		t.Errorf("%s: a script", path)
	}
	for _, svg := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(s, -1) {
		d := xml.NewDecoder(strings.NewReader(svg))
		d.Strict = true
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: an SVG that is not well-formed: %v\n%.300s", path, err, svg)
				}
				break
			}
		}
	}
}

// TestPagesStructure: every page of the explorer is well-formed and
// names the network; errors too.
func TestPagesStructure(t *testing.T) {
	f := getFixture(t)
	_, ts, logs := newServer(t, Config{})
	reward := block.Leaf(f.blocks[6].Reward.Canonical())
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/", 200},
		{"/blocks", 200},
		{"/blocks/3", 200},
		{"/block/" + blockHash(t, f.lines[6]), 200},
		{"/block/" + hex.EncodeToString(func() []byte { h := f.p.Hash(); return h[:] }()), 200},
		{"/tx/" + hex.EncodeToString(f.mined.ID[:]), 200},
		{"/tx/" + hex.EncodeToString(reward[:]), 200},
		{"/tx/" + hex.EncodeToString(f.pending.ID[:]), 200},
		{"/address/" + f.miner.addr, 200},
		{"/mempool", 200},
		{"/peers", 200},
		{"/retarget", 200},
		{"/nope", 404},
		{"/blocks/99", 404},
		{"/address/junk", 400},
		{"/search?q=hello", 404},
	} {
		resp, body := get(t, "GET", ts.URL+c.path)
		if resp.StatusCode != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, resp.StatusCode, c.status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != contentTypeHTML {
			t.Errorf("GET %s: Content-Type %q", c.path, ct)
		}
		checkPage(t, f, c.path, body)
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}

// TestPagesPaging: the blocks and an address's history come a page at a
// time, with links to the next; the paging parameters are checked at
// their limits. The chain is the fixture's with 110 more blocks to the
// miner, so that its history has more than a page and the home page
// draws full charts.
func TestPagesPaging(t *testing.T) {
	f := getFixture(t)
	dir := copyFixture(t)
	n, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := n.Chain().Tip().Timestamp
	for i := range 110 {
		at += int64(1 + i%3)
		if _, _, err := addBlock(n, f.miner.addr, at, nil); err != nil {
			t.Fatal(err)
		}
	}
	tip := n.Chain().Tip()
	hashAt := func(h uint64) string { nd := n.Chain().AtHeight(h); return hex.EncodeToString(nd.Hash[:]) }
	n.Close()
	_, ts, logs := newServer(t, Config{Chain: dir})

	// The home page: the newest blocks, a link to the older ones, the
	// charts, well within 60 KB.
	resp, body := get(t, "GET", ts.URL+"/")
	checkPage(t, f, "/", body)
	if resp.StatusCode != 200 || len(body) > 60<<10 {
		t.Errorf("/: %d, %d bytes", resp.StatusCode, len(body))
	}
	for _, want := range []string{`<a href="/blocks/108">Older blocks →</a>`, `<meta http-equiv="refresh" content="30">`,
		`id="chart-interval"`, `id="chart-difficulty"><figcaption><a href="/retarget">Difficulty</a>`, `id="chart-transfers"`, `id="chart-hashrate"`, `id="chart-mempool"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/: no %q", want)
		}
	}
	if k := strings.Count(string(body), `<rect `); k != 2*chartBlocks {
		t.Errorf("/: %d bars, want %d for the intervals and the transfers", k, 2*chartBlocks)
	}

	for _, c := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/blocks", 200, []string{"Blocks 118 to 94", `<a href="/blocks/93">Older →</a>`}},
		{"/blocks/118", 200, []string{"Blocks 118 to 94", `<p class="pager"> <a href="/blocks/93">`}},
		{"/blocks/93", 200, []string{"Blocks 93 to 69", `<a href="/blocks">← Newest</a>`, `<a href="/blocks/68">Older →</a>`}},
		{"/blocks/24", 200, []string{"Blocks 24 to 0", `<a href="/blocks/49">← Newer</a>`}},
		{"/blocks/94", 200, []string{"Blocks 94 to 70", `<a href="/blocks">← Newest</a>`}},
		{"/blocks/92", 200, []string{"Blocks 92 to 68", `<a href="/blocks/117">← Newer</a>`}},
		{"/blocks/0", 200, []string{"Blocks 0 to 0", "</table>"}},
		{"/blocks/119", 404, []string{"no block at height 119: the tip is at 118", "not-found"}},
		{"/blocks/01", 400, []string{"bad-number"}},
		{"/blocks/-1", 400, []string{"bad-number"}},
		{"/blocks/18446744073709551616", 400, []string{"bad-number"}},
		{"/block/119", 404, []string{"no block at height 119"}},
		{"/block/abc", 400, []string{"a block is named by its height (decimal) or its hash"}},
	} {
		resp, body := get(t, "GET", ts.URL+c.path)
		if resp.StatusCode != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, resp.StatusCode, c.status)
		}
		for _, w := range c.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s: no %q", c.path, w)
			}
		}
		if c.path == "/blocks/0" && strings.Contains(string(body), "Older") {
			t.Errorf("/blocks/0 links to older blocks")
		}
	}
	if !strings.Contains(get2(t, ts.URL+"/blocks"), "Blocks 118 to 94") || tip.Height != 118 {
		t.Fatalf("tip %d", tip.Height)
	}

	// /block/HEIGHT leads to the block.
	for _, h := range []uint64{0, 5, 118} {
		resp, err := noRedirect.Get(ts.URL + "/block/" + itoa(int(h)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/block/"+hashAt(h) {
			t.Errorf("/block/%d: %d to %q", h, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// The miner's history: 1 pending and 118 rewards and 2 transfers out;
	// 25 confirmed a page, newest first, then the next after the last.
	page := func(q string) []string {
		resp, body := get(t, "GET", ts.URL+"/address/"+f.miner.addr+q)
		if resp.StatusCode != 200 {
			t.Fatalf("/address/MINER%s: %d", q, resp.StatusCode)
		}
		checkPage(t, f, "/address"+q, body)
		return regexp.MustCompile(`<tr><td>(<a href="/block/[0-9a-f]+">)?([0-9]+|pending)`).FindAllString(string(body), -1)
	}
	first := page("")
	if len(first) != 26 || !strings.HasSuffix(first[0], "pending") || !strings.HasSuffix(first[1], ">118") || !strings.HasSuffix(first[25], ">94") {
		t.Errorf("the first page: %d rows %q", len(first), first)
	}
	_, body = get(t, "GET", ts.URL+"/address/"+f.miner.addr)
	next := regexp.MustCompile(`\?after=([0-9a-f]+)">Older →`).FindStringSubmatch(string(body))
	if next == nil {
		t.Fatal("the first page links to no older page")
	}
	second := page("?after=" + next[1])
	if len(second) != 25 || !strings.HasSuffix(second[0], ">93") {
		t.Errorf("the second page: %d rows %q", len(second), second)
	}
	// Paging on to the end: 120 confirmed entries, 25 a page.
	rows, q := 0, ""
	for pages := 0; pages < 10; pages++ {
		_, body := get(t, "GET", ts.URL+"/address/"+f.miner.addr+q)
		rows += strings.Count(string(body), "<tr><td><a href=\"/block/")
		m := regexp.MustCompile(`\?after=([0-9a-f]+)">Older →`).FindStringSubmatch(string(body))
		if m == nil {
			break
		}
		q = "?after=" + m[1]
	}
	if rows != 120 {
		t.Errorf("%d confirmed rows over the pages, want 120", rows)
	}
	for _, c := range []struct {
		q      string
		status int
		want   string
	}{
		{"?after=", 400, "after=: the last transaction seen is a txid"},
		{"?after=xyz", 400, "bad-request"},
		{"?after=" + strings.Repeat("0", 32), 404, "not-found"},
	} {
		resp, body := get(t, "GET", ts.URL+"/address/"+f.miner.addr+c.q)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("/address/MINER%s: %d, want %d and %q", c.q, resp.StatusCode, c.status, c.want)
		}
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}

func get2(t *testing.T, url string) string {
	_, body := get(t, "GET", url)
	return string(body)
}

// TestPagesTeach: a block page shows its 200 header bytes field by field
// and the proof-of-work check; a transaction page its merkle path, which
// folds to the block's root; block transfers page by start.
func TestPagesTeach(t *testing.T) {
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{})
	b := f.blocks[6]
	hash6 := hex.EncodeToString(b.Hash[:])
	body := get2(t, ts.URL+"/block/"+hash6)
	// The hex column of the header table, concatenated, is the header.
	var got strings.Builder
	for _, m := range regexp.MustCompile(`<tr><td>([0-9]+)(–[0-9]+)?</td><td>([a-z ]+)</td><td class="h">([0-9a-f]*)</td>`).FindAllStringSubmatch(body, -1) {
		got.WriteString(m[4])
	}
	hb := b.Bytes()
	if got.String() != hex.EncodeToString(hb[:]) {
		t.Errorf("the header table:\n%s\nthe header:\n%x", got.String(), hb)
	}
	for _, want := range []string{
		"<td>0–7</td><td>magic</td><td class=\"h\">434e4a2d424b2d31</td>",
		"<td>192–199</td><td>proof</td>",
		"<td>120</td><td>miner length</td>",
		`<span class="yes">below the target: yes</span>`,
		"the same as the hash above: yes",
		"cnj-chain --remote " + strings.TrimPrefix(ts.URL, "http://") + " block " + hash6 + " &gt;block.json",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("block page: no %q", want)
		}
	}
	// A block whose hash is above its target says no: a block page is
	// drawn from the block as stored.
	var hi block.Block
	hi.Header = b.Header
	hi.Target = [32]byte{}
	l := (&Server{}).headerLesson(&http.Request{Host: "x"}, &hi)
	if l.Meets || l.Same {
		t.Errorf("a zero target: meets %v, same %v", l.Meets, l.Same)
	}

	// The merkle path of the second transfer of block 6 (leaf 2 of 3).
	id := hex.EncodeToString(b.Txs[1].ID[:])
	body = get2(t, ts.URL+"/tx/"+id)
	leaves := block.Leaves(f.p.Hash(), &b.Reward, b.Txs)
	left := block.MerkleParent(leaves[0], leaves[1])
	for _, want := range []string{
		"Leaf 2 of 3 of block 6",
		`<svg xmlns="http://www.w3.org/2000/svg"`,
		"<td>leaf</td><td></td><td></td><td class=\"h\">" + hex.EncodeToString(leaves[2][:]) + "</td>",
		"<td>1</td><td class=\"h\">" + hex.EncodeToString(left[:]) + "</td><td>left</td>",
		hex.EncodeToString(b.MerkleRoot[:]) + ` <span class="yes">the block's merkle root: yes</span>`,
		"h=$(parent " + hex.EncodeToString(left[:]) + " &#34;$h&#34;)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("tx page: no %q", want)
		}
	}
	if strings.Count(body, "<rect ") != 3 {
		t.Errorf("tx page: %d boxes, want the leaf, its sibling and the root", strings.Count(body, "<rect "))
	}
	// A reward: leaf 0.
	reward := block.Leaf(b.Reward.Canonical())
	body = get2(t, ts.URL+"/tx/"+hex.EncodeToString(reward[:]))
	if !strings.Contains(body, "<h1>Reward</h1>") || !strings.Contains(body, "Leaf 0 of 3 of block 6") || !strings.Contains(body, "00434e4a2d52572d31") {
		t.Errorf("reward page:\n%s", body)
	}

	// The transfers of a block, from a start: checked at their limits.
	for _, c := range []struct {
		q      string
		status int
		want   string
	}{
		{"?start=0", 200, "<h2>2 transfers</h2>"},
		{"?start=1", 200, "<td>2</td><td><a class=\"h\" href=\"/tx/" + id},
		{"?start=2", 404, "the block holds 2 transfers"},
		{"?start=", 400, "bad-number"},
		{"?start=01", 400, "bad-number"},
		{"?start=99999999999", 400, "bad-number"},
	} {
		resp, body := get(t, "GET", ts.URL+"/block/"+hash6+c.q)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("/block/H%s: %d, want %d and %q", c.q, resp.StatusCode, c.status, c.want)
		}
	}
}

// TestPagesSearch: the search box says what it did not find.
func TestPagesSearch(t *testing.T) {
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{})
	reward := block.Leaf(f.blocks[6].Reward.Canonical())
	for q, want := range map[string]string{
		"hello":                 "Nothing found for &#34;hello&#34;: it is not a block height (digits), a block hash (64 hex digits), a transaction id (32 hex digits) or an address of devnet (dcnj1…).",
		"99":                    "there is no block at height 99, the tip is at 8.",
		strings.Repeat("a", 32): "no transfer on the main chain or in the mempool has this id",
		strings.Repeat("a", 64): "no block and no reward has this hash",
		"cnj1a4021b5068d7f26682bde95ce2107e9fdbc20223b91ed742": "it is an address of another network; addresses of devnet begin with dcnj1.",
		f.alice.addr[:len(f.alice.addr)-1] + "x":               "it is not a valid address",
		"":                                                     "Type a block height or hash",
	} {
		resp, body := get(t, "GET", ts.URL+"/search?q="+q)
		if resp.StatusCode/100 != 4 || !strings.Contains(string(body), want) {
			t.Errorf("search %q: %d, no %q in\n%s", q, resp.StatusCode, want, body)
		}
		if strings.Contains(string(body), "separator") {
			t.Errorf("search %q: the address decoder's words", q)
		}
	}
	resp, err := noRedirect.Get(ts.URL + "/search?q=" + hex.EncodeToString(reward[:]))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tx/"+hex.EncodeToString(reward[:]) {
		t.Errorf("search for a reward's txid: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestPagesMempoolPeers: the mempool page lists the pending transfers by
// fee rate and reloads itself; the peers page lists the peers file with
// what the node recorded of each.
func TestPagesMempoolPeers(t *testing.T) {
	f := getFixture(t)
	dir := copyFixture(t)
	now := time.Now()
	if err := chaindir.Dir(dir).MergeDelivered([]chaindir.Delivered{{IP: mustAddr("127.0.0.3"), Block: now.Unix() - 60}}, now); err != nil {
		t.Fatal(err)
	}
	// cnj-sync saw 127.0.0.3's web app claim block 4 of this chain.
	if err := chaindir.Dir(dir).NotePeerTips(now, chaindir.PeerTip{Peer: "127.0.0.3:56230", Time: now.Unix() - 120, Height: 4, Hash: f.blocks[4].Hash}); err != nil {
		t.Fatal(err)
	}
	_, ts, logs := newServer(t, Config{Chain: dir})
	body := get2(t, ts.URL+"/mempool")
	for _, want := range []string{
		`<meta http-equiv="refresh" content="10">`,
		"<tr><th>Transfers</th><td>1 transfer</td></tr>",
		"<tr><th>Fees</th><td>0.00001 CNJ (1,000 units)</td></tr>",
		`href="/tx/` + hex.EncodeToString(f.pending.ID[:]) + `"`,
		`id="chart-fees"`, `id="chart-mempool"`, " units/B</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/mempool: no %q", want)
		}
	}
	body = get2(t, ts.URL+"/peers")
	for _, want := range []string{
		`<td class="h">127.0.0.2:5050</td><td>not asked yet (cnj-sync asks)</td><td>not recorded (written by hand)</td><td>none in the last day</td>`,
		`<td class="h">127.0.0.3:5050</td><td>block <a href="/block/` + hex.EncodeToString(f.blocks[4].Hash[:]) + `">4</a> (` + fmt.Sprint(fixtureHeight-4) + ` blocks behind this node), claimed 2 min ago</td><td>not recorded (written by hand)</td><td>` + time.Unix(now.Unix()-60, 0).UTC().Format("2006-01-02 15:04:05 UTC"),
		"<tr><th>Listening</th><td>0 processes</td></tr>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/peers: no %q in\n%s", want, body)
		}
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}

// TestRetargetPage: the worked example of the retarget page holds the
// steps of pow.Explain and ends at the target the chain asks next.
func TestRetargetPage(t *testing.T) {
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{})
	body := get2(t, ts.URL+"/retarget")
	// The fixture's network keeps a fixed target.
	want := hex.EncodeToString(f.p.InitialTarget[:])
	if !strings.Contains(body, "W = 0: the parent's target") || !strings.Contains(body, "<tr><th>T<sub>9</sub></th><td class=\"h\">"+want+"</td></tr>") {
		t.Errorf("/retarget:\n%s", body)
	}
	// A window: every step of the rule shows.
	p := pow.Params{Spacing: 10, Window: 4, Limit: f.p.InitialTarget}
	var branch []pow.Point
	tgt := f.p.InitialTarget
	for i := range 12 {
		branch = append(branch, pow.Point{Timestamp: 1000 + int64(i*7), Target: tgt})
		tgt = pow.Next(p, branch)
	}
	st := pow.Explain(p, branch)
	var b bytes.Buffer
	d := retargetPage(p, 11, f.p.InitialTarget, &branch[len(branch)-1].Target, st)
	if err := pages.ExecuteTemplate(&b, "retarget", page{Title: "x", D: d}); err != nil {
		t.Fatal(err)
	}
	out := html.UnescapeString(b.String())
	hx := func(x *big.Int) string { var t [32]byte; x.FillBytes(t[:]); return hex.EncodeToString(t[:]) }
	for _, want := range []string{
		"<tr><th>n</th><td>4 blocks, 8 to 11</td></tr>",
		"<tr><th>avg</th><td class=\"h\">" + hx(st.Avg) + "</td></tr>",
		fmt.Sprintf("<tr><th>span</th><td>%d s, clamped into [10, 160]: %v s, against n·S = 40 s</td></tr>", st.MTPLast-st.MTPFirst, st.Span),
		"<tr><th>raw</th><td class=\"h\">" + hx(st.Raw) + "</td></tr>",
		"<tr><th>T<sub>12</sub></th><td class=\"h\">" + hex.EncodeToString(tgt[:]) + "</td></tr>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("retarget page: no %q in\n%s", want, out)
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestPagesRefusals: what the guards refuse is a page for a browser
// outside the API, with its status and reason code, and JSON otherwise.
func TestPagesRefusals(t *testing.T) {
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{Rate: 0.001, Burst: 3})
	const html = "text/html,application/xhtml+xml,*/*;q=0.8"
	for _, c := range []struct {
		method, path, accept string
		status               int
		page                 bool
		code                 string
	}{
		{"GET", "/blocks/", html, 400, true, "bad-path"},
		{"GET", "/blocks/", "", 400, false, "bad-path"},
		{"GET", "/api/tip/", html, 400, false, "bad-path"},
		{"POST", "/", html, 405, true, "method-not-allowed"},
		{"GET", "/", html, 200, true, "Explorer"},
		{"GET", "/", html, 200, true, "Explorer"},
		{"GET", "/", html, 200, true, "Explorer"},
		{"GET", "/", html, 429, true, "rate-limited"}, // the burst of 3 is spent
	} {
		resp, body := get(t, c.method, ts.URL+c.path, "Accept", c.accept)
		isPage := resp.Header.Get("Content-Type") == contentTypeHTML
		if resp.StatusCode != c.status || isPage != c.page || !strings.Contains(string(body), c.code) {
			t.Errorf("%s %s (Accept %q): %d, page %v, want %d, page %v, %s:\n%.200s", c.method, c.path, c.accept, resp.StatusCode, isPage, c.status, c.page, c.code, body)
		}
		if isPage {
			checkPage(t, f, c.path, body)
		}
	}
}
