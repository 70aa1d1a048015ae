package testscripts

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/node"
)

// BenchmarkWrkAddress measures GET /api/address/ADDR on a real cnj-serve
// (127.0.0.151, per-IP limit off: BenchmarkAddressRateLimited in lib/web
// prices the limiter) with wrk, against a net/http hello world served by
// this process on 127.0.0.152, alternating the two so that other load on
// the machine weighs on both alike. It reports requests a second and p99
// latency of each and their ratios (goals: throughput >= 0.6 of the hello
// world's, p99 at most twice its p99). It needs wrk (apt-get install wrk).
func BenchmarkWrkAddress(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed (apt-get install wrk)")
	}
	const serveIP, helloIP = "127.0.0.151", "127.0.0.152"
	root := b.TempDir()
	src, err := testchain.Build(filepath.Join(root, "src"), 20, 2000)
	if err != nil {
		b.Fatal(err)
	}
	d, err := node.Open(src.Dir)
	if err != nil {
		b.Fatal(err)
	}
	last, err := d.Chain().Block(d.Chain().Tip())
	d.Close()
	if err != nil {
		b.Fatal(err)
	}
	addr := last.Txs[0].Sender // an address with a balance and history

	startProc(b, root, "exec cnj-serve --rate 0 --listen "+serveIP+":56230 --chain src")
	ln, err := net.Listen("tcp", helloIP+":8080")
	if err != nil {
		b.Fatal(err)
	}
	hello := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("Hello, world!\n"))
	})}
	go hello.Serve(ln)
	b.Cleanup(func() { hello.Close() })

	addrURL := "http://" + serveIP + ":56230/api/address/" + addr
	helloURL := "http://" + helloIP + ":8080/"
	netAnswers(b, addrURL)

	run := func(url string) (rps float64, p99 time.Duration) {
		out, err := exec.Command(wrk, "-t2", "-c32", "-d3s", "--latency", url).CombinedOutput()
		if err != nil {
			b.Fatalf("wrk %s: %v\n%s", url, err, out)
		}
		if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); m != nil {
			b.Fatalf("wrk %s: %s answers were not 200\n%s", url, m[1], out)
		}
		m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
		l := regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)\b`).FindSubmatch(out)
		if m == nil || l == nil {
			b.Fatalf("wrk %s: cannot read its report:\n%s", url, out)
		}
		rps, _ = strconv.ParseFloat(string(m[1]), 64)
		v, _ := strconv.ParseFloat(string(l[1]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(l[2])]
		return rps, time.Duration(v * float64(unit))
	}
	run(helloURL) // warm up both
	run(addrURL)
	var aRPS, hRPS float64
	var aP99, hP99 time.Duration
	b.ResetTimer()
	for range b.N {
		const rounds = 2
		for range rounds {
			r, p := run(helloURL)
			hRPS += r / rounds
			hP99 = max(hP99, p)
			r, p = run(addrURL)
			aRPS += r / rounds
			aP99 = max(aP99, p)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(aRPS/n, "address-req/s")
	b.ReportMetric(hRPS/n, "hello-req/s")
	b.ReportMetric(aRPS/hRPS, "ratio-vs-hello")
	b.ReportMetric(float64(aP99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(hP99.Microseconds()), "hello-p99-µs")
	b.ReportMetric(float64(aP99)/float64(hP99), "p99-vs-hello")
}
