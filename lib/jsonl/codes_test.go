package jsonl_test

import (
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/rule"
)

// parse parses line and returns schema access to it.
func parse(line string) (*jsonl.Obj, error) {
	v, err := jsonl.Parse([]byte(line))
	if err != nil {
		return nil, err
	}
	return v.Object()
}

// read parses line and runs read on its object.
func read(line string, read func(o *jsonl.Obj) error) func() error {
	return func() error {
		o, err := parse(line)
		if err != nil {
			return err
		}
		return read(o)
	}
}

// nested returns an object nested depth deep, the top level counting 1.
func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + `{"a":1}` + strings.Repeat(`}`, depth-1)
}

// readLine reads one line of text from a Reader capped at max bytes.
func readLine(text string, max int) func() error {
	return func() error {
		_, err := jsonl.NewReader(strings.NewReader(text+"\n"), max).Next()
		return err
	}
}

// TestDecodeRuleCodes: each decoding code of a JSON line, produced and only
// just missed.
func TestDecodeRuleCodes(t *testing.T) {
	uint64s := func(k string) func(o *jsonl.Obj) error {
		return func(o *jsonl.Obj) error { _, err := o.Uint(k); return err }
	}
	hex4 := func(o *jsonl.Obj) error { return o.HexTo("h", make([]byte, 4)) }
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "nested one level deeper than MaxDepth",
			Code:    rule.BadJSON,
			Produce: read(nested(jsonl.MaxDepth+1), func(*jsonl.Obj) error { return nil }),
			Miss:    read(nested(jsonl.MaxDepth), func(*jsonl.Obj) error { return nil }),
		},
		{
			Name:    "string one byte longer than MaxString",
			Code:    rule.BadJSON,
			Produce: read(`{"s":"`+strings.Repeat("x", jsonl.MaxString+1)+`"}`, func(*jsonl.Obj) error { return nil }),
			Miss:    read(`{"s":"`+strings.Repeat("x", jsonl.MaxString)+`"}`, func(*jsonl.Obj) error { return nil }),
		},
		{
			Name:    "line one byte longer than the reader's cap",
			Code:    rule.TooLarge,
			Produce: readLine(`{"a":12345}`, len(`{"a":12345}`)-1),
			Miss:    readLine(`{"a":12345}`, len(`{"a":12345}`)),
		},
		{
			Name:    "keys equal up to case",
			Code:    rule.DuplicateKey,
			Produce: read(`{"fee":1,"Fee":2}`, func(*jsonl.Obj) error { return nil }),
			Miss:    read(`{"fee":1,"Fed":2}`, func(*jsonl.Obj) error { return nil }),
		},
		{
			Name:    "a key nobody read",
			Code:    rule.UnknownField,
			Produce: read(`{"a":1,"b":2}`, func(o *jsonl.Obj) error { o.Uint("a"); return o.Done() }),
			Miss:    read(`{"a":1,"b":2}`, func(o *jsonl.Obj) error { o.Uint("a"); o.Uint("b"); return o.Done() }),
		},
		{
			Name:    "key absent",
			Code:    rule.MissingField,
			Produce: read(`{"amount":1}`, uint64s("fee")),
			Miss:    read(`{"amount":1,"fee":1}`, uint64s("fee")),
		},
		{
			Name:    "uint64 max plus one",
			Code:    rule.BadNumber,
			Produce: read(`{"n":18446744073709551616}`, uint64s("n")),
			Miss:    read(`{"n":18446744073709551615}`, uint64s("n")),
		},
		{
			Name:    "leading zero",
			Code:    rule.BadNumber,
			Produce: read(`{"n":01}`, uint64s("n")),
			Miss:    read(`{"n":10}`, uint64s("n")),
		},
		{
			Name:    "one hex digit short",
			Code:    rule.BadHex,
			Produce: read(`{"h":"0123456"}`, hex4),
			Miss:    read(`{"h":"01234567"}`, hex4),
		},
		{
			Name:    "uppercase hex digit",
			Code:    rule.BadHex,
			Produce: read(`{"h":"0123456A"}`, hex4),
			Miss:    read(`{"h":"0123456a"}`, hex4),
		},
		{
			Name:    "number as a string",
			Code:    rule.BadField,
			Produce: read(`{"n":"1"}`, uint64s("n")),
			Miss:    read(`{"n":1}`, uint64s("n")),
		},
	})
}
