package keys

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestAddressRuleCodes: each address code, produced and only just missed,
// on the spec vectors of address_test.go.
func TestAddressRuleCodes(t *testing.T) {
	parse := func(s string) func() error {
		return func() error { _, _, err := ParseAddress(s); return err }
	}
	check := func(s, hrp string) func() error {
		return func() error { return CheckAddress(s, hrp) }
	}
	// withPrefix is the vector payload under prefix n letters long, with
	// the checksum right for it, so that only the length can be wrong.
	withPrefix := func(n int) string {
		var payload [PayloadSize]byte
		hex.Decode(payload[:], []byte(vecPayload))
		sum := checksum(strings.Repeat("z", n), payload)
		return strings.Repeat("z", n) + "1" + vecPayload + hex.EncodeToString(sum[:])
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "last checksum digit off by one",
			Code:    rule.BadAddress,
			Produce: parse(vecMain[:len(vecMain)-1] + "a"),
			Miss:    parse(vecMain),
		},
		{
			Name:    "prefix one letter longer than MaxHRPLen",
			Code:    rule.BadAddress,
			Produce: parse(withPrefix(MaxHRPLen + 1)),
			Miss:    parse(withPrefix(MaxHRPLen)),
		},
		{
			Name:    "one hex digit short",
			Code:    rule.BadAddress,
			Produce: parse(vecDevnet[:len(vecDevnet)-1]),
			Miss:    parse(vecDevnet),
		},
		{
			Name:    "devnet address on main",
			Code:    rule.WrongNetwork,
			Produce: check(vecDevnet, MainHRP),
			Miss:    check(vecDevnet, DevnetHRP),
		},
	})
}
