// Package ruletest runs the tables that pin each reason code of package
// rule at its limit: every code has a case that produces it through the
// public API of the lowest package that refuses with it, and the same
// input one step inside the limit, which passes (or, where the limit
// separates two codes, gets the other one).
//
// The tables live in the _test files of the packages that produce the
// codes, in tests named Test*RuleCodes, as []ruletest.Case literals with
// keyed fields; lib/rule's TestEveryCodeHasTests reads those files and
// fails for a code without a case. It is for tests only: nothing outside
// _test files imports it.
package ruletest

import (
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

// Case is one reason code at one limit.
type Case struct {
	Name string
	Code rule.Code
	// Produce is input one step past the limit: it must fail with Code.
	Produce func() error
	// Miss is the same input one step inside the limit: it must pass, or
	// fail with MissCode when that is set (a limit between two codes).
	Miss     func() error
	MissCode rule.Code
}

// Run runs each case as a subtest named code/name, checking codes with
// rule.CodeOf and never message wording.
func Run(t *testing.T, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(string(c.Code)+"/"+c.Name, func(t *testing.T) {
			if err := c.Produce(); rule.CodeOf(err) != c.Code {
				t.Errorf("produce: got %v (code %q), want code %q", err, rule.CodeOf(err), c.Code)
			}
			switch err := c.Miss(); {
			case c.MissCode == "" && err != nil:
				t.Errorf("just missing %s: got %v, want no error", c.Code, err)
			case c.MissCode != "" && rule.CodeOf(err) != c.MissCode:
				t.Errorf("just missing %s: got %v (code %q), want code %q", c.Code, err, rule.CodeOf(err), c.MissCode)
			}
		})
	}
}
