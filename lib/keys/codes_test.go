package keys

import (
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
			Produce: parse("z" + vecLongHRP),
			Miss:    parse(vecLongHRP),
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
