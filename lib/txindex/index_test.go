package txindex_test

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/txindex"
)

// compare holds the index of r's directory to a scan of its main chain:
// every txid found where it is, every history whole, newest first, and
// in pages, every total.
func compare(t *testing.T, r *rig) {
	t.Helper()
	if err := r.n.IndexError(); err != nil {
		t.Fatalf("the last write's index update: %v", err)
	}
	c := r.n.Chain()
	w := scan(t, c)
	err := r.reader().View(func(v *txindex.View) error {
		hash, height, err := v.Tip()
		if err != nil || hash != c.Tip().Hash || height != c.Tip().Height {
			t.Fatalf("the index is at %d (%x), the chain at %d: %v", height, hash[:4], c.Tip().Height, err)
		}
		if a, err := v.Agree(c); err != nil || a != height {
			t.Fatalf("Agree = %d, %v; want %d", a, err, height)
		}
		for id, want := range w.locs {
			var got []txindex.Loc
			if err := v.Lookup([]byte(id), func(l txindex.Loc) bool { got = append(got, l); return true }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("txid %x: found at %v, is at %v", id, got, want)
			}
		}
		for p, want := range w.history {
			var got []txindex.Entry
			if err := v.History(p, txindex.End, func(e txindex.Entry) bool { got = append(got, e); return true }); err != nil {
				t.Fatal(err)
			}
			slices.Reverse(got)
			if !slices.Equal(got, want) {
				t.Fatalf("history of %x: %v, want %v", p, got, want)
			}
			// Pages of 7, each from the last entry of the one before.
			var paged []txindex.Entry
			before := txindex.End
			for {
				n := 0
				v.History(p, before, func(e txindex.Entry) bool { paged = append(paged, e); n++; return n < 7 })
				if n == 0 {
					break
				}
				before = paged[len(paged)-1].Loc
			}
			slices.Reverse(paged)
			if !slices.Equal(paged, want) {
				t.Fatalf("history of %x in pages: %v, want %v", p, paged, want)
			}
			s, err := v.Stats(p)
			if err != nil || s != w.stats[p] {
				t.Fatalf("totals of %x: %+v, %v; want %+v", p, s, err, w.stats[p])
			}
		}
		for h := uint64(1); h <= height; h++ {
			bi, ok, err := v.Block(h)
			if err != nil || !ok || bi.Hash != c.AtHeight(h).Hash {
				t.Fatalf("block record %d: %v %v", h, ok, err)
			}
			// Each span is where the transaction's JSON is in the line.
			nd := c.AtHeight(h)
			line, err := r.n.Line(nd)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := c.Block(nd)
			if bi.LineLen != uint32(len(line)) || len(bi.Spans) != 1+len(b.Txs) {
				t.Fatalf("block %d: line of %d, %d spans; want %d and %d", h, bi.LineLen, len(bi.Spans), len(line), 1+len(b.Txs))
			}
			if got := line[bi.Spans[0].Off : bi.Spans[0].Off+bi.Spans[0].Len]; string(got) != string(b.Reward.AppendJSON(nil)) {
				t.Fatalf("block %d: the reward's span holds %s", h, got)
			}
			for i, x := range b.Txs {
				sp := bi.Spans[i+1]
				if got := line[sp.Off : sp.Off+sp.Len]; string(got) != string(x.AppendJSON(nil)) {
					t.Fatalf("block %d: transfer %d's span holds %s", h, i, got)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.n.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestIndexFollowsTheChain: every write that adds a block brings the
// index along: lookups by txid, histories (over many chunks) and totals
// equal a scan of the chain.
func TestIndexFollowsTheChain(t *testing.T) {
	r := newRig(t, 4)
	compare(t, r)
	k := r.keys
	r.mine(k[1].addr, r.transfer(k[0], k[1].addr, 500), r.transfer(k[1], k[1].addr, 70), r.transfer(k[2], k[0].addr, 9))
	r.mine(k[0].addr)
	r.mine(k[3].addr, r.transfer(k[3], k[2].addr, 1), r.transfer(k[3], k[1].addr, 2), r.transfer(k[0], k[3].addr, 3))
	compare(t, r)
	// A history of several chunks: the miner's rewards.
	for range 150 {
		r.mine(k[2].addr, r.transfer(k[2], k[1].addr, 1))
	}
	compare(t, r)
}

// TestReorganization: when the chain switches branches, the index takes
// the blocks of the branch left out (their transfers are no longer found)
// and indexes the new branch's.
func TestReorganization(t *testing.T) {
	r := newRig(t, 3)
	k := r.keys
	f := r.fork()
	gone := r.transfer(k[0], k[1].addr, 111)
	r.mine(k[0].addr, gone)
	r.mine(k[0].addr, r.transfer(k[1], k[2].addr, 5))
	compare(t, r)
	before := inode(t, r)
	var branch []*block.Block
	for i := range 3 {
		branch = append(branch, mineOn(t, f, k[2].addr, r.transfer(k[2], k[0].addr, uint64(10+i))))
	}
	r.feed(branch...)
	if r.n.Chain().Tip().Hash != branch[2].Hash {
		t.Fatal("the longer branch did not become the tip")
	}
	compare(t, r)
	if inode(t, r) != before {
		t.Fatal("the index was made anew: a reorganization takes blocks out and adds others")
	}
	r.reader().View(func(v *txindex.View) error {
		v.Lookup(gone.ID[:], func(l txindex.Loc) bool { t.Fatalf("a transfer of the branch left is found at %v", l); return false })
		return nil
	})
}

// TestLagIsCaughtUp: a writer that cannot have the index (a reader would
// not let go) stores its blocks all the same; the index lags, readers see
// how far it goes, and the next update indexes only the blocks since,
// without starting again.
func TestLagIsCaughtUp(t *testing.T) {
	r := newRig(t, 2)
	k := r.keys
	r.mine(k[0].addr, r.transfer(k[0], k[1].addr, 5))
	indexed := r.n.Chain().Tip().Height
	rd := r.reader()
	hold := make(chan struct{})
	held := make(chan struct{})
	go rd.View(func(*txindex.View) error { close(held); <-hold; return nil })
	<-held
	// The node's writes wait for the index up to Options.Wait (2 s by
	// default): give them less.
	opts := testOptions
	opts.Wait = 50 * time.Millisecond
	r.n.Close()
	n, err := node.OpenWith(r.dir, node.Options{Index: opts})
	if err != nil {
		t.Fatal(err)
	}
	r.n = n
	d := chaindir.Dir(r.dir)
	r.mine(k[1].addr, r.transfer(k[1], k[0].addr, 3))
	if !errors.Is(r.n.IndexError(), txindex.ErrBusy) {
		t.Fatalf("the write's index update: %v, want ErrBusy", r.n.IndexError())
	}
	r.mine(k[1].addr)
	if _, err := txindex.Update(d, r.n.Chain(), r.n.Chain().Block, opts); !errors.Is(err, txindex.ErrBusy) {
		t.Fatalf("Update while a read is under way: %v, want ErrBusy", err)
	}
	close(hold)
	err = rd.View(func(v *txindex.View) error {
		a, err := v.Agree(r.n.Chain())
		if err != nil || a != indexed {
			t.Fatalf("Agree = %d, %v; want %d (the index lags)", a, err, indexed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.n.Check(); err != nil {
		t.Fatalf("Check of a lagging index: %v", err)
	}
	// The reader let go when idle: the next update has the index.
	res, uerr := txindex.Update(d, r.n.Chain(), r.n.Chain().Block, txindex.Options{})
	if uerr != nil || res.Reset || res.Connected != 2 || res.Disconnected != 0 {
		t.Fatalf("catching up: %+v, %v; want the 2 blocks since, no reset", res, uerr)
	}
	r.mine(k[0].addr)
	compare(t, r)
}

// TestDamagedIndex: an index that is not a database is named by Check,
// and the next write starts it again.
func TestDamagedIndex(t *testing.T) {
	r := newRig(t, 2)
	path := chaindir.Dir(r.dir).File(chaindir.TxIndexFile)
	if err := os.WriteFile(path, []byte("not a database, but long enough to look at: ..........................................."), 0o644); err != nil {
		t.Fatal(err)
	}
	err := r.n.Check()
	if ce := chaindir.CorruptOf(err); ce == nil || ce.File != chaindir.TxIndexFile || rule.CodeOf(err) != rule.Corrupt {
		t.Fatalf("Check of a damaged index: %v", err)
	}
	r.mine(r.keys[1].addr, r.transfer(r.keys[0], r.keys[1].addr, 5))
	compare(t, r)
}

// TestCheckFindsDifferences: Check names the index when any of its parts
// differs from the blocks'.
func TestCheckFindsDifferences(t *testing.T) {
	r := newRig(t, 3)
	k := r.keys
	r.mine(k[1].addr, r.transfer(k[0], k[1].addr, 500), r.transfer(k[2], k[2].addr, 7))
	r.mine(k[0].addr)
	r.n.Close()
	path := chaindir.Dir(r.dir).File(chaindir.TxIndexFile)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, payload, _ := keys.ParseAddress(k[1].addr)
	first := func(name []byte) func(tx *bolt.Tx) ([]byte, []byte) {
		return func(tx *bolt.Tx) ([]byte, []byte) { return tx.Bucket(name).Cursor().First() }
	}
	damage := map[string]func(tx *bolt.Tx) error{
		"a txid entry lost": func(tx *bolt.Tx) error {
			k, _ := first(txindex.BucketTxs)(tx)
			return tx.Bucket(txindex.BucketTxs).Delete(k)
		},
		"a txid entry moved": func(tx *bolt.Tx) error {
			k, v := first(txindex.BucketTxs)(tx)
			v = append([]byte{}, v...)
			v[6]++ // the height of its first entry
			return tx.Bucket(txindex.BucketTxs).Put(append([]byte{}, k...), v)
		},
		"a history chunk lost": func(tx *bolt.Tx) error {
			k, _ := first(txindex.BucketAddrs)(tx)
			return tx.Bucket(txindex.BucketAddrs).Delete(k)
		},
		"an entry's flags changed": func(tx *bolt.Tx) error {
			k, v := first(txindex.BucketAddrs)(tx)
			v = append([]byte{}, v...)
			v[len(v)-1] ^= 3
			return tx.Bucket(txindex.BucketAddrs).Put(append([]byte{}, k...), v)
		},
		"a total changed": func(tx *bolt.Tx) error {
			v := append([]byte{}, tx.Bucket(txindex.BucketStats).Get(payload[:])...)
			v[0]++
			return tx.Bucket(txindex.BucketStats).Put(payload[:], v)
		},
		"a total lost": func(tx *bolt.Tx) error { return tx.Bucket(txindex.BucketStats).Delete(payload[:]) },
		"a block record lost": func(tx *bolt.Tx) error {
			k, _ := first(txindex.BucketBlocks)(tx)
			return tx.Bucket(txindex.BucketBlocks).Delete(k)
		},
		"a block record changed": func(tx *bolt.Tx) error {
			k, v := first(txindex.BucketBlocks)(tx)
			v = append([]byte{}, v...)
			v[len(v)-1]++
			return tx.Bucket(txindex.BucketBlocks).Put(append([]byte{}, k...), v)
		},
		"the tip at an unknown block": func(tx *bolt.Tx) error {
			v := append([]byte{}, tx.Bucket(txindex.BucketMeta).Get(txindex.KeyTip)...)
			v[0] ^= 0xff
			return tx.Bucket(txindex.BucketMeta).Put(txindex.KeyTip, v)
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := txindex.Damage(path, fn); err != nil {
				t.Fatal(err)
			}
			n := reopen(t, r)
			err := n.Check()
			if ce := chaindir.CorruptOf(err); ce == nil || ce.File != chaindir.TxIndexFile {
				t.Fatalf("Check: %v, want the index named", err)
			}
		})
	}
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := reopen(t, r).Check(); err != nil {
		t.Fatalf("Check of the undamaged index: %v", err)
	}
}
