package txindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/cespare/xxhash/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
)

// Check compares the index of d with the index of the branch of c that
// ends at the index's tip, which must be a valid block c holds: every
// block record, txid entry, address history and total, and nothing more.
// A tip below c's (a writer was killed before it caught up, or Update
// stopped at Options.MaxTxs) is not a problem: the next write goes on
// from there; nor is a missing index, which the next write makes. An
// index a writer moved past c's tip meanwhile is checked up to c's tip,
// its totals aside. get reads the blocks, c is held unchanged meanwhile.
// The first difference is a *chaindir.CorruptError naming the index;
// ErrBusy says a writer kept the index too long.
func Check(d chaindir.Dir, c *chain.Chain, get Blocks) error {
	r := NewReader(d, c.Params().Hash(), 0)
	defer r.Close()
	err := r.View(func(v *View) error { return check(v, c, get) })
	switch {
	case errors.Is(err, ErrNoIndex):
		if _, serr := os.Stat(d.File(chaindir.TxIndexFile)); errors.Is(serr, fs.ErrNotExist) {
			return nil // none yet
		}
		return corrupt("%v", err)
	case errors.Is(err, errFormat):
		return corrupt("%v", err)
	}
	return err
}

func corrupt(format string, args ...any) error {
	return chaindir.Corruptf(chaindir.TxIndexFile, 0, format+": "+chaindir.ReindexHint, args...)
}

// digest folds an ordered sequence of entries into 64 bits.
func digest(h uint64, b []byte) uint64 { return h*0x100000001b3 ^ xxhash.Sum64(b) }

func locBytes(l Loc, f Flags) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 13), l.Height)
	b = binary.BigEndian.AppendUint32(b, l.Pos)
	return append(b, byte(f))
}

type expected struct {
	n     int
	value uint64
}

func check(v *View, c *chain.Chain, get Blocks) error {
	genesis := c.Params().Hash()
	hash, height, err := v.Tip()
	if err != nil {
		return corrupt("no tip")
	}
	lay, err := readLayout(v.tx)
	if err != nil {
		return corrupt("no generation shift")
	}
	// limit: entries above it are not checked; totals only when the
	// whole index is.
	at, limit, whole := c.Node(hash), height, true
	if at == nil {
		agree, err := v.Agree(c)
		if err != nil {
			return corrupt("%v", err)
		}
		if height <= c.Tip().Height || agree != c.Tip().Height {
			return corrupt("at block %x, which the chain does not hold", hash[:8])
		}
		at, limit, whole = c.Tip(), agree, false
	}
	if at.Height != limit || at.Invalid {
		return corrupt("at block %x, which is not a valid stored block", hash[:8])
	}
	ids := map[[txsKeyLen]byte]*expected{}
	addrs := map[[sectionLen]byte]*expected{}
	stats := map[[PayloadSize]byte]*Stats{}
	for _, nd := range branch(at) {
		b, err := get(nd)
		if err != nil {
			return err
		}
		bi := BlockInfo{Hash: nd.Hash}
		bi.LineLen, bi.Spans = spans(b)
		if got := v.tx.Bucket(bucketBlocks).Get(heightKey(nd.Height)); !bytes.Equal(got, bi.encode()) {
			return corrupt("the record of block %d (%x) differs from a fresh one", nd.Height, nd.Hash[:8])
		}
		err = visit(genesis, nd, b, func(txid []byte, l Loc) {
			k := [txsKeyLen]byte(txsKey(lay.genOf(l.Height), txid))
			e := ids[k]
			if e == nil {
				e = &expected{}
				ids[k] = e
			}
			e.n++
			e.value = digest(e.value, append(txid[idKeyLen:idPrefix:idPrefix], locBytes(l, 0)...))
		}, func(p [PayloadSize]byte, en Entry, d delta) {
			sec := [sectionLen]byte(section(lay.genOf(en.Height), &p))
			e := addrs[sec]
			if e == nil {
				e = &expected{}
				addrs[sec] = e
			}
			e.n++
			e.value = digest(e.value, locBytes(en.Loc, en.Flags))
			if stats[p] == nil {
				stats[p] = &Stats{}
			}
			stats[p].add(&d)
		})
		if err != nil {
			return err
		}
	}

	n := 0
	err = v.tx.Bucket(bucketBlocks).ForEach(func(k, _ []byte) error {
		if len(k) != 8 || binary.BigEndian.Uint64(k) > height || binary.BigEndian.Uint64(k) == 0 {
			return corrupt("a record of block %x, which is not on its branch", k)
		}
		if binary.BigEndian.Uint64(k) <= limit {
			n++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if uint64(n) != limit {
		return corrupt("%d block records for %d blocks", n, limit)
	}

	err = v.tx.Bucket(bucketTxs).ForEach(func(k, val []byte) error {
		if len(k) != txsKeyLen {
			return corrupt("a txid key of %d bytes", len(k))
		}
		var got expected
		if err := lay.decodeTxEntries(binary.BigEndian.Uint32(k), val, func(e txEntry) bool {
			if e.loc.Height > limit {
				return true
			}
			got.n++
			got.value = digest(got.value, append(e.rest[:], locBytes(e.loc, 0)...))
			return true
		}); err != nil {
			return corrupt("txid entries %x: %v", k, err)
		}
		want := ids[[txsKeyLen]byte(k)]
		if want == nil {
			want = &expected{}
		}
		if got != *want {
			return corrupt("the txid entries under %x differ from the blocks'", k)
		}
		delete(ids, [txsKeyLen]byte(k))
		return nil
	})
	if err != nil {
		return err
	}
	for k := range ids {
		return corrupt("txids under %x are missing", k)
	}

	var cur [sectionLen]byte
	var got expected
	var es []Entry
	done := func() error {
		want := addrs[cur]
		if want == nil {
			want = &expected{}
		}
		if got != *want {
			return corrupt("the history of address payload %x in generation %x differs from the blocks'", cur[4:], cur[:4])
		}
		delete(addrs, cur)
		return nil
	}
	started := false
	err = v.tx.Bucket(bucketAddrs).ForEach(func(k, val []byte) error {
		if len(k) != addrKeyLen {
			return corrupt("an address key of %d bytes", len(k))
		}
		if !started || !bytes.HasPrefix(k, cur[:]) {
			if started {
				if err := done(); err != nil {
					return err
				}
			}
			started, cur, got = true, [sectionLen]byte(k), expected{}
		}
		var err error
		if es, err = lay.decodeChunk(k, val, es[:0]); err != nil {
			return corrupt("history chunk %x: %v", k, err)
		}
		for _, e := range es {
			if e.Height > limit {
				continue
			}
			got.n++
			got.value = digest(got.value, locBytes(e.Loc, e.Flags))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if started {
		if err := done(); err != nil {
			return err
		}
	}
	for sec := range addrs {
		return corrupt("the history of address payload %x in generation %x is missing", sec[4:], sec[:4])
	}

	if !whole {
		return nil
	}
	err = v.tx.Bucket(bucketStats).ForEach(func(k, val []byte) error {
		s, err := decodeStats(val)
		if err != nil || len(k) != PayloadSize {
			return corrupt("totals %x: malformed", k)
		}
		want := stats[[PayloadSize]byte(k)]
		if want == nil || s != *want {
			return corrupt("the totals of address payload %x differ from the blocks'", k)
		}
		delete(stats, [PayloadSize]byte(k))
		return nil
	})
	if err != nil {
		return err
	}
	for p := range stats {
		return corrupt("the totals of address payload %x are missing", p)
	}
	return nil
}

// Rebuild makes the index of d anew from c's main chain, whole: what
// cnj-chain reindex does, under the directory's lock. The new index is
// built under the index's name as a fresh database, so that a crash
// leaves an index of part of the chain, which the next write continues.
func Rebuild(d chaindir.Dir, c *chain.Chain, get Blocks, o Options) (res Result, err error) {
	o = o.withDefaults()
	ix, err := openWrite(d, c.Params().Hash(), o)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := ix.close(); err == nil {
			err = cerr
		}
	}()
	if err := ix.recreate(); err != nil {
		return res, err
	}
	res.Reset = true
	for {
		var more bool
		budget := o.CommitTxs
		err := ix.guard(func() error {
			return ix.db.Update(func(tx *bolt.Tx) error {
				var err error
				more, err = step(tx, c, get, o.CommitTxs, &res, &budget)
				return err
			})
		})
		if err != nil {
			return res, fmt.Errorf("%s: %w", chaindir.TxIndexFile, err)
		}
		if !more {
			break
		}
	}
	res.Compacted, err = ix.compactIfSparse()
	return res, err
}
