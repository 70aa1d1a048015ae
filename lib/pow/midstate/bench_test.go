package midstate

import (
	"crypto/sha256"
	"slices"
	"testing"
	"time"
)

// rawNsPerBlock runs crypto/sha256 over 1 MiB for about d and returns
// nanoseconds per 64-byte block: the compression rate a try is judged
// against.
func rawNsPerBlock(buf []byte, d time.Duration) float64 {
	var n int
	begin := time.Now()
	for time.Since(begin) < d {
		sha256.Sum256(buf)
		n++
	}
	return float64(time.Since(begin).Nanoseconds()) / float64(n*len(buf)/64)
}

// searchNsPerTry runs Search for about d on a target nothing meets and
// returns nanoseconds per try.
func searchNsPerTry(s *State, prefixLen int, d time.Duration) float64 {
	var target [32]byte
	var n uint64
	begin := time.Now()
	for time.Since(begin) < d {
		s.Search(prefixLen, n, 1<<16, &target)
		n += 1 << 16
	}
	return float64(time.Since(begin).Nanoseconds()) / float64(n)
}

// BenchmarkSearchOneCore measures mining tries per second on one goroutine
// (ns/op is one try) and reports it against raw SHA-256 compression measured
// in the same run: ratio-vs-raw-sha256 = tries/s / (64-byte blocks/s of
// sha256.Sum256 over 1 MiB). The machine is shared, so the ratio is the
// median over alternating short windows of the two, each pair seeing about
// the same load.
func BenchmarkSearchOneCore(b *testing.B) {
	prefix := header()
	s := New(prefix)
	buf := make([]byte, 1<<20)
	var ratios, raws []float64
	for range 7 {
		raw := rawNsPerBlock(buf, 25*time.Millisecond)
		try := searchNsPerTry(&s, len(prefix), 25*time.Millisecond)
		raws = append(raws, raw)
		ratios = append(ratios, raw/try)
	}
	slices.Sort(ratios)
	slices.Sort(raws)

	var target [32]byte // all zero: nothing qualifies, every try is made
	b.ReportAllocs()
	b.ResetTimer()
	if _, _, found := s.Search(len(prefix), 0, uint64(b.N), &target); found {
		b.Fatal("found a proof for the zero target")
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tries/s")
	b.ReportMetric(raws[len(raws)/2], "raw-ns/block")
	b.ReportMetric(ratios[len(ratios)/2], "ratio-vs-raw-sha256")
}

// BenchmarkSearchPureGo is the fallback's rate, for comparison.
func BenchmarkSearchPureGo(b *testing.B) {
	saved := useAsm
	useAsm = false
	defer func() { useAsm = saved }()
	prefix := header()
	s := New(prefix)
	var target [32]byte
	b.ResetTimer()
	s.Search(len(prefix), 0, uint64(b.N), &target)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tries/s")
}

func BenchmarkHash(b *testing.B) {
	prefix := header()
	s := New(prefix)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Hash(len(prefix), uint64(i))
	}
}

func BenchmarkRawSHA256(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sha256.Sum256(buf)
	}
}
