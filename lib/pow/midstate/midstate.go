package midstate

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// State is the SHA-256 chaining value after hashing a prefix whose length is
// a multiple of 64.
type State [8]uint32

// iv is the SHA-256 initial hash value (FIPS 180-4, 5.3.3).
var iv = State{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// _K holds the SHA-256 round constants (FIPS 180-4, 4.2.2). The assembly
// reads it directly, so it must stay a [64]uint32.
var _K = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// chunk bounds how many tries one assembly call makes. Assembly is not
// preemptible, so an unbounded loop would stall the garbage collector and
// the scheduler; 1<<14 tries is well under a millisecond and the call
// overhead is spread over enough tries to vanish.
const chunk = 1 << 14

// New hashes prefix (len%64==0, else panic) and returns the midstate.
func New(prefix []byte) State {
	if len(prefix)%64 != 0 {
		panic("midstate: prefix length is not a multiple of 64")
	}
	s := iv
	var w [16]uint32
	for len(prefix) > 0 {
		for i := range w {
			w[i] = binary.BigEndian.Uint32(prefix[4*i:])
		}
		s = compress(&s, &w)
		prefix = prefix[64:]
	}
	return s
}

// Hash returns SHA-256(prefix || bigendian64(proof)) given s = New(prefix)
// and prefixLen = len(prefix); prefixLen+8 must fit one final block after the
// prefix (i.e. prefixLen%64==0).
func (s *State) Hash(prefixLen int, proof uint64) [32]byte {
	var c consts
	c.init(s, prefixLen)
	return c.hash(proof)
}

// Search tries proofs start, start+1, ..., start+count-1 and returns the
// first whose hash is <= target (big-endian compare), with its hash.
// found=false if none; it never wraps past 2^64-1.
func (s *State) Search(prefixLen int, start, count uint64, target *[32]byte) (proof uint64, hash [32]byte, found bool) {
	var c consts
	c.init(s, prefixLen)
	if start != 0 && count > -start {
		count = -start // proofs start .. 2^64-1 and no further
	}
	t0 := binary.BigEndian.Uint32(target[:4])
	for count > 0 {
		n := min(count, chunk)
		// i is the first try whose leading hash word is <= t0, or n. A
		// try whose leading word exceeds t0 cannot meet the target, so
		// only candidates need the full 256-bit compare.
		i := c.search(start, n, t0)
		if i < n {
			h := c.hash(start + i)
			if bytes.Compare(h[:], target[:]) <= 0 {
				return start + i, h, true
			}
			i++
		}
		start += i
		count -= i
	}
	return 0, [32]byte{}, false
}

// consts is everything about the final block that does not depend on the
// proof, laid out for the SHA-NI assembly: the midstate in the two register
// shapes that SHA256RNDS2 wants, and the message words 4..15 that are the
// same for every try. Changing the layout means changing the .s file.
type consts struct {
	abef [4]uint32  // midstate words F, E, B, A (lane 0 first)
	cdgh [4]uint32  // midstate words H, G, D, C
	wk   [12]uint32 // W[t]+K[t] for t = 4..15: constant for every proof
	m3   [4]uint32  // W[12..15]: zero, zero, bit length high, bit length low
	mid  State      // midstate in FIPS order, for the Go path
}

func (c *consts) init(s *State, prefixLen int) {
	if prefixLen < 0 || prefixLen%64 != 0 {
		panic("midstate: prefix length is not a multiple of 64")
	}
	bitLen := (uint64(prefixLen) + 8) * 8
	c.abef = [4]uint32{s[5], s[4], s[1], s[0]}
	c.cdgh = [4]uint32{s[7], s[6], s[3], s[2]}
	c.m3 = [4]uint32{0, 0, uint32(bitLen >> 32), uint32(bitLen)}
	for t := 4; t < 16; t++ {
		c.wk[t-4] = _K[t]
	}
	c.wk[10] += c.m3[2]
	c.wk[11] += c.m3[3]
	c.mid = *s
}

// hash returns the digest for one proof.
func (c *consts) hash(proof uint64) [32]byte {
	var out [32]byte
	if useAsm {
		hashAsm(c, proof, &out)
		return out
	}
	h := c.final(proof)
	for i, v := range h {
		binary.BigEndian.PutUint32(out[4*i:], v)
	}
	return out
}

// search returns the smallest i < n for which the leading word of the
// digest of proof start+i is <= t0, or n if there is none. start+i may wrap
// only for i >= n.
func (c *consts) search(start, n uint64, t0 uint32) uint64 {
	if useAsm {
		return searchAsm(c, start, n, t0)
	}
	for i := uint64(0); i < n; i++ {
		if h := c.final(start + i); h[0] <= t0 {
			return i
		}
	}
	return n
}

// final compresses the last block, proof || 0x80 || zeros || bit length, in
// pure Go.
func (c *consts) final(proof uint64) State {
	w := [16]uint32{0: uint32(proof >> 32), 1: uint32(proof), 2: 0x80000000, 14: c.m3[2], 15: c.m3[3]}
	return compress(&c.mid, &w)
}

// compress is the SHA-256 compression function (FIPS 180-4, 6.2.2) with the
// feed-forward add. The rounds are unrolled by eight so that the working
// variables change roles instead of moving.
func compress(s *State, block *[16]uint32) State {
	var w [64]uint32
	copy(w[:], block[:])
	for t := 16; t < 64; t++ {
		x, y := w[t-2], w[t-15]
		s1 := bits.RotateLeft32(x, -17) ^ bits.RotateLeft32(x, -19) ^ (x >> 10)
		s0 := bits.RotateLeft32(y, -7) ^ bits.RotateLeft32(y, -18) ^ (y >> 3)
		w[t] = s1 + w[t-7] + s0 + w[t-16]
	}
	a, b, c, d, e, f, g, h := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	for t := 0; t < 64; t += 8 {
		k, ws := _K[t:t+8:t+8], w[t:t+8:t+8]
		h += bigSigma1(e) + ch(e, f, g) + k[0] + ws[0]
		d += h
		h += bigSigma0(a) + maj(a, b, c)
		g += bigSigma1(d) + ch(d, e, f) + k[1] + ws[1]
		c += g
		g += bigSigma0(h) + maj(h, a, b)
		f += bigSigma1(c) + ch(c, d, e) + k[2] + ws[2]
		b += f
		f += bigSigma0(g) + maj(g, h, a)
		e += bigSigma1(b) + ch(b, c, d) + k[3] + ws[3]
		a += e
		e += bigSigma0(f) + maj(f, g, h)
		d += bigSigma1(a) + ch(a, b, c) + k[4] + ws[4]
		h += d
		d += bigSigma0(e) + maj(e, f, g)
		c += bigSigma1(h) + ch(h, a, b) + k[5] + ws[5]
		g += c
		c += bigSigma0(d) + maj(d, e, f)
		b += bigSigma1(g) + ch(g, h, a) + k[6] + ws[6]
		f += b
		b += bigSigma0(c) + maj(c, d, e)
		a += bigSigma1(f) + ch(f, g, h) + k[7] + ws[7]
		e += a
		a += bigSigma0(b) + maj(b, c, d)
	}
	return State{s[0] + a, s[1] + b, s[2] + c, s[3] + d, s[4] + e, s[5] + f, s[6] + g, s[7] + h}
}

func bigSigma0(x uint32) uint32 {
	return bits.RotateLeft32(x, -2) ^ bits.RotateLeft32(x, -13) ^ bits.RotateLeft32(x, -22)
}

func bigSigma1(x uint32) uint32 {
	return bits.RotateLeft32(x, -6) ^ bits.RotateLeft32(x, -11) ^ bits.RotateLeft32(x, -25)
}

func ch(x, y, z uint32) uint32 { return z ^ (x & (y ^ z)) }

func maj(x, y, z uint32) uint32 { return (x & y) | (z & (x | y)) }
