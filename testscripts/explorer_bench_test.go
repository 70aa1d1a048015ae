package testscripts

import (
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/node"
)

// BenchmarkExplorerLookups measures the lookups of the transfer index on
// the sync benchmark's chain (testchain.Build of testchain.BenchSize; the
// issue's figure: CNJ_SYNC_BENCH_BLOCKS=10000 CNJ_SYNC_BENCH_TXS=1000000;
// benchChain's, kept in $CNJ_BENCH_DIR when it is set):
//
//   - through a real cnj-serve on 127.0.0.154, one request at a time on a
//     kept-alive connection, the latency of a transfer by id
//     (/api/tx/ID, random transfers of the whole chain) and of the first
//     page of an address's history (/api/address/A/txs: a receiver, whose
//     25 newest transfers are in 25 blocks 200 apart, and a sender, which
//     sends in every block), against the same server's cheapest answer
//     (/api/blocks/tip/height: the machine's floor for a request). The
//     goal is a p99 of at most 5 ms; tx-p99-ratio and history-p99-ratio
//     are the p99s over the floor's;
//   - cnj-chain tx and cnj-chain history (a receiver's whole history) as
//     whole processes, against cnj-chain tip (a process that opens the
//     directory and prints one line: the floor of any cnj-chain). The goal
//     is at most 50 ms.
//
// Every request and command is checked to succeed.
func BenchmarkExplorerLookups(b *testing.B) {
	const ip = "127.0.0.154"
	root := b.TempDir()
	src := &testchain.Chain{Dir: benchChain(b)}
	ids, receivers, senders := lookupSamples(b, src.Dir, 500)

	startProc(b, root, "exec cnj-serve --rate 0 --listen "+ip+":56230 --chain "+src.Dir)
	base := "http://" + ip + ":56230"
	netAnswers(b, base+"/api/blocks/tip/height")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func(path string) time.Duration {
		begin := time.Now()
		resp, err := hc.Get(base + path)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(begin)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return took
	}
	run := func(args ...string) time.Duration {
		begin := time.Now()
		out, err := exec.Command(filepath.Join(BinDir(), "cnj-chain"), append([]string{"--chain", src.Dir}, args...)...).CombinedOutput()
		took := time.Since(begin)
		if err != nil {
			b.Fatalf("cnj-chain %v: %v\n%s", args, err, out)
		}
		return took
	}
	// Warm the page cache and the server: a node that serves has read its
	// chain before.
	for _, id := range ids[:50] {
		get("/api/tx/" + id)
	}

	var floor, tx, hist, histSend, cliFloor, cliTx, cliHist []time.Duration
	b.ResetTimer()
	for range b.N {
		for i, id := range ids {
			floor = append(floor, get("/api/blocks/tip/height"))
			tx = append(tx, get("/api/tx/"+id))
			hist = append(hist, get("/api/address/"+receivers[i%len(receivers)]+"/txs"))
			histSend = append(histSend, get("/api/address/"+senders[i%len(senders)]+"/txs"))
		}
		for i := range 20 {
			cliFloor = append(cliFloor, run("tip"))
			cliTx = append(cliTx, run("tx", ids[i]))
			cliHist = append(cliHist, run("history", receivers[i]))
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p99 := func(ds []time.Duration) time.Duration { return pct(ds, 0.99) }
	b.ReportMetric(ms(p99(floor)), "floor-p99-ms")
	b.ReportMetric(ms(p99(tx)), "tx-p99-ms")
	b.ReportMetric(ms(pct(tx, 0.5)), "tx-p50-ms")
	b.ReportMetric(ms(p99(hist)), "history-p99-ms")
	b.ReportMetric(ms(pct(hist, 0.5)), "history-p50-ms")
	b.ReportMetric(ms(p99(histSend)), "sender-history-p99-ms")
	b.ReportMetric(float64(p99(tx))/float64(p99(floor)), "tx-p99-ratio")
	b.ReportMetric(float64(p99(hist))/float64(p99(floor)), "history-p99-ratio")
	b.ReportMetric(ms(pct(cliFloor, 0.5)), "cli-tip-ms")
	b.ReportMetric(ms(pct(cliTx, 0.5)), "cli-tx-ms")
	b.ReportMetric(ms(slices.Max(cliTx)), "cli-tx-max-ms")
	b.ReportMetric(ms(pct(cliHist, 0.5)), "cli-history-ms")
	b.ReportMetric(ms(slices.Max(cliHist)), "cli-history-max-ms")
	b.ReportMetric(float64(pct(cliTx, 0.5))/float64(pct(cliFloor, 0.5)), "cli-tx-ratio")
	b.ReportMetric(float64(pct(cliHist, 0.5))/float64(pct(cliFloor, 0.5)), "cli-history-ratio")
}

// pct returns the q-quantile of ds.
func pct(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*q)]
}

// lookupSamples returns n transfer ids from random blocks of the chain
// at dir, with the receiver of each, and the senders of the chain.
func lookupSamples(b *testing.B, dir string, n int) (ids, receivers, senders []string) {
	b.Helper()
	d, err := node.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	c := d.Chain()
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for len(ids) < n {
		nd := c.AtHeight(1 + rng.Uint64N(c.Tip().Height))
		if nd.TxCount == 0 {
			continue
		}
		blk, err := c.Block(nd)
		if err != nil {
			b.Fatal(err)
		}
		t := blk.Txs[rng.IntN(len(blk.Txs))]
		ids = append(ids, hex.EncodeToString(t.ID[:]))
		receivers = append(receivers, t.Receiver)
		if !seen[t.Sender] {
			seen[t.Sender] = true
			senders = append(senders, t.Sender)
		}
	}
	return ids, receivers, senders
}
