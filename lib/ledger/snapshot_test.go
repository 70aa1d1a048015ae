package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// populated returns a ledger with balances, maturing rewards and recent
// ids, and the next block to connect on it.
func populated(t testing.TB) (*Ledger, *block.Block) {
	p := testParams(t, 3)
	bd := &builder{t: t, p: p, l: New(p)}
	w := []string{addr(p, 1), addr(p, 2), addr(p, 3)}
	for h := 1; h <= 8; h++ {
		var txs []*tx.Tx
		for i, from := range w {
			if have := bd.l.Balance(from).Confirmed; have > coin {
				txs = append(txs, bd.xfer(from, w[(i+1)%3], coin, 1000, t0+int64(h)*1000))
			}
		}
		bd.connect(bd.next(w[h%3], txs...), t0+int64(h)*1000)
	}
	return bd.l, bd.next(w[0], bd.xfer(w[1], w[0], coin, 1000, t0+day))
}

// withSum returns data with its last 8 bytes replaced by the checksum of
// the rest, so that a mutation reaches the decoder behind the checksum.
func withSum(data []byte) []byte {
	if len(data) < 8 {
		return data
	}
	out := append([]byte(nil), data...)
	binary.BigEndian.PutUint64(out[len(out)-8:], xxhash.Sum64(out[:len(out)-8]))
	return out
}

func TestSnapshotRoundTrip(t *testing.T) {
	l, next := populated(t)
	data := marshal(t, l)
	again := marshal(t, l.Clone())
	if !bytes.Equal(data, again) {
		t.Fatal("a clone marshals differently")
	}
	m := New(l.p)
	if err := m.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, marshal(t, m)) {
		t.Fatal("round trip differs")
	}
	if m.Height() != l.Height() || m.Tip() != l.Tip() || m.Total() != l.Total() || m.IDs() != l.IDs() {
		t.Fatal("round trip lost state")
	}
	for s := byte(1); s <= 3; s++ {
		a := addr(l.p, s)
		if m.Balance(a) != l.Balance(a) {
			t.Errorf("balance of %s: %+v, want %+v", a, m.Balance(a), l.Balance(a))
		}
	}
	// Both go on alike, pruning ids from the rebuilt expiry heap.
	ids := l.IDs()
	mtp := int64(t0 + 7500 + day) // drops the ids of blocks 1..7
	ul, err1 := l.Connect(next, mtp)
	um, err2 := m.Connect(next, mtp)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !bytes.Equal(marshal(t, l), marshal(t, m)) || m.IDs() >= ids {
		t.Fatal("the loaded ledger connects differently")
	}
	if err := m.Disconnect(next, um); err != nil {
		t.Fatal(err)
	}
	if err := l.Disconnect(next, ul); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, marshal(t, m)) || !bytes.Equal(data, marshal(t, l)) {
		t.Fatal("disconnect after a round trip differs")
	}
}

// TestUnmarshalCorrupt: every truncation and every byte flip is refused
// with corrupt (or, with a recomputed checksum, accepted only if it still
// re-encodes to itself), and a refused snapshot leaves the ledger as it was.
func TestUnmarshalCorrupt(t *testing.T) {
	l, _ := populated(t)
	data := marshal(t, l)
	check := func(name string, in []byte) {
		t.Helper()
		m := New(l.p)
		err := m.UnmarshalBinary(in)
		if err == nil {
			if !bytes.Equal(in, marshal(t, m)) {
				t.Fatalf("%s: accepted a snapshot that re-encodes differently", name)
			}
			return
		}
		if !rule.Is(err, rule.Corrupt) {
			t.Fatalf("%s: %v, want corrupt", name, err)
		}
		if m.Height() != 0 || m.Total() != 0 {
			t.Fatalf("%s: a refused snapshot changed the ledger", name)
		}
	}
	for n := 0; n < len(data); n++ {
		in := data[:n]
		if err := New(l.p).UnmarshalBinary(in); !rule.Is(err, rule.Corrupt) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
		check("truncated+sum", withSum(in))
	}
	for i := range data {
		in := append([]byte(nil), data...)
		in[i] ^= 0x20
		if err := New(l.p).UnmarshalBinary(in); !rule.Is(err, rule.Corrupt) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
		check("flipped+sum", withSum(in))
	}

	// Named inconsistencies, each behind a good checksum.
	body := data[:len(data)-8]
	hdr := len(magic) + 1 + 32 + 8 + 32 // up to the pending count
	edit := func(f func(b []byte) []byte) []byte {
		b := f(append([]byte(nil), body...))
		return binary.BigEndian.AppendUint64(b, xxhash.Sum64(b))
	}
	cases := map[string][]byte{
		"magic":        edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version":      edit(func(b []byte) []byte { b[len(magic)] = version + 1; return b }),
		"version 1":    edit(func(b []byte) []byte { b[len(magic)] = 1; return b }),
		"network":      edit(func(b []byte) []byte { b[len(magic)+1] ^= 1; return b }),
		"height":       edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[hdr-40:], 1); return b }), // 3 pending at height 1
		"pending":      edit(func(b []byte) []byte { b[hdr+7]--; return b }),
		"huge count":   edit(func(b []byte) []byte { b[hdr] = 0xff; return b }),
		"trailing":     edit(func(b []byte) []byte { return append(b, 0) }),
		"empty string": edit(func(b []byte) []byte { b[hdr+8] = 0; return b }),
	}
	if err := New(l.p).UnmarshalBinary(cases["version 1"]); !errors.Is(err, ErrOldVersion) {
		t.Errorf("version 1: %v, want ErrOldVersion", err)
	}
	if err := New(l.p).UnmarshalBinary(cases["version"]); errors.Is(err, ErrOldVersion) {
		t.Errorf("a newer version: %v, is not an older one", err)
	}
	for name, in := range cases {
		if err := New(l.p).UnmarshalBinary(in); !rule.Is(err, rule.Corrupt) {
			t.Errorf("%s: %v, want corrupt", name, err)
		}
	}
	var zero Ledger
	if err := zero.UnmarshalBinary(data); err == nil {
		t.Error("UnmarshalBinary on a zero Ledger succeeded")
	}
}

// TestSnapshotEntries: balances and ids that are out of order, zero, or
// badly addressed are refused even behind a good checksum.
func TestSnapshotEntries(t *testing.T) {
	p := testParams(t, 3)
	a1, a2 := addr(p, 1), addr(p, 2)
	if a1 > a2 {
		a1, a2 = a2, a1
	}
	build := func(bal []struct {
		a string
		v uint64
	}, ids []struct {
		sender string
		id     [16]byte
		ts     uint64
	}) []byte {
		g := p.Hash()
		b := append([]byte(magic), version)
		b = append(b, g[:]...)
		b = binary.BigEndian.AppendUint64(b, 3) // height 3: three pending rewards
		b = append(b, make([]byte, 32)...)
		b = binary.BigEndian.AppendUint64(b, 3)
		for i := 0; i < 3; i++ {
			b = appendStr(b, a1)
			b = binary.BigEndian.AppendUint64(b, 5)
		}
		b = binary.BigEndian.AppendUint64(b, uint64(len(bal)))
		for _, e := range bal {
			b = appendStr(b, e.a)
			b = binary.BigEndian.AppendUint64(b, e.v)
		}
		b = binary.BigEndian.AppendUint64(b, uint64(len(ids)))
		for _, e := range ids {
			pay, _ := keys.Payload(e.sender)
			b = append(b, pay[:]...)
			b = append(b, e.id[:]...)
			b = binary.BigEndian.AppendUint64(b, e.ts)
			b = append(b, make([]byte, HashPrefix)...)
		}
		return binary.BigEndian.AppendUint64(b, xxhash.Sum64(b))
	}
	type bal = []struct {
		a string
		v uint64
	}
	type ids = []struct {
		sender string
		id     [16]byte
		ts     uint64
	}
	// One id used by two senders: a1's payload sorts first.
	good := build(bal{{a1, 1}, {a2, 2}}, ids{{a1, [16]byte{1}, t0}, {a1, [16]byte{2}, t0}, {a2, [16]byte{1}, t0}})
	l := New(p)
	if err := l.UnmarshalBinary(good); err != nil {
		t.Fatalf("good snapshot: %v", err)
	}
	if l.Total() != 18 || !l.HasID(a1, [16]byte{2}) || !l.HasID(a2, [16]byte{1}) || l.HasID(a2, [16]byte{2}) || l.IDs() != 3 {
		t.Fatalf("good snapshot loaded wrong: total %d, %d ids", l.Total(), l.IDs())
	}
	if !bytes.Equal(marshal(t, l), good) {
		t.Fatal("a snapshot with one id under two senders re-encodes differently")
	}
	for name, in := range map[string][]byte{
		"unsorted balances": build(bal{{a2, 1}, {a1, 2}}, nil),
		"repeated address":  build(bal{{a1, 1}, {a1, 2}}, nil),
		"zero balance":      build(bal{{a1, 0}}, nil),
		"bad address":       build(bal{{"dcnj1zz", 1}}, nil),
		"other network":     build(bal{{"cnj" + a1[4:], 1}}, nil),
		"total overflows":   build(bal{{a1, 1 << 63}, {a2, 1 << 63}}, nil),
		"unsorted ids":      build(nil, ids{{a1, [16]byte{2}, t0}, {a1, [16]byte{1}, t0}}),
		"unsorted senders":  build(nil, ids{{a2, [16]byte{1}, t0}, {a1, [16]byte{2}, t0}}),
		"repeated id":       build(nil, ids{{a1, [16]byte{2}, t0}, {a1, [16]byte{2}, t0}}),
		"id time":           build(nil, ids{{a1, [16]byte{2}, tx.MaxTimestamp + 1}}),
	} {
		if err := New(p).UnmarshalBinary(in); !rule.Is(err, rule.Corrupt) {
			t.Errorf("%s: %v, want corrupt", name, err)
		}
	}
}

// FuzzUnmarshal: UnmarshalBinary never panics; it refuses with corrupt and
// changes nothing, or accepts a snapshot that re-encodes to itself and that
// the ledger can build on. Each input is also tried with its checksum
// recomputed, so that mutations reach the decoder.
func FuzzUnmarshal(f *testing.F) {
	p := testParams(f, 3)
	f.Add(marshal(f, New(p)))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, withSum(data)} {
			l := New(p)
			if err := l.UnmarshalBinary(in); err != nil {
				if !rule.Is(err, rule.Corrupt) {
					t.Fatalf("error without corrupt: %v", err)
				}
				if l.Height() != 0 || l.Tip() != p.Hash() || l.Total() != 0 || l.IDs() != 0 {
					t.Fatal("a refused snapshot changed the ledger")
				}
				continue
			}
			if out := marshal(t, l); !bytes.Equal(out, in) {
				t.Fatalf("accepted snapshot re-encodes differently:\n in %x\nout %x", in, out)
			}
			_ = l.Total()
			c := l.Clone()
			miner := addr(p, 1)
			b := &block.Block{Header: block.Header{Index: l.Height() + 1, PrevHash: l.Tip(), Miner: miner},
				Reward: tx.Reward{Receiver: miner, Amount: 1, Index: l.Height() + 1}, Hash: [32]byte{9}}
			if u, err := c.Connect(b, 1<<41); err == nil {
				if err := c.Disconnect(b, u); err != nil {
					t.Fatalf("disconnect: %v", err)
				}
				if !bytes.Equal(marshal(t, c), in) {
					t.Fatal("connect+disconnect on a loaded snapshot differs")
				}
			}
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzUnmarshal when
// CNJ_WRITE_CORPUS=1; otherwise it checks that the corpus is there.
func TestWriteFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzUnmarshal")
	if os.Getenv("CNJ_WRITE_CORPUS") != "1" {
		if ents, err := os.ReadDir(dir); err != nil || len(ents) < 4 {
			t.Fatalf("seed corpus missing in %s: %v", dir, err)
		}
		return
	}
	l, _ := populated(t)
	full := marshal(t, l)
	p := l.p
	small := New(p)
	bd := &builder{t: t, p: p, l: small}
	bd.connect(bd.next(addr(p, 1)), t0)
	seeds := map[string][]byte{
		"genesis":   marshal(t, New(p)),
		"populated": full,
		"height1":   marshal(t, small),
		"truncated": full[:len(full)/2],
		"flipped":   withSum(append(append([]byte(nil), full[:60]...), append([]byte{0xff}, full[61:]...)...)),
		"empty":     {},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := "go test fuzz v1\n[]byte(" + quote(b) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// quote writes b as a Go string literal, as the fuzz corpus format wants.
func quote(b []byte) string {
	const hexd = "0123456789abcdef"
	out := []byte{'"'}
	for _, c := range b {
		out = append(out, '\\', 'x', hexd[c>>4], hexd[c&15])
	}
	return string(append(out, '"'))
}
