// Package amount converts between base units and the decimal CNJ that people
// type and read. 1 CNJ is 100,000,000 base units. Conversions are exact: no
// float ever touches an amount, and anything that would round is refused.
//
// It does not know about balances or fees; it only guards the representation
// and the ceiling MaxMoney, above which no amount, fee or sum is valid
// (DESIGN.md: "no overflow").
package amount

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Units is an amount in base units.
type Units = uint64

const (
	// Decimals is the number of decimal places in one CNJ.
	Decimals = 8
	// Coin is one CNJ in base units.
	Coin Units = 100_000_000
	// MaxMoney is the ceiling for any single amount, fee or sum of them.
	MaxMoney Units = 21_000_000 * Coin
)

// Parse reads a decimal CNJ amount such as "1.5", "0.00000001" or "21000000"
// and returns base units. It refuses signs, exponents, more than 8 decimal
// places, empty parts ("1." or ".5"), leading zeros ("01.5") and anything
// above MaxMoney.
func Parse(s string) (Units, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return 0, fmt.Errorf("%q is not a decimal amount", s)
	}
	if !digits(whole) || (hasDot && !digits(frac)) {
		return 0, fmt.Errorf("%q is not a decimal amount: only digits and one dot", s)
	}
	if len(whole) > 1 && whole[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	if len(frac) > Decimals {
		return 0, fmt.Errorf("%q has more than %d decimal places", s, Decimals)
	}
	if len(whole) > 8 { // 21,000,000 has 8 digits
		return 0, fmt.Errorf("%q is above the maximum of %s CNJ", s, Format(MaxMoney))
	}
	w, _ := strconv.ParseUint(whole, 10, 64)
	f := uint64(0)
	if frac != "" {
		f, _ = strconv.ParseUint(frac+strings.Repeat("0", Decimals-len(frac)), 10, 64)
	}
	u := w*Coin + f
	if u > MaxMoney {
		return 0, fmt.Errorf("%q is above the maximum of %s CNJ", s, Format(MaxMoney))
	}
	return u, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Format writes base units as decimal CNJ with no trailing zeros: 150000000
// is "1.5", 100000000 is "1", 1 is "0.00000001".
func Format(u Units) string {
	s := strconv.FormatUint(u/Coin, 10)
	if f := u % Coin; f != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%08d", f), "0")
	}
	return s
}

// ErrOverflow is returned by Add when a sum leaves the valid range.
var ErrOverflow = errors.New("sum above the maximum amount")

// Add returns a+b, or ErrOverflow when either or the sum is above MaxMoney.
func Add(a, b Units) (Units, error) {
	if a > MaxMoney || b > MaxMoney || a+b > MaxMoney {
		return 0, ErrOverflow
	}
	return a + b, nil
}
