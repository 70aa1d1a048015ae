package pow

import (
	"slices"
	"testing"
)

func TestMedianTime(t *testing.T) {
	tests := []struct {
		name string
		ts   []int64
		want int64
	}{
		{"empty", nil, 0},
		{"1", []int64{7}, 7},
		{"2: upper middle", []int64{5, 9}, 9},
		{"2 unsorted: upper middle", []int64{9, 5}, 9},
		{"3", []int64{1, 2, 3}, 2},
		{"3 unsorted", []int64{3, 1, 2}, 2},
		{"4: element 2 of sorted", []int64{40, 10, 30, 20}, 30},
		{"5", []int64{5, 4, 3, 2, 1}, 3},
		{"6", []int64{1, 2, 3, 4, 5, 6}, 4},
		{"7 with duplicates", []int64{3, 3, 3, 1, 9, 9, 9}, 3},
		{"8", []int64{8, 1, 7, 2, 6, 3, 5, 4}, 5},
		{"9", []int64{90, 10, 80, 20, 70, 30, 60, 40, 50}, 50},
		{"10", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 6},
		{"11", []int64{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 6},
		{"12: only the last 11 count", []int64{1000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 6},
		{"12: the dropped one is the oldest", []int64{-1000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 6},
		{"20: last 11 of a long branch", []int64{0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110}, 105},
		{"time-warp pattern: 6 high of 11", []int64{1e6, 1, 1e6, 2, 1e6, 3, 1e6, 4, 1e6, 5, 1e6}, 1e6},
		{"time-warp pattern: 5 high of 11", []int64{1, 1e6, 2, 1e6, 3, 1e6, 4, 1e6, 5, 1e6, 6}, 6},
		{"negative and extreme values", []int64{-9e18, 9e18, 0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.ts)
			if got := MedianTime(in); got != tc.want {
				t.Errorf("MedianTime(%v) = %d, want %d", tc.ts, got, tc.want)
			}
			if !slices.Equal(in, tc.ts) {
				t.Errorf("MedianTime modified its input: %v", in)
			}
		})
	}
}
