package node

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// storedBytes returns the block segments, sealed ones decompressed, one
// after the other, and the index file.
func storedBytes(b *testing.B, dir string) (segs, index []byte) {
	b.Helper()
	list, err := listSegments(dir)
	if err != nil {
		b.Fatal(err)
	}
	for i, s := range list {
		if s.plain {
			segs = append(segs, readFile(b, filepath.Join(dir, chaindir.SegmentName(uint32(i))))...)
		} else {
			segs = append(segs, decodeSealed(b, filepath.Join(dir, chaindir.SealedName(uint32(i))))...)
		}
	}
	return segs, readFile(b, filepath.Join(dir, chaindir.IndexFile))
}

// BenchmarkAppendOnly stores blocks of 0 and 100 transfers one Write each
// (lock, catch-up, full validation, the line appended and fsynced, the
// index record appended); ns/op is one block. It reports the time against
// the machine's own limit for a durable append, measured in the same run:
// ratio-vs-raw-fsync = time to append the same line to a plain file in the
// same file system and fsync it / time to store the block. Each store is
// paired with a raw append just before it and the ratio is the median over
// the pairs.
//
// It is also the evidence that storing never rewrites earlier data: after
// the run, the segments (sealed ones decompressed) hold exactly their bytes
// from before followed by the appended lines, and the index its bytes from
// before followed by one 144-byte record per block, or the benchmark fails.
// seg-growth-per-line-B (1.000) is the segments' growth divided by the
// bytes of the lines stored; index-B/block is the index's growth per block.
func BenchmarkAppendOnly(b *testing.B) {
	for _, k := range []int{0, 100} {
		b.Run(strconv.Itoa(k)+"tx", func(b *testing.B) {
			dir, p := newDir(b)
			d := mustOpen(b, dir)
			defer d.Close()
			g := newGen(p)
			grow(b, d, g, 5, 0)
			// Blocks made ahead on a chain in memory.
			mc := chain.New(p, chain.NewMemStore())
			for _, r := range d.store.Records() {
				blk, err := d.store.Get(r.Loc)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := mc.Add(blk, nil, now); err != nil {
					b.Fatal(err)
				}
			}
			lines := make([][]byte, b.N)
			var lineBytes int
			for i := range lines {
				blk, line := g.next(mc, k)
				if _, err := mc.Add(blk, line, now); err != nil {
					b.Fatal(err)
				}
				lines[i] = line
				lineBytes += len(line) + 1
			}
			raw, err := os.OpenFile(filepath.Join(filepath.Dir(dir), "raw.jsonl"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			var rawOff int64
			segs0, index0 := storedBytes(b, dir)

			ratios := make([]float64, 0, b.N)
			b.ResetTimer()
			for i, line := range lines {
				b.StopTimer()
				begin := time.Now()
				buf := append(line[:len(line):len(line)], '\n')
				if _, err := raw.WriteAt(buf, rawOff); err != nil {
					b.Fatal(err)
				}
				if err := raw.Sync(); err != nil {
					b.Fatal(err)
				}
				rawOff += int64(len(buf))
				rawTook := time.Since(begin)
				blk, err := block.Parse(line)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				begin = time.Now()
				err = d.Write(func(w *Writer) error {
					res, err := w.AddBlock(blk, line, now)
					if err == nil && (res.Duplicate || !res.TipChanged) {
						b.Fatalf("block %d: %+v", i, res)
					}
					return err
				})
				took := time.Since(begin)
				if err != nil {
					b.Fatal(err)
				}
				ratios = append(ratios, rawTook.Seconds()/took.Seconds())
			}
			b.StopTimer()

			segs1, index1 := storedBytes(b, dir)
			if !bytes.HasPrefix(segs1, segs0) || !bytes.Equal(segs1[len(segs0):], bytes.Join(append(lines, nil), []byte("\n"))) {
				b.Fatal("the segments are not their old bytes followed by the stored lines")
			}
			if !bytes.HasPrefix(index1, index0) || len(index1)-len(index0) != b.N*recordSize {
				b.Fatalf("the index grew by %d bytes for %d blocks, or its old bytes changed", len(index1)-len(index0), b.N)
			}
			slices.Sort(ratios)
			b.ReportMetric(float64(len(segs1)-len(segs0))/float64(lineBytes), "seg-growth-per-line-B")
			b.ReportMetric(float64(len(index1)-len(index0))/float64(b.N), "index-B/block")
			b.ReportMetric(float64(lineBytes)/float64(b.N), "line-B")
			b.ReportMetric(ratios[len(ratios)/2], "ratio-vs-raw-fsync")
		})
	}
}
