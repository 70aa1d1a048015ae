package node

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/crashpoint"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/txindex"
)

type crashed struct{ point string }

// TestCrashInjection runs a script of writes and kills it (a panic from
// crashHook) at every crash point in turn, after writing a random part of
// the write about to happen, as kill -9 would leave it. Each time the
// directory must open, pass Check, hold every block of a Write that returned, and
// take more writes.
func TestCrashInjection(t *testing.T) {
	smallSegments(t, 3<<10)
	stateEveryBlocks(t, 3)

	base, p := newDir(t)
	g0 := newGen(p)
	d := mustOpen(t, base)
	grow(t, d, g0, 5, 2)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// script writes 8 blocks, mempool lines and rewrites, then closes; with
	// a step, it brings the transfer index along in steps (IndexInSteps),
	// as a sync does, and Close ends them.
	script := func(dir string, step int, accepted *[][32]byte) (err error) {
		g := *g0
		d, err := openTest(dir)
		if err != nil {
			return err
		}
		if step > 0 {
			d.IndexInSteps(step)
		}
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(crashed); !ok {
					panic(r)
				}
				d.store.Close()
				err = errCrashed
			}
		}()
		for i := 0; i < 8; i++ {
			var stored [32]byte
			err := d.Write(func(w *Writer) error {
				b, line := g.next(d.Chain(), 2)
				if _, err := w.AddBlock(b, line, now); err != nil {
					return err
				}
				stored = b.Hash
				tl := g.transfer(g.miner, newWallet(p, 7).addr, 3000, now).AppendJSON(nil)
				if i%3 == 2 {
					return w.SetMempool([][]byte{tl})
				}
				return w.AddMempool(tl)
			})
			if err != nil {
				return err
			}
			*accepted = append(*accepted, stored) // durable once Write returns
		}
		return d.Close()
	}

	for _, step := range []int{0, 7} {
		t.Run(fmt.Sprint("step=", step), func(t *testing.T) { crashScript(t, base, g0, step, script) })
	}
}

// crashScript runs script on a copy of base and kills it at every crash
// point in turn (see TestCrashInjection).
func crashScript(t *testing.T, base string, g0 *gen, step int, script func(dir string, step int, accepted *[][32]byte) error) {
	rng := rand.New(rand.NewSource(1))
	points := map[string]int{}
	for target := 1; ; target++ {
		dir := filepath.Join(t.TempDir(), "c")
		copyDir(t, base, dir)
		count := 0
		point := ""
		crashpoint.Hook = func(pt string, f *os.File, data []byte, off int64) {
			count++
			if count != target {
				return
			}
			point = pt
			if f != nil && len(data) > 0 {
				part := data[:rng.Intn(len(data))]
				if off < 0 {
					f.Write(part)
				} else {
					f.WriteAt(part, off)
				}
			}
			panic(crashed{pt})
		}
		var accepted [][32]byte
		err := script(dir, step, &accepted)
		crashpoint.Hook = nil
		if err == nil {
			if target < 20 {
				t.Fatalf("only %d crash points", target-1)
			}
			t.Logf("%d crash points: %v", target-1, points)
			return
		}
		if err != errCrashed {
			t.Fatalf("target %d: %v", target, err)
		}
		points[point]++
		what := fmt.Sprintf("crash %d at %s after %d accepted", target, point, len(accepted))

		d, err := openTest(dir)
		if err != nil {
			t.Fatalf("%s: Open: %v", what, err)
		}
		for _, h := range accepted {
			if n := d.Chain().Node(h); n == nil || d.Chain().AtHeight(n.Height) != n {
				t.Fatalf("%s: accepted block %x lost", what, h[:4])
			}
		}
		if err := d.Check(); err != nil {
			t.Fatalf("%s: Check: %v", what, err)
		}
		ino := indexInode(t, dir)
		g := *g0
		g.seq += 1000
		grow(t, d, &g, 1, 2)
		if err := d.Check(); err != nil {
			t.Fatalf("%s: Check after a write: %v", what, err)
		}
		// The write brought the transfer index to the tip from where the
		// crash left it, not by making it anew.
		if at := indexTip(t, dir, d); at != d.Chain().Tip().Hash {
			t.Fatalf("%s: the transfer index is at %x after a write, the tip is %x", what, at[:4], d.Chain().Tip().Hash[:4])
		}
		if indexInode(t, dir) != ino {
			t.Fatalf("%s: the transfer index was made anew", what)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		d = mustOpen(t, dir)
		if err := d.Check(); err != nil {
			t.Fatalf("%s: Check after reopening: %v", what, err)
		}
		d.Close()
	}
}

var errCrashed = fmt.Errorf("crashed")

// indexTip returns the block the transfer index of dir is at.
func indexTip(t *testing.T, dir string, n *Node) [32]byte {
	t.Helper()
	r := txindex.NewReader(chaindir.Dir(dir), n.Params().Hash(), time.Second)
	defer r.Close()
	var at [32]byte
	err := r.View(func(v *txindex.View) error {
		var err error
		at, _, err = v.Tip()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// indexInode returns the inode of the transfer index of dir: a new index
// is made under another name and renamed into place.
func indexInode(t *testing.T, dir string) uint64 {
	t.Helper()
	fi, err := os.Stat(chaindir.Dir(dir).File(chaindir.TxIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
