package txindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coniunctum/cnj/internal/crashpoint"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/chainhash"
)

// Options are a writer's settings; a zero field takes its default.
type Options struct {
	// Wait bounds how long a writer waits for readers to let go of the
	// index before it gives up (ErrBusy: the index lags, and the next write
	// catches it up); DefaultWait.
	Wait time.Duration
	// MaxTxs bounds the transfers one Update indexes, so that a write that
	// finds the index far behind (a directory made before it existed, a
	// rebuild) does not hold the directory's lock for long: the next
	// writes go on from there (DefaultMaxTxs).
	MaxTxs int
	// CommitTxs bounds the transfers of one database transaction
	// (DefaultCommitTxs): its pages are held in memory until it commits.
	CommitTxs int

	// genShift is the generation shift of a new index (DefaultGenShift
	// when zero); tests lower it to cross generations with few blocks.
	genShift uint8
}

// The defaults of Options.
const (
	DefaultWait      = 2 * time.Second
	DefaultMaxTxs    = 250_000
	DefaultCommitTxs = 50_000
)

func (o Options) withDefaults() Options {
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if o.MaxTxs <= 0 {
		o.MaxTxs = DefaultMaxTxs
	}
	if o.CommitTxs <= 0 {
		o.CommitTxs = DefaultCommitTxs
	}
	if o.genShift == 0 || o.genShift > maxGenShift {
		o.genShift = DefaultGenShift
	}
	return o
}

// Blocks reads the block of a node of the chain: package node gives the
// blocks it just added from memory and reads the others through the
// chain (chain.Block).
type Blocks func(nd *chain.BlockNode) (*block.Block, error)

// Result says what Update did.
type Result struct {
	// Connected and Disconnected count the blocks indexed and taken out.
	Connected, Disconnected int
	// Reset: the index was started again from the genesis (it was missing,
	// damaged, of another network or version, or at a block the chain does
	// not hold).
	Reset bool
	// Height and Tip are the block the index is at now.
	Height uint64
	Tip    [32]byte
	// Behind: the index stopped short of the chain's tip (Options.MaxTxs).
	Behind bool
	// Compacted: the file was rewritten without its free pages.
	Compacted bool
}

// boltOptions are the options every open of the database takes; open
// sets OpenFile, which takes this package's locks.
func boltOptions(readOnly bool) *bolt.Options {
	return &bolt.Options{ReadOnly: readOnly, FreelistType: bolt.FreelistMapType, Timeout: time.Second}
}

// Update brings the index of the directory d to the main chain of c,
// which the caller keeps unchanged meanwhile: it takes out the blocks of
// a branch the chain left (newest first) and indexes the blocks of the
// main chain after the index's tip, in database transactions that each
// move the index's tip with its entries, so that a crash at any instant
// leaves an index of a stored branch, which the next Update continues
// from. The caller holds the directory's lock (package node: at the end
// of a write, once its blocks are durable), so that writers take turns;
// readers are asked to let go through the lock file, and an Update that
// does not get the index within Options.Wait returns ErrBusy, changing
// nothing. An index that is missing or cannot be read is started again
// from the genesis (Result.Reset).
func Update(d chaindir.Dir, c *chain.Chain, get Blocks, o Options) (res Result, err error) {
	o = o.withDefaults()
	genesis := c.Params().Hash()
	ix, err := openWrite(d, genesis, o)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := ix.close(); err == nil {
			err = cerr
		}
	}()
	res.Reset = ix.reset
	budget := o.MaxTxs
	for {
		var more bool
		// A crash before a commit leaves the index as the last one did:
		// bbolt writes nothing of a transaction until it commits, and
		// replaces its meta page last.
		crashpoint.At("commit "+chaindir.TxIndexFile, nil, nil, 0)
		err := ix.guard(func() error {
			return ix.db.Update(func(tx *bolt.Tx) error {
				var err error
				more, err = step(tx, c, get, min(budget, o.CommitTxs), &res, &budget)
				return err
			})
		})
		if errors.Is(err, errFormat) {
			// A damaged index: start again from the genesis.
			if err = ix.recreate(); err != nil {
				return res, err
			}
			res.Reset = true
			budget = o.MaxTxs
			continue
		}
		if err != nil {
			return res, err
		}
		if !more {
			break
		}
		if budget <= 0 {
			res.Behind = true
			break
		}
	}
	res.Compacted, err = ix.compactIfSparse()
	return res, err
}

// step runs one database transaction of Update: it indexes at most txs
// transfers and reports whether there is more to do. budget is what is
// left of Options.MaxTxs.
func step(tx *bolt.Tx, c *chain.Chain, get Blocks, txs int, res *Result, budget *int) (more bool, err error) {
	genesis := c.Params().Hash()
	tipHash, tipHeight, err := readTip(tx)
	if err != nil {
		return false, err
	}
	lay, err := readLayout(tx)
	if err != nil {
		return false, err
	}
	at := c.Node(tipHash)
	if at == nil || at.Height != tipHeight {
		// At a block this chain does not hold (lost, set aside): begin
		// again.
		if err := clear(tx, genesis, lay); err != nil {
			return false, err
		}
		res.Reset = true
		at = c.Genesis()
	}
	// Take out the blocks of the branch the chain left, newest first,
	// down to the main chain.
	for c.AtHeight(at.Height) != at {
		b, err := get(at)
		if err != nil {
			return false, err
		}
		if err := removeBlock(tx, genesis, lay, at, b); err != nil {
			return false, err
		}
		res.Disconnected++
		at = at.Parent
	}
	bt := newBatch(genesis, lay)
	target := c.Tip()
	for h := at.Height + 1; h <= target.Height; h++ {
		nd := c.AtHeight(h)
		if bt.txs > 0 && bt.txs+nd.TxCount > txs {
			break
		}
		b, err := get(nd)
		if err != nil {
			return false, err
		}
		if err := bt.add(nd, b); err != nil {
			return false, err
		}
		at = nd
		res.Connected++
	}
	if err := bt.flush(tx); err != nil {
		return false, err
	}
	*budget -= bt.txs
	if err := writeTip(tx, at.Hash, at.Height); err != nil {
		return false, err
	}
	res.Tip, res.Height = at.Hash, at.Height
	return at != target, nil
}

// branch returns the blocks of the branch that ends at to, from block 1
// up.
func branch(to *chain.BlockNode) []*chain.BlockNode {
	var p []*chain.BlockNode
	for x := to; x.Parent != nil; x = x.Parent {
		p = append(p, x)
	}
	slices.Reverse(p)
	return p
}

func readTip(tx *bolt.Tx) ([32]byte, uint64, error) {
	var h [32]byte
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return h, 0, errFormat
	}
	v := m.Get(keyTip)
	if len(v) != 40 {
		return h, 0, errFormat
	}
	copy(h[:], v)
	return h, binary.BigEndian.Uint64(v[32:]), nil
}

func writeTip(tx *bolt.Tx, h [32]byte, height uint64) error {
	v := append(h[:], heightKey(height)...)
	return tx.Bucket(bucketMeta).Put(keyTip, v)
}

// readLayout reads the index's generation shift.
func readLayout(tx *bolt.Tx) (layout, error) {
	v := tx.Bucket(bucketMeta).Get(keyShift)
	if len(v) != 1 || v[0] == 0 || v[0] > maxGenShift {
		return layout{}, errFormat
	}
	return layout{v[0]}, nil
}

// clear empties the index: the buckets anew, the tip at the genesis.
func clear(tx *bolt.Tx, genesis [32]byte, lay layout) error {
	for _, name := range buckets {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	m := tx.Bucket(bucketMeta)
	if err := m.Put(keyVersion, []byte{version}); err != nil {
		return err
	}
	if err := m.Put(keyGenesis, genesis[:]); err != nil {
		return err
	}
	if err := m.Put(keyShift, []byte{lay.shift}); err != nil {
		return err
	}
	return writeTip(tx, genesis, 0)
}

// payloadOf returns the payload of an address of the chain: the hex
// digits after the prefix's '1' (keys.Address). The chain's addresses
// passed keys.CheckAddress (consensus), so their checksum is not checked
// again here.
func payloadOf(addr string) ([PayloadSize]byte, error) {
	var p [PayloadSize]byte
	_, data, ok := strings.Cut(addr, "1")
	if !ok || len(data) < 2*PayloadSize || chainhash.Decode(p[:], data[:2*PayloadSize]) != nil {
		return p, fmt.Errorf("address %q on the chain is not an address", addr)
	}
	return p, nil
}

// txids returns the txid of each transaction of b, in order: the reward's
// merkle leaf, then each transfer's id.
func txids(genesis [32]byte, b *block.Block) [][]byte {
	out := make([][]byte, 0, 1+len(b.Txs))
	leaf := block.Leaf(b.Reward.Canonical())
	out = append(out, leaf[:])
	for _, t := range b.Txs {
		out = append(out, t.ID[:])
	}
	return out
}

// spans measures where each transaction of b is in its line (its
// canonical encoding: package block's AppendJSON, CanonicalSize long). It
// returns 0 and nil when the lengths do not add up.
func spans(b *block.Block) (uint32, []Span) {
	var scratch [1024]byte
	rl := len(b.Reward.AppendJSON(scratch[:0]))
	total := rl + 2 // the reward, and "]}" after the last transaction
	lens := make([]int, len(b.Txs))
	for i, t := range b.Txs {
		lens[i] = len(t.AppendJSON(scratch[:0]))
		total += 1 + lens[i]
	}
	size := b.CanonicalSize()
	off := size - total
	if size <= 0 || off <= 0 || size > 1<<32-1 {
		return 0, nil
	}
	sp := make([]Span, 0, 1+len(b.Txs))
	sp = append(sp, Span{uint32(off), uint32(rl)})
	at := off + rl + 1
	for _, l := range lens {
		sp = append(sp, Span{uint32(at), uint32(l)})
		at += l + 1
	}
	return uint32(size), sp
}

// batch gathers the entries of the blocks one transaction indexes, so that
// each txid bucket and each address is rewritten once.
type batch struct {
	genesis [32]byte
	lay     layout
	blocks  [][2][]byte
	ids     map[[txsKeyLen]byte][]byte // entries to append, by txs key
	addrs   map[[PayloadSize]byte]*addrBatch
	txs     int
}

// addrBatch is what a batch adds to one address.
type addrBatch struct {
	p  [PayloadSize]byte
	es []Entry
	d  delta
}

func newBatch(genesis [32]byte, lay layout) *batch {
	return &batch{genesis: genesis, lay: lay, ids: map[[txsKeyLen]byte][]byte{}, addrs: map[[PayloadSize]byte]*addrBatch{}}
}

// visit calls the functions for each entry block b makes: each txid with
// its location, each address with its entry and its delta.
func visit(genesis [32]byte, nd *chain.BlockNode, b *block.Block,
	id func(txid []byte, l Loc), addr func(p [PayloadSize]byte, e Entry, d delta)) error {
	if b.Hash != nd.Hash {
		return fmt.Errorf("block %x given for block %x", b.Hash[:8], nd.Hash[:8])
	}
	for i, txid := range txids(genesis, b) {
		id(txid, Loc{nd.Height, uint32(i)})
	}
	p, err := payloadOf(b.Reward.Receiver)
	if err != nil {
		return err
	}
	addr(p, Entry{Loc{nd.Height, 0}, Mined}, delta{fundedCount: 1, fundedSum: b.Reward.Amount, txCount: 1})
	for i, t := range b.Txs {
		l := Loc{nd.Height, uint32(i + 1)}
		s, err := payloadOf(t.Sender)
		if err != nil {
			return err
		}
		if t.Receiver == t.Sender {
			addr(s, Entry{l, Sent | Received}, delta{fundedCount: 1, fundedSum: t.Amount, spentCount: 1, spentSum: t.Amount + t.Fee, txCount: 1})
			continue
		}
		r, err := payloadOf(t.Receiver)
		if err != nil {
			return err
		}
		addr(s, Entry{l, Sent}, delta{spentCount: 1, spentSum: t.Amount + t.Fee, txCount: 1})
		addr(r, Entry{l, Received}, delta{fundedCount: 1, fundedSum: t.Amount, txCount: 1})
	}
	return nil
}

// add gathers block b (of node nd) into the batch.
func (bt *batch) add(nd *chain.BlockNode, b *block.Block) error {
	err := visit(bt.genesis, nd, b, func(txid []byte, l Loc) {
		var e txEntry
		k := [txsKeyLen]byte(txsKey(bt.lay.genOf(l.Height), txid))
		copy(e.rest[:], txid[idKeyLen:idPrefix])
		e.loc = l
		bt.ids[k] = bt.lay.appendTxEntry(bt.ids[k], e)
	}, func(p [PayloadSize]byte, e Entry, d delta) {
		a := bt.addrs[p]
		if a == nil {
			a = &addrBatch{p: p}
			bt.addrs[p] = a
		}
		a.es = append(a.es, e)
		a.d.fundedCount += d.fundedCount
		a.d.fundedSum += d.fundedSum
		a.d.spentCount += d.spentCount
		a.d.spentSum += d.spentSum
		a.d.txCount += d.txCount
	})
	if err != nil {
		return err
	}
	bi := BlockInfo{Hash: nd.Hash}
	bi.LineLen, bi.Spans = spans(b)
	bt.blocks = append(bt.blocks, [2][]byte{heightKey(nd.Height), bi.encode()})
	bt.txs += len(b.Txs)
	return nil
}

// flush writes the batch into the transaction, each bucket in key order.
func (bt *batch) flush(tx *bolt.Tx) error {
	blocks := tx.Bucket(bucketBlocks)
	blocks.FillPercent = 1 // heights only grow: fill each page
	for _, kv := range bt.blocks {
		if err := blocks.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	ids := tx.Bucket(bucketTxs)
	keys := make([][txsKeyLen]byte, 0, len(bt.ids))
	for k := range bt.ids {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [txsKeyLen]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, k := range keys {
		add := bt.ids[k]
		old := ids.Get(k[:])
		v := make([]byte, 0, len(old)+len(add))
		v = append(append(v, old...), add...)
		if err := ids.Put(bytes.Clone(k[:]), v); err != nil {
			return err
		}
	}
	addrs, stats := tx.Bucket(bucketAddrs), tx.Bucket(bucketStats)
	all := make([]*addrBatch, 0, len(bt.addrs))
	for _, a := range bt.addrs {
		all = append(all, a)
	}
	slices.SortFunc(all, func(a, b *addrBatch) int { return bytes.Compare(a.p[:], b.p[:]) })
	c := addrs.Cursor()
	var es []Entry
	for _, a := range all {
		// Each generation's entries after the section's last chunk, in
		// it while they fit.
		for rest := a.es; len(rest) > 0; {
			g := bt.lay.genOf(rest[0].Height)
			n := 1
			for n < len(rest) && bt.lay.genOf(rest[n].Height) == g {
				n++
			}
			es = es[:0]
			if k, v := lastChunk(c, section(g, &a.p)); k != nil {
				var err error
				if es, err = bt.lay.decodeChunk(k, v, es); err != nil {
					return err
				}
				if !es[len(es)-1].Loc.Less(rest[0].Loc) {
					return errFormat // entries after the block being added
				}
			}
			es = append(es, rest[:n]...)
			if err := bt.lay.chunks(&a.p, es, addrs.Put); err != nil {
				return err
			}
			rest = rest[n:]
		}
		var s Stats
		if v := stats.Get(a.p[:]); v != nil {
			var err error
			if s, err = decodeStats(v); err != nil {
				return err
			}
		}
		s.add(&a.d)
		if err := stats.Put(bytes.Clone(a.p[:]), s.encode()); err != nil {
			return err
		}
	}
	return nil
}

// lastChunk positions c at the last chunk of section sec and returns it,
// or nil.
func lastChunk(c *bolt.Cursor, sec []byte) ([]byte, []byte) {
	k, v := c.Seek(sectionEnd(sec))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, sec) {
		return nil, nil
	}
	return k, v
}

// removeBlock takes block b (of node nd) out of the index.
func removeBlock(tx *bolt.Tx, genesis [32]byte, lay layout, nd *chain.BlockNode, b *block.Block) error {
	blocks := tx.Bucket(bucketBlocks)
	if v := blocks.Get(heightKey(nd.Height)); len(v) >= 32 && [32]byte(v[:32]) == nd.Hash {
		if err := blocks.Delete(heightKey(nd.Height)); err != nil {
			return err
		}
	}
	ids, addrs, stats := tx.Bucket(bucketTxs), tx.Bucket(bucketAddrs), tx.Bucket(bucketStats)
	var err error
	verr := visit(genesis, nd, b, func(txid []byte, l Loc) {
		if err == nil {
			err = lay.removeID(ids, txid, l)
		}
	}, func(p [PayloadSize]byte, e Entry, d delta) {
		if err == nil {
			err = lay.removeEntry(addrs, &p, e.Loc)
		}
		if err == nil {
			err = subStats(stats, &p, &d)
		}
	})
	if verr != nil {
		return verr
	}
	return err
}

func (lay layout) removeID(ids *bolt.Bucket, txid []byte, l Loc) error {
	g := lay.genOf(l.Height)
	k := txsKey(g, txid)
	var out []byte
	found := false
	err := lay.decodeTxEntries(g, ids.Get(k), func(e txEntry) bool {
		if !found && e.loc == l && bytes.Equal(e.rest[:], txid[idKeyLen:idPrefix]) {
			found = true
		} else {
			out = lay.appendTxEntry(out, e)
		}
		return true
	})
	if err != nil {
		return err
	}
	if !found {
		return errFormat
	}
	if len(out) == 0 {
		return ids.Delete(k)
	}
	return ids.Put(k, out)
}

// removeEntry takes the entry at l out of p's history.
func (lay layout) removeEntry(addrs *bolt.Bucket, p *[PayloadSize]byte, l Loc) error {
	c := addrs.Cursor()
	at := lay.addrKey(p, l)
	k, v := c.Seek(at)
	if k == nil || !bytes.Equal(k, at) {
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	if k == nil || !bytes.HasPrefix(k, at[:sectionLen]) {
		return errFormat
	}
	es, err := lay.decodeChunk(k, v, nil)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(es, func(e Entry) bool { return e.Loc == l })
	if i < 0 {
		return errFormat
	}
	es = slices.Delete(es, i, i+1)
	if i == 0 {
		// The chunk's key is its first entry's place.
		if err := addrs.Delete(bytes.Clone(k)); err != nil {
			return err
		}
	}
	if len(es) == 0 {
		return nil
	}
	return addrs.Put(lay.addrKey(p, es[0].Loc), encodeChunk(es))
}

func subStats(stats *bolt.Bucket, p *[PayloadSize]byte, d *delta) error {
	v := stats.Get(p[:])
	if v == nil {
		return errFormat
	}
	s, err := decodeStats(v)
	if err != nil {
		return err
	}
	s.sub(d)
	if s.TxCount == 0 {
		return stats.Delete(p[:])
	}
	return stats.Put(p[:], s.encode())
}

// writeIx is the database open for writing, with the lock file held.
type writeIx struct {
	d       chaindir.Dir
	genesis [32]byte
	wait    time.Duration
	lay     layout // of a new index
	want    *wantLock
	db      *bolt.DB
	reset   bool
}

// openWrite takes the lock file, waits for the readers to let go of the
// database and opens it, making a new one when it is missing or unusable.
func openWrite(d chaindir.Dir, genesis [32]byte, o Options) (*writeIx, error) {
	want, err := takeWant(d.File(chaindir.TxIndexLockFile))
	if err != nil {
		return nil, err
	}
	ix := &writeIx{d: d, genesis: genesis, wait: o.Wait, lay: layout{o.genShift}, want: want}
	if err := ix.open(); err != nil {
		want.release()
		return nil, err
	}
	return ix, nil
}

func (ix *writeIx) path() string { return ix.d.File(chaindir.TxIndexFile) }

// open opens the database, or makes a new one when it is missing, is not
// a database, or is of another network or version.
func (ix *writeIx) open() error {
	db, err := openDB(ix.path(), false, ix.wait)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ix.recreate()
	case errors.Is(err, ErrBusy):
		return err
	case err != nil:
		// Not a database (a torn or damaged file): it is derived.
		return ix.recreate()
	}
	ix.db = db
	ok := false
	ix.guard(func() error {
		return db.View(func(tx *bolt.Tx) error { ok = usable(tx, ix.genesis); return nil })
	})
	if !ok {
		return ix.recreate()
	}
	return nil
}

// usable reports whether tx holds an index of this version and network.
func usable(tx *bolt.Tx, genesis [32]byte) bool {
	for _, name := range buckets {
		if tx.Bucket(name) == nil {
			return false
		}
	}
	m := tx.Bucket(bucketMeta)
	if v := m.Get(keyVersion); len(v) != 1 || v[0] != version {
		return false
	}
	if v := m.Get(keyGenesis); !bytes.Equal(v, genesis[:]) {
		return false
	}
	if _, err := readLayout(tx); err != nil {
		return false
	}
	_, _, err := readTip(tx)
	return err == nil
}

// openDB opens the database at path with this package's locks: shared
// for reading, exclusive for writing, each waited for up to wait.
func openDB(path string, readOnly bool, wait time.Duration) (*bolt.DB, error) {
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := openLocked(path, flag, !readOnly, wait)
	if err != nil {
		return nil, err
	}
	o := boltOptions(readOnly)
	o.OpenFile = func(string, int, os.FileMode) (*os.File, error) { return f, nil }
	db, err := bolt.Open(path, 0o644, o)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", chaindir.TxIndexFile, err)
	}
	// Grow the file a mebibyte at a time rather than bbolt's 16.
	db.AllocSize = allocSize
	return db, nil
}

// allocSize is how much a writer grows the file by when it needs pages.
const allocSize = 1 << 20

// recreate replaces the database with an empty index at the genesis,
// built under a temporary name and renamed into place.
func (ix *writeIx) recreate() error {
	if ix.db != nil {
		ix.db.Close()
		ix.db = nil
	}
	// Readers may hold the file being replaced only until they see the
	// lock file held; one that opens the old file meanwhile finds it
	// replaced (sameFile) and opens the new one.
	tmp := ix.path() + ".tmp"
	os.Remove(tmp)
	db, err := bolt.Open(tmp, 0o644, boltOptions(false))
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error { return clear(tx, ix.genesis, ix.lay) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := ix.replace(tmp); err != nil {
		return err
	}
	ix.reset = true
	db, err = openDB(ix.path(), false, ix.wait)
	if err != nil {
		return err
	}
	ix.db = db
	return nil
}

// replace renames the finished database at tmp over the index, durably.
func (ix *writeIx) replace(tmp string) error {
	crashpoint.At("rename "+chaindir.TxIndexFile, nil, nil, 0)
	if err := os.Rename(tmp, ix.path()); err != nil {
		os.Remove(tmp)
		return err
	}
	return chaindir.SyncDir(ix.d.Path())
}

// compactIfSparse rewrites the database without its free pages when they
// are more than half of a file of some size: indexing a long run of
// blocks rewrites most pages, and bbolt never gives a file's pages back.
func (ix *writeIx) compactIfSparse() (bool, error) {
	const minSize = 8 << 20
	st := ix.db.Stats()
	var size int64
	ix.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	pageSize := int64(ix.db.Info().PageSize)
	if size < minSize || int64(st.FreePageN)*pageSize*2 < size {
		return false, nil
	}
	tmp := ix.path() + ".tmp"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o644, boltOptions(false))
	if err != nil {
		return false, err
	}
	err = copyDB(dst, ix.db)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return false, err
	}
	ix.db.Close()
	ix.db = nil
	if err := ix.replace(tmp); err != nil {
		return false, err
	}
	return true, nil
}

// copyDB copies every bucket of src into the empty dst in key order,
// filling the pages: a compacted index.
func copyDB(dst, src *bolt.DB) error {
	const commitBytes = 32 << 20
	return src.View(func(stx *bolt.Tx) error {
		for _, name := range buckets {
			sb := stx.Bucket(name)
			c := sb.Cursor()
			k, v := c.First()
			for {
				n := 0
				err := dst.Update(func(dtx *bolt.Tx) error {
					b, err := dtx.CreateBucketIfNotExists(name)
					if err != nil {
						return err
					}
					b.FillPercent = 0.95
					for ; k != nil && n < commitBytes; k, v = c.Next() {
						if err := b.Put(k, v); err != nil {
							return err
						}
						n += len(k) + len(v)
					}
					return nil
				})
				if err != nil {
					return err
				}
				if k == nil {
					break
				}
			}
		}
		return nil
	})
}

func (ix *writeIx) guard(fn func() error) error { return guard(fn) }

// guard runs fn, turning a panic of the database (bbolt panics on pages
// it cannot make sense of) into errFormat: the index is derived, and a
// damaged one is started again (by a writer) or refused (by a reader).
func guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errFormat, r)
		}
	}()
	return fn()
}

func (ix *writeIx) close() error {
	var err error
	if ix.db != nil {
		err = ix.db.Close()
		ix.db = nil
	}
	ix.want.release()
	return err
}
