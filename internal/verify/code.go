package verify

import "github.com/coniunctum/cnj/lib/rule"

func ruleCode(err error) rule.Code { return rule.CodeOf(err) }
