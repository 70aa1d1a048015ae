package relay

import (
	"fmt"
	"testing"
)

func TestSeen(t *testing.T) {
	tests := []struct {
		name string
		size int
		adds []string
		want []bool // what each Add reports
	}{
		{"new then duplicate", 4, []string{"a", "b", "a", "b"}, []bool{true, true, false, false}},
		{"oldest forgotten when full", 2, []string{"a", "b", "c", "a"}, []bool{true, true, true, true}},
		{"newest kept when full", 2, []string{"a", "b", "c", "c", "b"}, []bool{true, true, true, false, false}},
		{"size one", 1, []string{"a", "a", "b", "a"}, []bool{true, false, true, true}},
		{"zero size is one", 0, []string{"a", "a"}, []bool{true, false}},
		{"empty line", 2, []string{"", ""}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSeen(tt.size)
			for i, a := range tt.adds {
				if has := s.Has([]byte(a)); has == tt.want[i] {
					t.Errorf("Has #%d (%q) = %v before an Add that reports %v", i, a, has, tt.want[i])
				}
				if got := s.Add([]byte(a)); got != tt.want[i] {
					t.Errorf("Add #%d (%q) = %v, want %v", i, a, got, tt.want[i])
				}
				if !s.Has([]byte(a)) {
					t.Errorf("Has #%d (%q) = false after Add", i, a)
				}
			}
			if s.Len() > max(tt.size, 1) {
				t.Errorf("Len %d over the size %d", s.Len(), tt.size)
			}
		})
	}
}

func TestSeenBounded(t *testing.T) {
	s := NewSeen(100)
	for i := range 1000 {
		s.Add(fmt.Appendf(nil, "line %d", i))
	}
	if s.Len() != 100 {
		t.Fatalf("Len %d after 1000 lines, want 100", s.Len())
	}
	if s.Add([]byte("line 999")) || !s.Add([]byte("line 899")) {
		t.Fatal("the set does not hold exactly the last 100 lines")
	}
}

func TestSeenSeeded(t *testing.T) {
	a, b := NewSeen(1), NewSeen(1)
	if a.Key([]byte("x")) == b.Key([]byte("x")) {
		t.Fatal("two sets hash alike: the seed is not random")
	}
	if a.Key([]byte("x")) != a.Key([]byte("x")) {
		t.Fatal("a set hashes one line two ways")
	}
}

func BenchmarkSeenAdd(b *testing.B) {
	s := NewSeen(SeenSize)
	line := make([]byte, 400)
	b.SetBytes(int64(len(line)))
	for i := 0; b.Loop(); i++ {
		line[0], line[1], line[2] = byte(i), byte(i>>8), byte(i>>16)
		s.Add(line)
	}
}
