package testscripts

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/node"
)

// BenchmarkSyncLoopback measures the commands as a node runs them: a
// `cnj-sync --from` joining the network into an empty directory from a
// `cnj-serve` on 127.0.0.150 over loopback, both real processes sharing
// the machine. The chain is testchain.Build's, of
// testchain.BenchSize (the figure: CNJ_SYNC_BENCH_BLOCKS=10000
// CNJ_SYNC_BENCH_TXS=1000000). It reports transfers per second, the
// machine's batch signature verification limit on every core
// (testchain.RawVerifyRate, the better of a measurement before and
// one after each sync), their ratio, the peak resident set of cnj-sync
// (getrusage of the exited process), and the CPU time each of the two
// processes spent.
func BenchmarkSyncLoopback(b *testing.B) {
	const ip = "127.0.0.150"
	root := b.TempDir()
	blocks, txs := testchain.BenchSize()
	src, err := testchain.Build(filepath.Join(root, "src"), blocks, txs)
	if err != nil {
		b.Fatal(err)
	}
	srcDir, err := node.Open(src.Dir)
	if err != nil {
		b.Fatal(err)
	}
	want := srcDir.Chain().Tip()
	srcDir.Close()

	srv := startProc(b, root, "exec cnj-serve --listen "+ip+":56230 --chain src")
	netAnswers(b, "http://"+ip+":56230/api/blocks/tip/height")

	raw := func() float64 {
		rate, err := testchain.RawVerifyRate(src.Sample, src.PerTx)
		if err != nil {
			b.Fatal(err)
		}
		return rate
	}
	var synced, limit, syncCPU, serveCPU time.Duration
	var peakRSS int64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		rate := raw()
		dst := filepath.Join(root, fmt.Sprint("dst", i))
		cmd := exec.Command(filepath.Join(BinDir(), "cnj-sync"), "-q", "--chain", dst, "--from", ip+":56230")
		cmd.Env = netEnv()
		served := cpuTime(b, srv.cmd.Process.Pid)
		b.StartTimer()
		begin := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(begin)
		b.StopTimer()
		if err != nil {
			b.Fatalf("cnj-sync: %v\n%s", err, out)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peakRSS = max(peakRSS, ru.Maxrss) // KiB on Linux
		}
		syncCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		serveCPU += cpuTime(b, srv.cmd.Process.Pid) - served
		d, err := node.Open(dst)
		if err != nil {
			b.Fatal(err)
		}
		got := d.Chain().Tip()
		d.Close()
		if got.Hash != want.Hash {
			b.Fatalf("synced to height %d (%x), the source is at %d (%x)", got.Height, got.Hash[:8], want.Height, want.Hash[:8])
		}
		rate = max(rate, raw())
		limit += time.Duration(float64(src.Txs) / rate * float64(time.Second))
		synced += took
		b.StartTimer()
	}
	b.StopTimer()
	secs := synced.Seconds()
	b.ReportMetric(float64(b.N*int(want.Height))/secs, "blocks/s")
	b.ReportMetric(float64(b.N*src.Txs)/secs, "txs/s")
	b.ReportMetric(float64(b.N*src.Txs)/limit.Seconds(), "raw-verifies/s")
	b.ReportMetric(limit.Seconds()/secs, "ratio-vs-raw-verify")
	b.ReportMetric(float64(peakRSS)/1024, "peak-RSS-MB")
	b.ReportMetric(syncCPU.Seconds()/float64(b.N), "sync-cpu-s")
	b.ReportMetric(serveCPU.Seconds()/float64(b.N), "serve-cpu-s")
}

// cpuTime is the CPU time (user and system) a running process has used,
// from /proc/PID/stat.
func cpuTime(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th of them, in clock ticks (100 a
	// second on Linux).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, data)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}
