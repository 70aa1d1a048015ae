package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
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
	for _, p := range []string{"/install.sh", "/SHA256SUMS"} {
		if resp, _ := get(t, "GET", ts2.URL+p); resp.StatusCode != 404 {
			t.Errorf("empty directory: %s %d", p, resp.StatusCode)
		}
	}
}

// TestManPages: /man/ serves exactly the cnj-*.N pages of the man
// directory, from manN/ or the directory itself.
func TestManPages(t *testing.T) {
	s, ts, _ := newServer(t, Config{})
	for path, want := range map[string]string{
		"/man/cnj-x.1":      ".Dt CNJ-X 1\n",
		"/man/cnj-y.1":      ".Dt CNJ-Y 1\n",
		"/man/cnj-format.5": ".Dt CNJ-FORMAT 5\n",
	} {
		resp, body := get(t, "GET", ts.URL+path)
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, body)
		}
	}
	names, err := s.man.list()
	if err != nil || strings.Join(names, " ") != "cnj-format.5 cnj-x.1 cnj-y.1" {
		t.Errorf("list: %q, %v; want cnj-format.5 cnj-x.1 cnj-y.1", names, err)
	}
	for _, name := range []string{"cnj-bad.5", "other.1", "cnj-x.key", "cnj-x.1.gz", "cnj-link.1", "../key", "man1/cnj-x.1", "cnj-x.0", "cnj-x", "cnj-.1", ""} {
		if fh, _, err := s.man.open(name); err == nil {
			fh.Close()
			t.Errorf("open(%q) succeeded", name)
		}
	}
}

// TestChecksums: /SHA256SUMS holds the SHA-256 of every file the installer
// installs, as sha256sum(1) prints them; a file that changes gets its new
// sum, and one that keeps its size and modification time is not read again.
func TestChecksums(t *testing.T) {
	bin := t.TempDir()
	for _, n := range []string{"cnj-a", "cnj-b"} {
		if err := os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\necho "+n+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, ts, _ := newServer(t, Config{BinDir: bin})
	want := func() string {
		var b strings.Builder
		for _, p := range []string{"bin/cnj-a", "bin/cnj-b", "man/cnj-format.5", "man/cnj-x.1", "man/cnj-y.1"} {
			dir, name, _ := strings.Cut(p, "/")
			file := filepath.Join(bin, name)
			if dir == "man" {
				file = filepath.Join(getFixture(t).man, map[string]string{"cnj-format.5": "man5/cnj-format.5", "cnj-x.1": "man1/cnj-x.1", "cnj-y.1": "cnj-y.1"}[name])
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), p)
		}
		return b.String()
	}
	resp, body := get(t, "GET", ts.URL+"/SHA256SUMS")
	if resp.StatusCode != 200 || string(body) != want() {
		t.Fatalf("GET /SHA256SUMS: %d\n%s\nwant\n%s", resp.StatusCode, body, want())
	}
	// A new build: new content, new time.
	a := filepath.Join(bin, "cnj-a")
	if err := os.WriteFile(a, []byte("#!/bin/sh\necho new\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(a, later, later); err != nil {
		t.Fatal(err)
	}
	if _, body = get(t, "GET", ts.URL+"/SHA256SUMS"); string(body) != want() {
		t.Errorf("after a change: \n%s\nwant\n%s", body, want())
	}
	// The same size and time: the sum is the one remembered, which the
	// installer then finds wrong (as it would a download broken on its way).
	old := want()
	if err := os.WriteFile(a, []byte("#!/bin/sh\necho NEW\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(a, later, later); err != nil {
		t.Fatal(err)
	}
	if _, body = get(t, "GET", ts.URL+"/SHA256SUMS"); string(body) != old {
		t.Errorf("a file of the same size and time was read again:\n%s", body)
	}
}

// installer runs script with sh in home, with PATH first, and returns its
// exit status and output.
func installer(t *testing.T, script []byte, home, path string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-s", "--"}, args...)...)
	cmd.Stdin = strings.NewReader(string(script))
	cmd.Env = []string{"PATH=" + path + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + home, "PREFIX=" + filepath.Join(home, "pfx"), "XDG_CONFIG_HOME=" + filepath.Join(home, "cfg")}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// tree returns every file under dir with its mode and content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files[strings.TrimPrefix(p, dir)] = fi.Mode().String() + " " + string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestInstall runs the installer against the server: it installs the
// binaries into PREFIX/bin and the pages into PREFIX/share/man/manN,
// records the source node, and says what to do next; a download that does
// not match SHA256SUMS, or a machine of another platform, installs nothing
// and leaves the previous install as it was.
func TestInstall(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed: install it (apt-get install -y curl); make deps does")
	}
	f := getFixture(t)
	s, ts, _ := newServer(t, Config{})
	resp, script := get(t, "GET", ts.URL+"/install.sh")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/x-shellscript") {
		t.Fatalf("GET /install.sh: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !regexp.MustCompile(`(?m)^source_node='` + regexp.QuoteMeta(ts.URL) + `'$`).Match(script) {
		t.Errorf("the script does not name %s as the source:\n%s", ts.URL, script)
	}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		cmd := exec.Command(sc, "-s", "sh", "-")
		cmd.Stdin = strings.NewReader(string(script))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck install.sh: %v\n%s", err, out)
		}
	}
	home := t.TempDir()
	pfx := filepath.Join(home, "pfx")
	code, out := installer(t, script, home, "")
	if code != 0 {
		t.Fatalf("install.sh: exit %d\n%s", code, out)
	}
	for _, w := range []string{"installed 2 commands into " + pfx + "/bin and 3 manual pages into " + pfx + "/share/man, each checked against SHA256SUMS; source node " + ts.URL, "install.sh: next: cnj-wallet init\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("install.sh said %q, not %q", out, w)
		}
	}
	for name, src := range map[string]string{
		"bin/cnj-x": filepath.Join(f.bin, "cnj-x"), "bin/cnj-y": filepath.Join(f.bin, "cnj-y"),
		"share/man/man1/cnj-x.1": filepath.Join(f.man, "man1/cnj-x.1"), "share/man/man1/cnj-y.1": filepath.Join(f.man, "cnj-y.1"),
		"share/man/man5/cnj-format.5": filepath.Join(f.man, "man5/cnj-format.5"),
	} {
		want, _ := os.ReadFile(src)
		got, err := os.ReadFile(filepath.Join(pfx, name))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "bin/") {
			mode = 0o755
		}
		if fi, err := os.Stat(filepath.Join(pfx, name)); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: not %v", name, mode)
		}
	}
	if src, err := os.ReadFile(filepath.Join(home, "cfg", "coniunctum", "source")); err != nil || string(src) != ts.URL+"\n" {
		t.Errorf("source: %q, %v", src, err)
	}
	before := tree(t, home)
	if len(before) != 6 {
		t.Errorf("%d files installed, want 6: %v", len(before), before)
	}

	// Downloads that do not match SHA256SUMS: one byte changed on its way,
	// or cut short. The install fails naming the file, and leaves the
	// previous one as it was, with no staging directory behind.
	for name, spoil := range map[string]func([]byte) []byte{
		"changed": func(b []byte) []byte { b = slices.Clone(b); b[len(b)-2] ^= 1; return b },
		"cut":     func(b []byte) []byte { return b[:len(b)/2] },
	} {
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if r.URL.Path == "/man/cnj-y.1" {
				body = spoil(body)
			}
			w.WriteHeader(rec.Code)
			w.Write(body)
		}))
		_, badScript := get(t, "GET", bad.URL+"/install.sh")
		code, out := installer(t, badScript, home, "")
		bad.Close()
		if code != 1 || !strings.Contains(out, "install.sh: man/cnj-y.1: the download does not match "+bad.URL+"/SHA256SUMS") || !strings.Contains(out, "nothing was installed") {
			t.Errorf("%s download: exit %d\n%s", name, code, out)
		}
		if after := tree(t, home); !maps.Equal(after, before) {
			t.Errorf("%s download: the install changed:\n%v\nwas\n%v", name, after, before)
		}
	}

	// Interrupted (Ctrl-C: SIGINT to the whole process group) while a
	// download hangs: the previous install as it was, no staging left.
	hung, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/man/cnj-x.1" {
			close(hung)
			<-release
		}
		s.Handler().ServeHTTP(w, r)
	}))
	defer slow.Close()
	defer close(release)
	_, slowScript := get(t, "GET", slow.URL+"/install.sh")
	cmd := exec.Command("sh", "-s")
	cmd.Stdin = strings.NewReader(string(slowScript))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "PREFIX=" + pfx, "XDG_CONFIG_HOME=" + filepath.Join(home, "cfg")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-hung
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	if err := cmd.Wait(); err == nil {
		t.Errorf("interrupted: exit 0")
	}
	if after := tree(t, home); !maps.Equal(after, before) {
		t.Errorf("interrupted: the install changed:\n%v\nwas\n%v", after, before)
	}
	if left, _ := filepath.Glob(filepath.Join(pfx, ".cnj-install.*")); len(left) != 0 {
		t.Errorf("interrupted: %v left", left)
	}

	// Another platform: said plainly, nothing installed.
	fake := t.TempDir()
	if err := os.WriteFile(filepath.Join(fake, "uname"), []byte("#!/bin/sh\ncase $1 in -s) echo SunOS ;; -m) echo sun4v ;; esac\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	home2 := t.TempDir()
	code, out = installer(t, script, home2, fake)
	want := "install.sh: this node serves commands for " + runtime.GOOS + "/" + runtime.GOARCH + ", and this machine is sunos/sun4v (SunOS sun4v): they would not run here; nothing was installed"
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("another platform: exit %d\n%s\nwant %q", code, out, want)
	}
	if left := tree(t, home2); len(left) != 0 {
		t.Errorf("another platform: %v left", left)
	}

	// Usage errors: 2.
	for _, args := range [][]string{{"--role", "king"}, {"--nope"}, {"--systemd"}, {"--role", "miner", "--systemd", "--ip", "127.0.0.2"}, {"--ip", "1.2.3.4;x"}} {
		if code, out := installer(t, script, t.TempDir(), "", args...); code != 2 || !strings.Contains(out, "usage: install.sh") {
			t.Errorf("install.sh %q: exit %d\n%s", args, code, out)
		}
	}
	if code, out := installer(t, script, t.TempDir(), "", "--help"); code != 0 || !strings.HasPrefix(out, "usage: install.sh") {
		t.Errorf("install.sh --help: exit %d\n%s", code, out)
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
