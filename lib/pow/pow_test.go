package pow

import (
	"math/big"
	"testing"

	"github.com/coniunctum/cnj/lib/chainhash"
)

// tgt parses 64 lowercase hex digits.
func tgt(s string) Target {
	var t Target
	if err := chainhash.Decode(t[:], s); err != nil {
		panic("bad target hex " + s)
	}
	return t
}

// fromBig encodes 0 <= x < 2^256.
func fromBig(x *big.Int) Target {
	var t Target
	x.FillBytes(t[:])
	return t
}

func toBig(t Target) *big.Int { return new(big.Int).SetBytes(t[:]) }

// pow2m1 is 2^k - 1.
func pow2m1(k uint) Target {
	x := new(big.Int).Lsh(big.NewInt(1), k)
	return fromBig(x.Sub(x, big.NewInt(1)))
}

func TestMeets(t *testing.T) {
	const (
		mid    = "00000fffffffffffffffffffffffffffffffffffffffffffffffffffffffff00"
		midP1  = "00000fffffffffffffffffffffffffffffffffffffffffffffffffffffffff01"
		midM1  = "00000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffeff"
		zero   = "0000000000000000000000000000000000000000000000000000000000000000"
		maxv   = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
		hiByte = "0100000000000000000000000000000000000000000000000000000000000000"
		loByte = "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	)
	tests := []struct {
		name, hash, target string
		want               bool
	}{
		{"hash equals target", mid, mid, true},
		{"hash is target+1", midP1, mid, false},
		{"hash is target-1", midM1, mid, true},
		{"carry across bytes: target-1 borrows", midM1, midM1, true},
		{"zero hash meets zero target", zero, zero, true},
		{"nothing above zero meets zero", midM1, zero, false},
		{"everything meets the max target", maxv, maxv, true},
		{"first byte decides over the rest", hiByte, loByte, false},
		{"first byte decides the other way", loByte, hiByte, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, tg := tgt(tc.hash), tgt(tc.target)
			if got := Meets(&h, &tg); got != tc.want {
				t.Errorf("Meets(%s, %s) = %v, want %v", tc.hash, tc.target, got, tc.want)
			}
		})
	}
}

func TestWork(t *testing.T) {
	pow2 := func(k uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), k) }
	third, _ := new(big.Int).SetString("38597363079105398474523661669562635951089994888546854679819194669304376546645", 10) // floor(2^256/3)
	tests := []struct {
		name   string
		target Target
		want   *big.Int
	}{
		{"2^256-1: every hash meets", pow2m1(256), big.NewInt(1)},
		{"2^255-1: half of the hashes", pow2m1(255), big.NewInt(2)},
		{"2^255: just above half, rounds down", fromBig(pow2(255)), big.NewInt(1)},
		{"2^254-1", pow2m1(254), big.NewInt(4)},
		{"2^244-1: devnet initial target", pow2m1(244), big.NewInt(4096)},
		{"2^236-1: main initial target", pow2m1(236), big.NewInt(1 << 20)},
		{"2^224-1: 32 leading zero bits", pow2m1(224), pow2(32)},
		{"2: floor(2^256/3)", fromBig(big.NewInt(2)), third},
		{"1", fromBig(big.NewInt(1)), pow2(255)},
		{"0: only the zero hash", Target{}, pow2(256)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Work(&tc.target); got.Cmp(tc.want) != 0 {
				t.Errorf("Work(%x) = %v, want %v", tc.target, got, tc.want)
			}
		})
	}
}

func TestWorkSumsAndIsFresh(t *testing.T) {
	a, b := pow2m1(255), pow2m1(254)
	sum := new(big.Int).Add(Work(&a), Work(&b))
	if sum.Int64() != 6 {
		t.Fatalf("work(2^255-1)+work(2^254-1) = %v, want 6", sum)
	}
	w := Work(&a)
	w.SetInt64(99) // the caller owns the result
	if got := Work(&a); got.Int64() != 2 {
		t.Fatalf("Work after mutating an earlier result = %v, want 2", got)
	}
}
