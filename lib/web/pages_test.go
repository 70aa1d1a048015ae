package web

import (
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPages: the explorer pages, their escaping and their errors.
func TestPages(t *testing.T) {
	f := getFixture(t)
	_, ts, logs := newServer(t, Config{})
	hash5 := blockHash(t, f.lines[5])
	minedID := hex.EncodeToString(f.mined.ID[:])
	pendingID := hex.EncodeToString(f.pending.ID[:])
	for _, c := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/", 200, []string{"Latest blocks", `<a class="h" href="/block/` + blockHash(t, f.lines[8]) + `">`, "1 transfer, 531 B</a>"}},
		{"/block/" + hash5, 200, []string{"Block 5", "main chain, 4 confirmations", `href="/tx/` + minedID + `"`, `href="/address/` + f.alice.addr + `"`, `<td class="n">7 CNJ</td>`, "50.00001 CNJ"}},
		{"/block/" + hex.EncodeToString(func() []byte { h := f.p.Hash(); return h[:] }()), 200, []string{"Block 0", "/api/genesis"}},
		{"/tx/" + minedID, 200, []string{"in block <a href=\"/block/" + hash5 + "\">5</a>, 4 confirmations", "0.00001 CNJ"}},
		{"/tx/" + pendingID, 200, []string{"pending (<a href=\"/mempool\">mempool</a>)", "3 CNJ"}},
		{"/address/" + f.alice.addr, 200, []string{f.alice.addr, "4.99999 CNJ", "<td>in</td>", "<td>out</td>", "pending"}},
		{"/address/" + f.miner.addr, 200, []string{"<td>reward</td>", "-3.00001 CNJ"}},
		{"/block/" + strings.Repeat("0", 64), 404, []string{"Not found"}},
		{"/block/xyz", 400, []string{"Bad request"}},
		{"/tx/00112233445566778899aabbccddeeff", 404, []string{"Not found"}},
		{"/tx/xyz", 400, []string{"Bad request"}},
		{"/address/junk", 400, []string{"Bad request", "bad-address"}},
		{"/address/script-alert-1", 400, []string{"script-alert-1"}},
		{"/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404, []string{"Nothing found for &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;"}},
		{"/search?q=99", 404, []string{"no block at height 99"}},
	} {
		resp, body := get(t, "GET", ts.URL+c.path)
		if resp.StatusCode != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, resp.StatusCode, c.status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", c.path, ct)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", c.path)
		}
		for _, w := range c.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s: no %q in\n%s", c.path, w, body)
			}
		}
		if strings.Contains(string(body), "<script") {
			t.Errorf("GET %s: a script tag", c.path)
		}
	}

	// The search box sends each kind of query to its page.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for q, want := range map[string]string{
		"5":          "/block/" + hash5,
		hash5:        "/block/" + hash5,
		" " + hash5:  "/block/" + hash5,
		minedID:      "/tx/" + minedID,
		f.alice.addr: "/address/" + f.alice.addr,
	} {
		resp, err := noRedirect.Get(ts.URL + "/search?q=" + strings.ReplaceAll(q, " ", "+"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("search %q: %d to %q, want 303 to %q", q, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}

// TestBinaries: /bin/ serves exactly the executable cnj-* files of the
// binaries directory, with ranges and HEAD.
func TestBinaries(t *testing.T) {
	s, ts, _ := newServer(t, Config{})
	resp, body := get(t, "GET", ts.URL+"/bin/cnj-y")
	if resp.StatusCode != 200 || string(body) != "#!/bin/sh\necho cnj-y\n" || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("GET /bin/cnj-y: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = get(t, "GET", ts.URL+"/bin/cnj-y", "Range", "bytes=0-8")
	if resp.StatusCode != http.StatusPartialContent || string(body) != "#!/bin/sh" {
		t.Errorf("a range: %d %q", resp.StatusCode, body)
	}
	names, err := s.bin.list()
	if err != nil || strings.Join(names, " ") != "cnj-x cnj-y" {
		t.Errorf("list: %q, %v; want cnj-x cnj-y", names, err)
	}
	// The directory's own checks, without the guard in front.
	for _, name := range []string{"../chain/key", "../key", "/etc/passwd", "cnj-x/../cnj-key", "cnj-key", "cnj-link", "cnj-rel",
		"cnj-sub", "cnj-x.key", "cnj-x\x00", "other", ".", "..", "", "cnj-", "cnj-X", "cnj-" + strings.Repeat("a", 61)} {
		if fh, _, err := s.bin.open(name); err == nil {
			fh.Close()
			t.Errorf("open(%q) succeeded", name)
		}
	}
	// No binaries directory: nothing served, no installer.
	_, ts2, _ := newServer(t, Config{BinDir: t.TempDir()})
	if resp, _ := get(t, "GET", ts2.URL+"/bin/cnj-x"); resp.StatusCode != 404 {
		t.Errorf("empty directory: /bin/cnj-x %d", resp.StatusCode)
	}
	if resp, _ := get(t, "GET", ts2.URL+"/install.sh"); resp.StatusCode != 404 {
		t.Errorf("empty directory: /install.sh %d", resp.StatusCode)
	}
}

// TestInstall runs the installer against the server: it installs the
// binaries into PREFIX/bin and records the source node.
func TestInstall(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{})
	resp, script := get(t, "GET", ts.URL+"/install.sh")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/x-shellscript") {
		t.Fatalf("GET /install.sh: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !regexp.MustCompile(`(?m)^source_node='` + regexp.QuoteMeta(ts.URL) + `'$`).Match(script) {
		t.Errorf("the script does not name %s as the source:\n%s", ts.URL, script)
	}
	home := t.TempDir()
	cmd := exec.Command("sh", "-s")
	cmd.Stdin = strings.NewReader(string(script))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "PREFIX=" + filepath.Join(home, "pfx"), "XDG_CONFIG_HOME=" + filepath.Join(home, "cfg")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	for _, name := range []string{"cnj-x", "cnj-y"} {
		want, _ := os.ReadFile(filepath.Join(f.bin, name))
		got, err := os.ReadFile(filepath.Join(home, "pfx", "bin", name))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
		if fi, err := os.Stat(filepath.Join(home, "pfx", "bin", name)); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: not 0755", name)
		}
	}
	if src, err := os.ReadFile(filepath.Join(home, "cfg", "coniunctum", "source")); err != nil || string(src) != ts.URL+"\n" {
		t.Errorf("source: %q, %v", src, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(home, "pfx", "bin")); len(ents) != 2 {
		t.Errorf("%d files installed, want 2", len(ents))
	}

	// A Host header that is not a plain host is not put into the script.
	for _, host := range []string{"x'$(touch /tmp/pwned)'", "a b", "x:0", "x:99999", "[::1"} {
		resp, body := raw(t, ts.Listener.Addr().String(), "GET /install.sh HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		if resp.StatusCode == 200 && strings.Contains(string(body), host) {
			t.Errorf("Host %q went into the script", host)
		}
	}
}

// TestValidHost is the rule for the Host the installer records.
func TestValidHost(t *testing.T) {
	for h, want := range map[string]bool{
		"example.com": true, "127.0.0.80:56230": true, "[::1]:56230": true, "[::1]": true, "node-1.local:80": true,
		"": false, "a b": false, "x'y": false, "x:": false, "x:0": false, "x:65536": false, "x:08": false,
		"[::1": false, "[1.2.3.4]": false, "a:b:c": false, "x/y": false, "x$(id)": false,
	} {
		if got := validHost(h); got != want {
			t.Errorf("validHost(%q) = %v, want %v", h, got, want)
		}
	}
}
