package chainsync_test

import (
	"bytes"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainsync"
)

// TestDrippingPeer: a peer that claims the most work and drips its chain
// is given up at the progress rate, the next peer is synced from in the
// same run, and the dripper is logged in rejects.log (slow-peer) and
// tried after the others in the next run.
func TestDrippingPeer(t *testing.T) {
	nw := newNetwork(t, false)
	local := base(t, nw, 10)
	honestDir := extend(t, nw, local, 1, 5)
	honest2Dir := extend(t, nw, honestDir, 2, 5)

	var mu sync.Mutex
	var asked []string // who was tried, in order: its first request past its tip
	tried := func(who string, r *http.Request) {
		switch r.URL.Path {
		case "/api/tip", "/api/genesis", "/api/peers", "/api/mempool/txids", "/api/mempool/txs":
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if len(asked) == 0 || asked[len(asked)-1] != who {
			asked = append(asked, who)
		}
	}
	fp, err := testchain.FromDir(honestDir)
	if err != nil {
		t.Fatal(err)
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 300)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	claim(fp, 100_000, [32]byte{1}, huge, func(w http.ResponseWriter, r *http.Request) bool {
		tried("liar", r)
		if r.URL.Path != "/api/chain" {
			return false
		}
		line := append(fp.Lines()[10], '\n')
		w.(http.Flusher).Flush()
		for i := 0; ; i = (i + 1) % len(line) { // a byte every 50 ms
			select {
			case <-time.After(50 * time.Millisecond):
			case <-r.Context().Done():
				return true
			case <-done:
				return true
			}
			if _, err := w.Write(line[i : i+1]); err != nil {
				return true
			}
			w.(http.Flusher).Flush()
		}
	})
	liar := serve(t, fp)
	honestPeer := func(dir string) string {
		hfp, err := testchain.FromDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		hfp.Hook = func(w http.ResponseWriter, r *http.Request) bool {
			tried("honest", r)
			return false
		}
		return serve(t, hfp)
	}
	opts := func(peers ...string) chainsync.Options {
		return chainsync.Options{Peers: peers, KeepPeers: true,
			ProgressRate: 1 << 10, ProgressGrace: 300 * time.Millisecond, ProgressWindow: 300 * time.Millisecond}
	}

	dir := copyDir(t, local)
	start := time.Now()
	rep, err := run(t, dir, opts(liar, honestPeer(honestDir)))
	if err != nil {
		t.Fatalf("%v\n%s", err, problems(rep))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the run took %v", d)
	}
	wantTip(t, dir, tipOf(t, honestDir))
	if len(rep.Problems) != 1 || rep.Problems[0].Peer != liar || !strings.Contains(rep.Problems[0].Error(), "less than 1 KiB/s: too slow") {
		t.Fatalf("problems:\n%s", problems(rep))
	}
	if strings.Join(asked, " ") != "liar honest" {
		t.Fatalf("asked %q, want the liar's claim first", asked)
	}
	b, _ := os.ReadFile(filepath.Join(dir, chaindir.RejectsFile))
	if !bytes.Contains(b, []byte(`"from":"127.0.0.1","reason":"slow-peer","line":0,"msg":"/api/chain?from=11\u0026to=100000: `)) {
		t.Errorf("rejects.log:\n%s\nproblem: %s", b, problems(rep))
	}
	if slow, _ := chaindir.Dir(dir).SlowPeers(time.Now()); len(slow) != 1 || slow[liar] == 0 {
		t.Errorf("slow peers %v, want the liar", slow)
	}

	// The next run asks an honest peer first, the liar after.
	asked = nil
	rep, err = run(t, dir, opts(liar, honestPeer(honest2Dir)))
	if err != nil {
		t.Fatalf("%v\n%s", err, problems(rep))
	}
	wantTip(t, dir, tipOf(t, honest2Dir))
	if strings.Join(asked, " ") != "honest liar" {
		t.Fatalf("asked %q, want the honest peer first", asked)
	}

	// A sync from it that succeeds takes it off the record.
	honest3, err := testchain.FromDir(extend(t, nw, honest2Dir, 3, 2))
	if err != nil {
		t.Fatal(err)
	}
	fp.Hook = nil
	if err := fp.SetLines(honest3.Lines()); err != nil {
		t.Fatal(err)
	}
	if rep, err := run(t, dir, opts(liar)); err != nil || rep.Blocks != 2 {
		t.Fatalf("from the mended peer: %v, %d blocks\n%s", err, rep.Blocks, problems(rep))
	}
	if slow, _ := chaindir.Dir(dir).SlowPeers(time.Now()); len(slow) != 0 {
		t.Errorf("slow peers %v after a good sync", slow)
	}
}
