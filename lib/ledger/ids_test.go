package ledger

import (
	"math/rand/v2"
	"testing"
)

// TestIDSet: the recent-id set, keyed by the id with a second map for ids
// that several senders use, behaves as one map from (sender, id), through
// random puts and deletes over few ids and senders (so that ids collide
// across senders all the time), clones included.
func TestIDSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := newIDSet(0)
	want := map[idKey]recent{}
	key := func() idKey {
		var k idKey
		k.sender[0] = byte(rng.IntN(4))
		k.id[0] = byte(rng.IntN(6))
		return k
	}
	check := func(s *idSet, step int) {
		t.Helper()
		if s.len() != len(want) {
			t.Fatalf("step %d: %d entries, want %d", step, s.len(), len(want))
		}
		seen := 0
		s.each(func(k idKey, r recent) {
			seen++
			if want[k] != r {
				t.Fatalf("step %d: each gives %v for %v, want %v", step, r, k, want[k])
			}
		})
		if seen != len(want) {
			t.Fatalf("step %d: each gave %d entries", step, seen)
		}
		for i := range 4 {
			for j := range 6 {
				var k idKey
				k.sender[0], k.id[0] = byte(i), byte(j)
				r, ok := s.get(k)
				w, wok := want[k]
				if ok != wok || r != w {
					t.Fatalf("step %d: get(%d, %d) = %v, %v; want %v, %v", step, i, j, r, ok, w, wok)
				}
			}
		}
	}
	for step := range 5000 {
		k := key()
		switch rng.IntN(6) {
		case 0, 1:
			s.del(k)
			delete(want, k)
		case 2: // the expiry of every entry of k.id stamped ts
			ts := int64(rng.IntN(4))
			dropped := s.dropExpired(k.id, ts, nil)
			n := 0
			for w, r := range want {
				if w.id == k.id && r.ts == ts {
					delete(want, w)
					n++
				}
			}
			if len(dropped) != n {
				t.Fatalf("step %d: dropExpired dropped %d, want %d", step, len(dropped), n)
			}
		default:
			r := recent{ts: int64(rng.IntN(4))}
			s.put(k, r)
			want[k] = r
		}
		check(&s, step)
		if step%500 == 0 {
			c := s.clone()
			check(&c, step)
		}
	}
	if len(s.more) == 0 {
		t.Fatal("no id was shared by two senders: the test covers less")
	}
}
