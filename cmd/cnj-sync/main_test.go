package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/cli"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow/midstate"
)

// chainDir makes a devnet chain directory with k blocks.
func chainDir(t *testing.T, p *params.Params, k int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "chain")
	if err := node.Create(dir, p); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	seed := sha256.Sum256([]byte("cnj-sync test miner"))
	miner := keys.Address(p.AddressPrefix, ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
	for range k {
		b := n.Template(miner)
		prefix := b.Prefix()
		ms := midstate.New(prefix[:])
		proof, hash, ok := ms.Search(block.PrefixSize, 0, math.MaxUint64, &b.Target)
		if !ok {
			t.Fatal("no proof")
		}
		b.Proof, b.Hash = proof, hash
		if v, _, err := n.AddMined(b); err != nil || v.Err != nil {
			t.Fatalf("block %d: %v %v", b.Index, err, v.Err)
		}
	}
	return dir
}

func devnet(t *testing.T) *params.Params {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 1000, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cnjSync runs the command and returns its exit status and streams.
func cnjSync(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := cli.Run("cnj-sync", "", &flags{}, args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errw}, run)
	return code, out.String(), errw.String()
}

func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(path)
			m[path] = fi.ModTime().String() + string(b)
		}
		return nil
	})
	return m
}

func tipHash(t *testing.T, dir string) [32]byte {
	t.Helper()
	d, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return d.Chain().Tip().Hash
}

func TestJoinAndSync(t *testing.T) {
	p := devnet(t)
	src := chainDir(t, p, 6)
	fp, err := testchain.FromDir(src)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fp)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	dir := filepath.Join(t.TempDir(), "new", "chain")
	code, out, errs := cnjSync(t, "--chain", dir, "--from", addr)
	if code != 0 || out != "" || !strings.Contains(errs, "joined devnet") || !strings.Contains(errs, "height 6: 6 blocks from "+addr) {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
	if tipHash(t, dir) != tipHash(t, src) {
		t.Fatal("not synced")
	}
	if s, _ := chaindir.Dir(dir).ReadSource(); s != "http://"+addr {
		t.Fatalf("source %q", s)
	}

	// Up to date, quiet: nothing at all.
	code, out, errs = cnjSync(t, "--chain", dir, "--from", addr, "-q")
	if code != 0 || out != "" || errs != "" {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errs)
	}

	// The peers file, its entries asked at $CNJ_WEB_PORT.
	fp2, err := testchain.FromDir(src)
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(fp2)
	defer srv2.Close()
	_, port, _ := strings.Cut(strings.TrimPrefix(srv2.URL, "http://"), ":")
	t.Setenv("CNJ_WEB_PORT", port)
	fresh := filepath.Join(t.TempDir(), "chain")
	if err := node.Create(fresh, p); err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(t.TempDir(), "peers")
	os.WriteFile(pf, []byte("# the devnet\n127.0.0.1:5050\n"), 0o644)
	code, _, errs = cnjSync(t, "--chain", fresh, "--peers", pf, "-q")
	if code != 0 || errs != "" || tipHash(t, fresh) != tipHash(t, src) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// TestBusy: while a sync holds the lock, a second run exits 75 at once,
// says so even with -q, asks no peer and writes nothing.
func TestBusy(t *testing.T) {
	p := devnet(t)
	dir := chainDir(t, p, 2)
	asked := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { asked++ }))
	defer srv.Close()
	code, _, _ := cnjSync(t, "--chain", dir, "--from", strings.TrimPrefix(srv.URL, "http://"), "-q")
	if code != 1 || asked == 0 {
		t.Fatalf("setup: exit %d after %d requests", code, asked)
	}
	asked = 0
	release, err := chaindir.Dir(dir).LockSync()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	before := files(t, dir)
	begin := time.Now()
	code, out, errs := cnjSync(t, "--chain", dir, "--from", strings.TrimPrefix(srv.URL, "http://"), "-q")
	want := "cnj-sync: another run holds " + filepath.Join(dir, "SYNC") + ": nothing done, try again later\n"
	if code != 75 || out != "" || errs != want || asked != 0 {
		t.Fatalf("exit %d, %d requests\nstdout %q\nstderr %q, want %q", code, asked, out, errs, want)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("took %v", d)
	}
	after := files(t, dir)
	if len(before) != len(after) {
		t.Fatalf("files %d before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed", k)
		}
	}
}

func TestErrors(t *testing.T) {
	p := devnet(t)
	dir := chainDir(t, p, 1)
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("garbage"))
	}))
	defer liar.Close()
	la := strings.TrimPrefix(liar.URL, "http://")
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"lying peer", []string{"--chain", dir, "--from", la, "-q"}, 1,
			[]string{"cnj-sync: " + la + ": /api/tip: bad-json", "cnj-sync: no peer could be used: 1 asked"}},
		{"not a chain", []string{"--chain", t.TempDir()}, 1, []string{"is not a chain directory"}},
		{"both sources", []string{"--chain", dir, "--from", la, "--peers", "x"}, 2, []string{"cnj-sync:"}},
		{"bad from", []string{"--chain", dir, "--from", "a b:1"}, 2, []string{"--from:"}},
		{"no peers", []string{"--chain", dir}, 0, []string{"no peers in the peers file: nothing to do at height 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := cnjSync(t, c.args...)
			if code != c.code || out != "" {
				t.Fatalf("exit %d, want %d\nstdout %q\nstderr %q", code, c.code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
		})
	}
}
