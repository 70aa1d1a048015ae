package web

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
)

// cnjChain returns what cnj-chain prints for a query (package explore on a
// node of its own).
func cnjChain(t *testing.T, dir string, q func(n *node.Node, w *bytes.Buffer) error) []byte {
	t.Helper()
	n, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var b bytes.Buffer
	if err := q(n, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// asArray turns JSON lines into the JSON array of them.
func asArray(lines []byte) []byte {
	lines = bytes.TrimSuffix(lines, []byte("\n"))
	return append(append([]byte("["), bytes.ReplaceAll(lines, []byte("\n"), []byte(","))...), "]\n"...)
}

func blockHash(t *testing.T, line []byte) string {
	t.Helper()
	var b struct{ Hash string }
	if err := json.Unmarshal(line, &b); err != nil {
		t.Fatal(err)
	}
	return b.Hash
}

// TestAPI checks every JSON endpoint, happy paths and errors. Answers that
// cnj-chain also gives must be its very bytes.
func TestAPI(t *testing.T) {
	f := getFixture(t)
	_, ts, logs := newServer(t, Config{})
	hash := func(h int) string { return blockHash(t, f.lines[h]) }
	gh := f.p.Hash()
	genesisHash := hex.EncodeToString(gh[:])
	tipLine := cnjChain(t, f.dir, func(n *node.Node, w *bytes.Buffer) error { return explore.Tip(n, w) })
	var tip struct {
		Height int
		Hash   string
		Work   string
	}
	if err := json.Unmarshal(tipLine, &tip); err != nil {
		t.Fatal(err)
	}
	mainAddr := keys.Address(params.Main().AddressPrefix, f.alice.priv.Public().(ed25519.PublicKey))
	minedID := hex.EncodeToString(f.mined.ID[:])
	pendingID := hex.EncodeToString(f.pending.ID[:])
	_ = minedID
	chainSays := func(q func(n *node.Node, w *bytes.Buffer) error) string { return string(cnjChain(t, f.dir, q)) }

	type check struct {
		path   string
		status int
		ctype  string
		body   string         // exact, when set
		match  *regexp.Regexp // else a match, when set
		code   string         // the error code of a 4xx
	}
	json := "application/json"
	text := "text/plain; charset=utf-8"
	re := regexp.MustCompile
	checks := []check{
		{path: "/api/blocks/tip/height", status: 200, ctype: text, body: "8"},
		{path: "/api/blocks/tip/hash", status: 200, ctype: text, body: hash(8)},
		{path: "/api/tip", status: 200, ctype: json, body: `{"height":8,"hash":"` + hash(8) + `","work":"` + tip.Work + `"}` + "\n"},

		{path: "/api/blocks", status: 200, ctype: json, match: re(`^\[\{"id":"` + hash(8) + `","height":8,.*\},\{"id":"` + genesisHash + `","height":0,[^{}]*\}\]\n$`)},
		{path: "/api/blocks/0", status: 200, ctype: json, match: re(`^\[\{"id":"` + genesisHash + `","height":0,[^{}]*\}\]\n$`)},
		{path: "/api/blocks/9", status: 404, code: "not-found"},
		{path: "/api/blocks/06", status: 400, code: "bad-number"},
		{path: "/api/blocks/x", status: 400, code: "bad-number"},
		{path: "/api/blocks/18446744073709551616", status: 400, code: "bad-number"},
		{path: "/api/v1/blocks/9", status: 404, code: "not-found"},

		{path: "/api/block/" + hash(5) + "/raw", status: 200, ctype: json, body: string(f.lines[5]) + "\n"},
		{path: "/api/block/" + hash(5) + "/raw", status: 200, ctype: json, body: chainSays(func(n *node.Node, w *bytes.Buffer) error { return explore.Block(n, hash(5), w) })},
		{path: "/api/block/" + genesisHash + "/raw", status: 200, ctype: json, body: string(f.p.JSON()) + "\n"},
		{path: "/api/block/" + strings.ToUpper(hash(5)), status: 400, code: "bad-hex"},
		{path: "/api/block/" + hash(5)[:63], status: 400, code: "bad-hex"},
		{path: "/api/block/5", status: 400, code: "bad-hex"},
		{path: "/api/v1/block/5", status: 400, code: "bad-hex"},
		{path: "/api/block/" + strings.Repeat("0", 64), status: 404, code: "not-found"},
		{path: "/api/block/" + strings.Repeat("0", 64) + "/status", status: 404, code: "not-found"},
		{path: "/api/block/x/txids", status: 400, code: "bad-hex"},
		{path: "/api/block/" + hash(6) + "/txs/25", status: 404, code: "not-found"},
		{path: "/api/block/" + hash(6) + "/txs/1", status: 400, code: "bad-number"},
		{path: "/api/block/" + hash(6) + "/txs/024", status: 400, code: "bad-number"},
		{path: "/api/block/" + genesisHash + "/txs", status: 404, code: "not-found"},
		{path: "/api/block/" + hash(6) + "/txid/2", status: 200, ctype: text, body: hex.EncodeToString(f.blocks[6].Txs[1].ID[:])},
		{path: "/api/block/" + hash(6) + "/txid/3", status: 404, code: "not-found"},
		{path: "/api/block/" + hash(6) + "/txid/-1", status: 400, code: "bad-number"},
		{path: "/api/block/" + genesisHash + "/txid/0", status: 404, code: "not-found"},
		{path: "/api/block/" + genesisHash + "/header", status: 404, code: "not-found"},

		{path: "/api/block-height/3", status: 200, ctype: text, body: hash(3)},
		{path: "/api/block-height/0", status: 200, ctype: text, body: genesisHash},
		{path: "/api/block-height/9", status: 404, code: "not-found"},
		{path: "/api/block-height/-1", status: 400, code: "bad-number"},
		{path: "/api/block-height/1e3", status: 400, code: "bad-number"},

		{path: "/api/tx/00112233445566778899aabbccddeeff", status: 404, code: "not-found"},
		{path: "/api/tx/" + hash(5), status: 404, code: "not-found"},
		{path: "/api/tx/00112233445566778899AABBCCDDEEFF", status: 400, code: "bad-hex"},
		{path: "/api/tx/0011", status: 400, code: "bad-hex"},
		{path: "/api/tx/0011/status", status: 400, code: "bad-hex"},
		{path: "/api/tx/" + pendingID + "/merkle-proof", status: 404, code: "not-found"},
		{path: "/api/tx/" + minedID + "/status", status: 200, ctype: json, body: `{"confirmed":true,"block_height":5,"block_hash":"` + hash(5) + `","block_time":` + itoa(int(f.blocks[5].Timestamp)) + "}\n"},

		{path: "/api/address/junk", status: 400, code: "bad-address"},
		{path: "/api/address/" + f.alice.addr[:len(f.alice.addr)-1] + "0", status: 400, code: "bad-address"},
		{path: "/api/address/" + mainAddr, status: 400, code: "wrong-network"},
		{path: "/api/address/" + newWallet(f.p, 9).addr + "/txs", status: 200, body: "[]\n"},
		{path: "/api/address/junk/txs", status: 400, code: "bad-address"},
		{path: "/api/address/" + mainAddr + "/txs", status: 400, code: "wrong-network"},
		{path: "/api/address/junk/txs/chain", status: 400, code: "bad-address"},
		{path: "/api/address/junk/txs/mempool", status: 400, code: "bad-address"},
		{path: "/api/address/" + f.bob.addr + "/txs/chain/0011", status: 400, code: "bad-hex"},
		{path: "/api/address/" + f.bob.addr + "/txs/chain/" + pendingID, status: 404, code: "not-found"},
		{path: "/api/address/" + f.bob.addr + "/txs/chain/" + minedID, status: 404, code: "not-found"},
		{path: "/api/address/" + f.bob.addr + "/txs/chain/" + hex.EncodeToString(f.blocks[6].Txs[0].ID[:]), status: 200, body: "[]\n"},

		{path: "/api/mempool/txids", status: 200, ctype: json, body: `["` + pendingID + `"]` + "\n"},
		{path: "/api/peers", status: 200, ctype: json, body: `["127.0.0.2:5050","127.0.0.3:5050"]` + "\n"},
		{path: "/api/genesis", status: 200, ctype: json, body: string(f.p.JSON()) + "\n"},

		{path: "/api", status: 404, code: "not-found"},
		{path: "/api/nope", status: 404, code: "not-found"},
		{path: "/api/tip/", status: 400, code: "bad-path"},
		{path: "/favicon.ico", status: 404, ctype: "text/html; charset=utf-8"}, // a page for people: HTML
	}
	for _, c := range checks {
		resp, body := get(t, "GET", ts.URL+c.path)
		if resp.StatusCode != c.status {
			t.Errorf("GET %s: status %d, want %d: %s", c.path, resp.StatusCode, c.status, body)
			continue
		}
		if c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, resp.Header.Get("Content-Type"), c.ctype)
		}
		if c.body != "" && string(body) != c.body {
			t.Errorf("GET %s:\n got %q\nwant %q", c.path, body, c.body)
		}
		if c.match != nil && !c.match.Match(body) {
			t.Errorf("GET %s:\n got %q\nwant a match of %s", c.path, body, c.match)
		}
		if c.code != "" {
			checkError(t, "GET "+c.path, resp, body, c.code)
		}
		if c.status == 200 && json == resp.Header.Get("Content-Type") && !jsonValid(body) {
			t.Errorf("GET %s: not JSON: %q", c.path, body)
		}
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func removeFile(path string) error { return os.Remove(path) }

func jsonValid(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	for {
		var v any
		if err := d.Decode(&v); err != nil {
			return err.Error() == "EOF"
		}
	}
}

// checkError checks a JSON error answer: {"error":MSG,"code":CODE}.
func checkError(t *testing.T, what string, resp *http.Response, body []byte, code string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: error with Content-Type %q", what, ct)
	}
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil || e.Error == "" {
		t.Errorf("%s: not a JSON error: %q (%v)", what, body, err)
		return
	}
	if e.Code != code {
		t.Errorf("%s: code %q, want %q (%s)", what, e.Code, code, e.Error)
	}
}

// TestHead checks that HEAD answers as GET without a body.
func TestHead(t *testing.T) {
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{})
	for _, p := range []string{"/api/tip", "/api/address/" + f.alice.addr, "/api/address/" + f.alice.addr + "/txs", "/api/chain?from=1", "/", "/metrics", "/install.sh", "/bin/cnj-x", "/man/cnj-x.1", "/SHA256SUMS"} {
		resp, body := get(t, "HEAD", ts.URL+p)
		if resp.StatusCode != 200 || len(body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes", p, resp.StatusCode, len(body))
		}
		if resp.Header.Get("Content-Type") == "" {
			t.Errorf("HEAD %s: no Content-Type", p)
		}
	}
	resp, _ := get(t, "HEAD", ts.URL+"/api/address/junk")
	if resp.StatusCode != 400 {
		t.Errorf("HEAD /api/address/junk: %d, want 400", resp.StatusCode)
	}
}

// TestMethods checks that every method but GET and HEAD gets 405 with Allow.
func TestMethods(t *testing.T) {
	_, ts, _ := newServer(t, Config{})
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT", "PROPFIND", "get"} {
		for _, p := range []string{"/", "/api/tip", "/api/chain", "/bin/cnj-x", "/man/cnj-x.1", "/SHA256SUMS", "/nope", "/bin/../chain/key"} {
			resp, body := get(t, m, ts.URL+p)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", m, p, resp.StatusCode)
				continue
			}
			if a := resp.Header.Get("Allow"); a != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q", m, p, a)
			}
			if m != "CONNECT" {
				checkError(t, m+" "+p, resp, body, "method-not-allowed")
			}
		}
	}
}

// TestMetrics checks the Prometheus answer and that it follows rejects.log.
func TestMetrics(t *testing.T) {
	dir := copyFixture(t)
	_, ts, _ := newServer(t, Config{Chain: dir})
	resp, body := get(t, "GET", ts.URL+"/metrics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"# TYPE cnj_tip_height gauge\ncnj_tip_height 8\n",
		"\ncnj_peers 2\n",
		"\ncnj_mempool_txs 1\n",
		"# TYPE cnj_rejects_total counter\n",
		"\ncnj_rejects_total{reason=\"bad-json\"} 1\ncnj_rejects_total{reason=\"bad-signature\"} 2\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %q:\n%s", want, body)
		}
	}
	checkExposition(t, body)

	// Appended lines, a line still being written, then a new file.
	appendFile(t, dir+"/rejects.log", `{"time":1,"from":"1.2.3.4","reason":"low-fee","id":"00000000000000000000000000000000","msg":"m"}`+"\n"+`{"time":1,"from":"","reason":"a\"b\\c`)
	_, body = get(t, "GET", ts.URL+"/metrics")
	if !strings.Contains(string(body), "cnj_rejects_total{reason=\"low-fee\"} 1\n") || strings.Contains(string(body), `a\"b`) {
		t.Errorf("after appending:\n%s", body)
	}
	appendFile(t, dir+"/rejects.log", `","id":"00000000000000000000000000000000","msg":"m"}`+"\n")
	_, body = get(t, "GET", ts.URL+"/metrics")
	if !strings.Contains(string(body), `cnj_rejects_total{reason="a\"b\\c"} 1`+"\n") {
		t.Errorf("the finished line is not counted, or not escaped:\n%s", body)
	}
	checkExposition(t, body)
	if err := removeFile(dir + "/rejects.log"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, dir+"/rejects.log", `{"time":1,"from":"","reason":"high-hash","hash":"`+strings.Repeat("0", 64)+`","msg":"m"}`+"\n")
	_, body = get(t, "GET", ts.URL+"/metrics")
	if !strings.Contains(string(body), "cnj_rejects_total{reason=\"high-hash\"} 1\n") || strings.Contains(string(body), "bad-json") {
		t.Errorf("a new rejects.log is not counted afresh:\n%s", body)
	}
}

// checkExposition checks the text format's shape: HELP and TYPE once
// before each family's samples, which are together, every sample
// NAME[{LABEL="VALUE",...}] VALUE.
func checkExposition(t *testing.T, body []byte) {
	t.Helper()
	const label = `[a-z_]+="(?:[^"\\]|\\.)*"`
	sample := regexp.MustCompile(`^([a-z_][a-z0-9_]*)(\{` + label + `(?:,` + label + `)*\})? (?:[0-9]+|[0-9]+(?:\.[0-9]+)?(?:e[+-][0-9]+)?)$`)
	typed := map[string]bool{}
	done := map[string]bool{} // families whose samples ended
	last := ""
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name := strings.Fields(rest)[0]
			if typed[name] {
				t.Errorf("/metrics: a second TYPE for %s", name)
			}
			typed[name] = true
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("/metrics: malformed line %q", line)
			continue
		}
		if family := strings.TrimSuffix(strings.TrimSuffix(m[1], "_sum"), "_count"); !typed[m[1]] && !typed[family] {
			t.Errorf("/metrics: %s has no TYPE before it", m[1])
		} else if !typed[m[1]] {
			m[1] = family // a summary's sum and count go with its quantiles
		}
		if m[1] != last {
			if done[m[1]] {
				t.Errorf("/metrics: the samples of %s are not together", m[1])
			}
			done[last], last = true, m[1]
		}
	}
}
