package testscripts

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/chaindir"
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
// processes spent. What the transfer index costs is measured against the
// same sync by a cnj-sync built without it (the tag cnj_noindex), run
// after each: index-time-ratio is the sync's time over that one's (the
// goal: at most 1.15), index-disk-ratio the index file's size over the
// rest of the synced directory's (at most 0.30).
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
	noIndex := buildNoIndexSync(b, root)
	var synced, limit, syncCPU, serveCPU, bare time.Duration
	var peakRSS, indexBytes, restBytes int64
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
		// The sync indexes in steps; the index must still reach the tip.
		if at, _, err := testchain.IndexTip(dst); err != nil || at != want.Hash {
			b.Fatalf("the transfer index is at %x (%v), the synced tip is %x", at[:8], err, want.Hash[:8])
		}
		ix, rest := dirBytes(b, dst)
		indexBytes += ix
		restBytes += rest
		// The same sync without the index.
		bareDst := filepath.Join(root, fmt.Sprint("bare", i))
		bareCmd := exec.Command(noIndex, "-q", "--chain", bareDst, "--from", ip+":56230")
		bareCmd.Env = netEnv()
		begin = time.Now()
		if out, err := bareCmd.CombinedOutput(); err != nil {
			b.Fatalf("cnj-sync without the index: %v\n%s", err, out)
		}
		bare += time.Since(begin)
		os.RemoveAll(bareDst)
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
	b.ReportMetric(bare.Seconds()/float64(b.N), "no-index-sync-s")
	b.ReportMetric(secs/bare.Seconds(), "index-time-ratio")
	b.ReportMetric(float64(indexBytes)/float64(restBytes), "index-disk-ratio")
}

// dirBytes returns the bytes of the transfer index of the chain directory
// at dir, and of everything else in it.
func dirBytes(b *testing.B, dir string) (index, rest int64) {
	b.Helper()
	idx := chaindir.Dir(dir).File(chaindir.TxIndexFile)
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if path == idx {
			index += fi.Size()
		} else {
			rest += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return index, rest
}

// buildNoIndexSync builds cnj-sync with the tag cnj_noindex, whose writes
// leave the transfer index alone, into dir, and returns its path.
func buildNoIndexSync(b *testing.B, dir string) string {
	b.Helper()
	out := filepath.Join(dir, "noindex", "cnj-sync")
	cmd := exec.Command("go", "build", "-tags", "cnj_noindex", "-o", out, "./cmd/cnj-sync")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as the other commands are built
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building cnj-sync without the index: %v\n%s", err, msg)
	}
	return out
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
