package tx

import (
	"strconv"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestTxLineRuleCodes: each code of a transfer or reward line's schema,
// produced and only just missed.
func TestTxLineRuleCodes(t *testing.T) {
	base, _ := sample()
	good := string(base.AppendJSON(nil))
	ts := `"timestamp":` + strconv.FormatInt(base.Timestamp, 10)
	parse := func(line string) func() error {
		return func() error { _, err := Parse([]byte(line)); return err }
	}
	reward := func(line string) func() error {
		return func() error {
			v, err := jsonl.Parse([]byte(line))
			if err != nil {
				return err
			}
			_, err = RewardFromValue(v)
			return err
		}
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "type not a record type",
			Code:    rule.BadType,
			Produce: parse(strings.Replace(good, `"type":"tx"`, `"type":"tz"`, 1)),
			Miss:    parse(good),
		},
		{
			Name:    "timestamp MaxTimestamp+1",
			Code:    rule.BadField,
			Produce: parse(strings.Replace(good, ts, `"timestamp":`+strconv.Itoa(MaxTimestamp+1), 1)),
			Miss:    parse(strings.Replace(good, ts, `"timestamp":`+strconv.Itoa(MaxTimestamp), 1)),
		},
		{
			Name:    "a transfer where the reward goes",
			Code:    rule.NoReward,
			Produce: reward(good),
			Miss:    reward(`{"type":"reward","receiver":"x","amount":1,"index":2}`),
		},
	})
}
