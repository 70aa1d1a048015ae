package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchConns is how many keep-alive connections the load uses (wrk's -c).
const benchConns = 32

// load is the outcome of runLoad.
type load struct {
	elapsed time.Duration
	lat     []time.Duration // of each request
	failed  int64
}

// add merges another run into l.
func (l *load) add(m load) {
	l.elapsed += m.elapsed
	l.lat = append(l.lat, m.lat...)
	l.failed += m.failed
}

// p returns the q-th quantile of the latencies (0 < q < 1).
func (l *load) p(q float64) time.Duration {
	s := slices.Clone(l.lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

// runLoad makes n GET requests to url over conc keep-alive connections and
// measures them.
func runLoad(url string, n, conc int) load {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	lat := make([]time.Duration, n)
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t0 := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	return load{elapsed: time.Since(start), lat: lat, failed: failed.Load()}
}

func hello() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("Hello, World!"))
	}))
}

// BenchmarkHelloWorld is the yardstick: net/http saying hello.
func BenchmarkHelloWorld(b *testing.B) {
	ts := hello()
	defer ts.Close()
	runLoad(ts.URL, 200, benchConns) // warm up the connections
	b.ResetTimer()
	l := runLoad(ts.URL, b.N, benchConns)
	b.ReportMetric(float64(l.p(0.99).Microseconds()), "p99-µs")
}

// BenchmarkAddress measures GET /api/address/ADDR against a hello world on
// the same machine in the same run: ratio-vs-hello is its throughput over
// the hello world's (goal >= 0.6), p99-vs-hello its p99 latency over the
// hello world's (goal <= 2).
func BenchmarkAddress(b *testing.B) {
	benchAddress(b, Config{})
}

// BenchmarkAddressRateLimited is BenchmarkAddress with the per-IP limiter
// on (at a rate the load never reaches): the cost of the limiter.
func BenchmarkAddressRateLimited(b *testing.B) {
	benchAddress(b, Config{Rate: 1e9, Burst: 1e9})
}

func benchAddress(b *testing.B, cfg Config) {
	f := getFixture(b)
	_, ts, _ := newServer(b, cfg)
	hs := hello()
	defer hs.Close()
	url := ts.URL + "/api/address/" + f.alice.addr
	runLoad(url, 200, benchConns)
	runLoad(hs.URL, 200, benchConns)

	// Alternate the two in rounds, so that whatever else the machine does
	// weighs on both alike.
	const rounds = 4
	var a, h load
	b.StopTimer()
	for i := range rounds {
		n := b.N / rounds
		if i == 0 {
			n += b.N % rounds
		}
		h.add(runLoad(hs.URL, n, benchConns))
		b.StartTimer()
		a.add(runLoad(url, n, benchConns))
		b.StopTimer()
	}
	if a.failed > 0 || h.failed > 0 {
		b.Fatalf("%d requests failed (hello world: %d)", a.failed, h.failed)
	}
	b.ReportMetric(float64(h.elapsed)/float64(a.elapsed), "ratio-vs-hello")
	b.ReportMetric(float64(a.p(0.99))/float64(h.p(0.99)), "p99-vs-hello")
	b.ReportMetric(float64(a.p(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(h.p(0.99).Microseconds()), "hello-p99-µs")
}

// BenchmarkAddressHandler is the handler alone, guard included, without
// the network: its time and allocations per request.
func BenchmarkAddressHandler(b *testing.B) {
	f := getFixture(b)
	s, _, _ := newServer(b, Config{})
	h := s.Handler()
	req := httptest.NewRequest("GET", "/api/address/"+f.alice.addr, nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		w.Body.Reset()
		h.ServeHTTP(w, req)
	}
	if w.Code != 200 {
		b.Fatalf("status %d", w.Code)
	}
}

// BenchmarkDownload measures /api/chain of the whole fixture, plain and
// zstd.
func BenchmarkDownload(b *testing.B) {
	_, ts, _ := newServer(b, Config{})
	for _, enc := range []string{"", "zstd"} {
		b.Run("enc="+enc, func(b *testing.B) {
			req, _ := http.NewRequest("GET", ts.URL+"/api/chain?from=1", nil)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				b.SetBytes(n)
			}
		})
	}
}
