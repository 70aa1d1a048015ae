package pow

import (
	"bytes"
	"math/big"
)

// Target is a 256-bit unsigned integer in big-endian byte order. A block's
// hash, read the same way, must be at most its target.
type Target = [32]byte

// Meets reports whether hash, read as a big-endian 256-bit number, is at most
// target. A hash equal to the target meets it.
func Meets(hash, target *[32]byte) bool {
	return bytes.Compare(hash[:], target[:]) <= 0
}

var (
	bigOne = big.NewInt(1)
	two256 = new(big.Int).Lsh(bigOne, 256)
)

// Work returns the expected number of hashes needed to meet target,
// floor(2^256 / (target+1)): 1 for target 2^256-1, 2 for 2^255-1, 2^256 for
// target 0. A branch's cumulative work is the sum of the Work of its blocks'
// targets. Each call returns a new *big.Int that the caller owns.
func Work(target *Target) *big.Int {
	d := new(big.Int).SetBytes(target[:])
	d.Add(d, bigOne)
	return new(big.Int).Quo(two256, d)
}
