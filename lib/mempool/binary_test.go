package mempool

import (
	"bytes"
	"testing"
)

// TestBinaryRoundTrip: a pool loaded from its binary form holds the same
// transfers in the same order, with the same sums, sizes and eviction
// order; a transfer that has left the time window is dropped, and so is
// one past the bound.
func TestBinaryRoundTrip(t *testing.T) {
	f, txs := stream(t, 40)
	m := New(f.p, 0)
	for _, x := range txs {
		if err := m.AddVerified(x, f.led, f.now()); err != nil {
			t.Fatal(err)
		}
	}
	b := m.AppendBinary(nil)
	l := New(f.p, 0)
	if dropped, err := l.LoadBinary(b, f.now()); err != nil || dropped != 0 {
		t.Fatalf("LoadBinary: %d dropped, %v", dropped, err)
	}
	if !equalTxs(l, m) {
		t.Fatal("the loaded pool differs")
	}
	if !bytes.Equal(l.AppendBinary(nil), b) {
		t.Fatal("the loaded pool encodes differently")
	}
	for _, a := range []string{f.alice.addr, f.bob.addr, f.carol.addr} {
		if l.Pending(a) != m.Pending(a) {
			t.Fatalf("Pending(%s) %d, want %d", a, l.Pending(a), m.Pending(a))
		}
	}
	if lt, mt := l.Template(f.led, f.now(), 1<<20), m.Template(f.led, f.now(), 1<<20); !equalList(lt, mt) {
		t.Fatal("the loaded pool picks another template")
	}
	small := New(f.p, 10)
	if dropped, err := small.LoadBinary(b, f.now()); err != nil || dropped != 30 || small.Len() != 10 {
		t.Fatalf("a bound of 10: %d dropped, %d held, %v", dropped, small.Len(), err)
	}
	late := New(f.p, 0)
	if dropped, err := late.LoadBinary(b, f.now()+2*86400); err != nil || dropped != 40 {
		t.Fatalf("two days later: %d dropped, %v", dropped, err)
	}
	for _, cut := range []int{1, 10, binFixed, len(b) - 1} {
		if _, err := New(f.p, 0).LoadBinary(b[:cut], f.now()); err == nil {
			t.Fatalf("cut at %d: loaded", cut)
		}
	}
}

func equalTxs(a, b *Pool) bool { return equalList(a.Txs(), b.Txs()) }

func equalList[T comparable](a, b []*T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if *a[i] != *b[i] {
			return false
		}
	}
	return true
}

// FuzzLoadBinary: LoadBinary never panics, and bytes it loads whole, with
// nothing dropped, encode back to themselves.
func FuzzLoadBinary(f *testing.F) {
	fx, txs := stream(f, 3)
	m := New(fx.p, 0)
	for _, x := range txs {
		if err := m.AddVerified(x, fx.led, fx.now()); err != nil {
			f.Fatal(err)
		}
	}
	good := m.AppendBinary(nil)
	f.Add(good)
	f.Add(good[:binFixed+5])
	f.Fuzz(func(t *testing.T, b []byte) {
		l := New(fx.p, 0)
		dropped, err := l.LoadBinary(b, fx.now())
		if err == nil && dropped == 0 && !bytes.Equal(l.AppendBinary(nil), b) {
			t.Fatal("a binary form loaded whole encodes differently")
		}
	})
}
