package pow

import "slices"

// MedianSpan is the number of timestamps in a median time past: a block's
// timestamp must be above the median of the 11 blocks before it.
const MedianSpan = 11

// MedianTime returns the median time past (MTP) of ts, the timestamps of a
// branch oldest first: the median of its last min(len(ts), MedianSpan)
// elements, that is element len/2 (counting from 0) of a sorted copy of them,
// the upper of the two middle values when the count is even. ts is not
// modified. MedianTime(nil) is 0.
func MedianTime(ts []int64) int64 {
	if len(ts) == 0 {
		return 0
	}
	if len(ts) > MedianSpan {
		ts = ts[len(ts)-MedianSpan:]
	}
	var buf [MedianSpan]int64
	s := buf[:len(ts)]
	copy(s, ts)
	slices.Sort(s)
	return s[len(s)/2]
}
