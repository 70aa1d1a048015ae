package block

import (
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestBlockLineRuleCodes: each code of a block line's schema, produced and
// only just missed.
func TestBlockLineRuleCodes(t *testing.T) {
	b := sampleBlock(1)
	good := string(b.JSON())
	txs := good[strings.Index(good, `"transactions"`):]
	reward := string(b.Reward.AppendJSON(nil))
	parse := func(line string) func() error {
		return func() error { _, err := Parse([]byte(line)); return err }
	}
	miner := func(n int) string {
		return strings.Replace(good, b.Miner, b.Miner[:5]+strings.Repeat("a", n-5), 1)
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "no transactions, not even the reward",
			Code:    rule.NoReward,
			Produce: parse(strings.Replace(good, txs, `"transactions":[]}`, 1)),
			Miss:    parse(strings.Replace(good, txs, `"transactions":[`+reward+`]}`, 1)),
		},
		{
			Name:    "a second reward where a transfer goes",
			Code:    rule.ExtraReward,
			Produce: parse(strings.Replace(good, txs, `"transactions":[`+reward+`,`+reward+`]}`, 1)),
			Miss:    parse(good),
		},
		{
			Name:    "miner one byte longer than MaxMinerLen",
			Code:    rule.BadAddress,
			Produce: parse(miner(MaxMinerLen + 1)),
			Miss:    parse(miner(MaxMinerLen)),
		},
	})
}
