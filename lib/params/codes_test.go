package params

import (
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestGenesisRuleCodes: each code of a genesis line, produced and only just
// missed.
func TestGenesisRuleCodes(t *testing.T) {
	good := string(Main().JSON())
	parse := func(line string) func() error {
		return func() error { _, err := Parse([]byte(line)); return err }
	}
	with := func(old, new string) func() error { return parse(strings.Replace(good, old, new, 1)) }
	// padded is the genesis line with spaces after it, n bytes in all.
	padded := func(n int) func() error { return parse(good + strings.Repeat(" ", n-len(good))) }
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "max_block_bytes one below 4096",
			Code:    rule.BadGenesis,
			Produce: with(`"max_block_bytes":1048576`, `"max_block_bytes":4095`),
			Miss:    with(`"max_block_bytes":1048576`, `"max_block_bytes":4096`),
		},
		{
			Name:    "spacing one above a day",
			Code:    rule.BadGenesis,
			Produce: with(`"spacing":600`, `"spacing":86401`),
			Miss:    with(`"spacing":600`, `"spacing":86400`),
		},
		{
			Name:    "line one byte longer than MaxGenesisLine",
			Code:    rule.TooLarge,
			Produce: padded(MaxGenesisLine + 1),
			Miss:    padded(MaxGenesisLine),
		},
	})
}
