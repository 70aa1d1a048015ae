package jsonl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

// txLine is a transfer as lib/tx writes it (values made up).
const txLine = `{"type":"tx","id":"00112233445566778899aabbccddeeff",` +
	`"sender":"cnj1a3f09e1c5b7d2e48f60a9b1c2d3e4f5a6b7c8d9e0f1a2b3c",` +
	`"pubkey":"9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",` +
	`"receiver":"cnj17c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a3928170",` +
	`"amount":150000000,"fee":1000,"timestamp":1767225600,` +
	`"hash":"4d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4",` +
	`"signature":"0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9` +
	`0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"}`

// keys returns an object with n keys k0..k{n-1}, each with the value 0.
func keys(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":0`, i)
	}
	b.WriteString("}")
	return b.String()
}

// elems returns {"a":[0,0,...]} with n elements.
func elems(n int) string {
	return `{"a":[` + strings.TrimSuffix(strings.Repeat("0,", n), ",") + `]}`
}

func TestParseCodes(t *testing.T) {
	s256, s257 := strings.Repeat("a", MaxString), strings.Repeat("a", MaxString+1)
	tests := []struct {
		name string
		in   string
		code rule.Code // "" means accepted
	}{
		// Accepted.
		{"empty object", `{}`, ""},
		{"tx line", txLine, ""},
		{"spaces around", "  {}  ", ""},
		{"tabs around", "\t{}\t", ""},
		{"whitespace between tokens", "{ \"a\" :\t1 , \"b\" : [ 1 , { } ] }", ""},
		{"zero", `{"a":0}`, ""},
		{"max uint64", `{"a":18446744073709551615}`, ""},
		{"literals", `{"a":true,"b":false,"c":null}`, ""},
		{"empty key", `{"":1}`, ""},
		{"empty string", `{"a":""}`, ""},
		{"printable ascii", `{"a":" !#$%&'()*+,-./09:;<=>?@AZ[]^_` + "`az{|}~" + `"}`, ""},
		{"same key in nested object", `{"a":{"a":1}}`, ""},
		{"same keys in sibling objects", `{"t":[{"a":1},{"a":2}]}`, ""},
		{"keys differing in more than case", `{"ab":1,"aB1":2,"AC":3}`, ""},
		{"depth 4 arrays", `{"a":[[[1]]]}`, ""},
		{"depth 4 objects", `{"a":{"b":{"c":{}}}}`, ""},
		{"keys at limit", keys(MaxKeys), ""},
		{"string at limit", `{"a":"` + s256 + `"}`, ""},
		{"key at limit", `{"` + s256 + `":1}`, ""},
		{"array at limit", elems(MaxArray), ""},

		// Not JSON, or not the subset.
		{"empty line", ``, rule.BadJSON},
		{"blank line", " \t ", rule.BadJSON},
		{"newline", "\n", rule.BadJSON},
		{"trailing newline", "{}\n", rule.BadJSON},
		{"trailing cr", "{}\r", rule.BadJSON},
		{"leading newline", "\n{}", rule.BadJSON},
		{"newline between tokens", "{\"a\":\n1}", rule.BadJSON},
		{"form feed", "\f{}", rule.BadJSON},
		{"top array", `[]`, rule.BadJSON},
		{"top string", `"a"`, rule.BadJSON},
		{"top number", `1`, rule.BadJSON},
		{"top true", `true`, rule.BadJSON},
		{"top null", `null`, rule.BadJSON},
		{"open brace", `{`, rule.BadJSON},
		{"key only", `{"a"`, rule.BadJSON},
		{"colon only", `{"a":`, rule.BadJSON},
		{"no close", `{"a":1`, rule.BadJSON},
		{"comma then end", `{"a":1,`, rule.BadJSON},
		{"trailing comma", `{"a":1,}`, rule.BadJSON},
		{"trailing comma in array", `{"a":[1,]}`, rule.BadJSON},
		{"leading comma", `{,"a":1}`, rule.BadJSON},
		{"empty element", `{"a":[1,,2]}`, rule.BadJSON},
		{"missing colon", `{"a" 1}`, rule.BadJSON},
		{"missing comma", `{"a":1 "b":2}`, rule.BadJSON},
		{"bare key", `{a:1}`, rule.BadJSON},
		{"single quotes", `{'a':1}`, rule.BadJSON},
		{"number key", `{1:1}`, rule.BadJSON},
		{"mismatched close", `{"a":[1}`, rule.BadJSON},
		{"extra close", `{}}`, rule.BadJSON},
		{"trailing garbage", `{}x`, rule.BadJSON},
		{"two objects", `{}{}`, rule.BadJSON},
		{"two objects spaced", `{} {}`, rule.BadJSON},
		{"raw newline in string", "{\"a\":\"x\ny\"}", rule.BadJSON},
		{"tab in string", "{\"a\":\"x\ty\"}", rule.BadJSON},
		{"nul in string", "{\"a\":\"x\x00y\"}", rule.BadJSON},
		{"nul outside string", "{\"a\":1\x00}", rule.BadJSON},
		{"nul at start", "\x00{}", rule.BadJSON},
		{"del in string", "{\"a\":\"\x7f\"}", rule.BadJSON},
		{"utf-8 in string", `{"a":"é"}`, rule.BadJSON},
		{"utf-8 in key", `{"é":1}`, rule.BadJSON},
		{"byte 0xff", "{\"a\":\"\xff\"}", rule.BadJSON},
		{"bom", "\xef\xbb\xbf{}", rule.BadJSON},
		{"escaped quote", `{"a":"\""}`, rule.BadJSON},
		{"escaped backslash", `{"a":"\\"}`, rule.BadJSON},
		{"unicode escape", `{"a":"\u0041"}`, rule.BadJSON},
		{"escape in key", `{"\u0061":1}`, rule.BadJSON},
		{"unterminated string", `{"a":"abc`, rule.BadJSON},
		{"depth 5 arrays", `{"a":[[[[1]]]]}`, rule.BadJSON},
		{"depth 5 objects", `{"a":{"b":{"c":{"d":{}}}}}`, rule.BadJSON},
		{"keys past limit", keys(MaxKeys + 1), rule.BadJSON},
		{"string past limit", `{"a":"` + s257 + `"}`, rule.BadJSON},
		{"key past limit", `{"` + s257 + `":1}`, rule.BadJSON},
		{"array past limit", elems(MaxArray + 1), rule.BadJSON},
		{"truncated true", `{"a":tru}`, rule.BadJSON},
		{"capital true", `{"a":True}`, rule.BadJSON},
		{"truncated null", `{"a":nul`, rule.BadJSON},
		{"longer literal", `{"a":falsey}`, rule.BadJSON},
		{"NaN", `{"a":NaN}`, rule.BadJSON},
		{"plus sign", `{"a":+1}`, rule.BadJSON},
		{"leading dot", `{"a":.5}`, rule.BadJSON},
		{"hex number", `{"a":0x10}`, rule.BadJSON},
		{"number then letter", `{"a":1x}`, rule.BadJSON},
		{"number then space digit", `{"a":1 2}`, rule.BadJSON},
		{"syntax beats bad number", `{"a":-1,}`, rule.BadJSON},
		{"syntax beats leading zero", `{"a":01`, rule.BadJSON},
		{"syntax beats duplicate", `{"a":1,"a":2`, rule.BadJSON},
		{"nul beats bad number", "{\"a\":1.5,\"b\":\"\x00\"}", rule.BadJSON},

		// Numbers.
		{"negative", `{"a":-1}`, rule.BadNumber},
		{"negative zero", `{"a":-0}`, rule.BadNumber},
		{"lone minus", `{"a":-}`, rule.BadNumber},
		{"fraction", `{"a":1.5}`, rule.BadNumber},
		{"integral fraction", `{"a":1.0}`, rule.BadNumber},
		{"zero fraction", `{"a":0.0}`, rule.BadNumber},
		{"dot at end", `{"a":1.}`, rule.BadNumber},
		{"exponent", `{"a":1e5}`, rule.BadNumber},
		{"capital exponent", `{"a":1E5}`, rule.BadNumber},
		{"signed exponent", `{"a":1e+5}`, rule.BadNumber},
		{"leading zero", `{"a":01}`, rule.BadNumber},
		{"double zero", `{"a":00}`, rule.BadNumber},
		{"leading zero long", `{"a":000000000000000000001}`, rule.BadNumber},
		{"max uint64 plus one", `{"a":18446744073709551616}`, rule.BadNumber},
		{"20 digits", `{"a":99999999999999999999}`, rule.BadNumber},
		{"21 digits", `{"a":100000000000000000000}`, rule.BadNumber},
		{"many digits", `{"a":` + strings.Repeat("9", 1000) + `}`, rule.BadNumber},
		{"in array", `{"a":[1,02]}`, rule.BadNumber},
		{"deep", `{"a":[{"b":-5}]}`, rule.BadNumber},
		{"first wins over duplicate", `{"a":01,"a":1}`, rule.BadNumber},

		// Keys.
		{"duplicate", `{"a":1,"a":1}`, rule.DuplicateKey},
		{"duplicate apart", `{"a":1,"b":2,"a":3}`, rule.DuplicateKey},
		{"case variant", `{"amount":1,"Amount":2}`, rule.DuplicateKey},
		{"upper first", `{"AMOUNT":1,"amount":2}`, rule.DuplicateKey},
		{"case variant empty key", `{"":1,"":2}`, rule.DuplicateKey},
		{"duplicate nested", `{"a":{"b":1,"B":1}}`, rule.DuplicateKey},
		{"duplicate in array element", `{"t":[{},{"x":1,"x":2}]}`, rule.DuplicateKey},
		{"duplicate with different kinds", `{"a":"x","a":[1]}`, rule.DuplicateKey},
		{"first wins over bad number", `{"a":1,"a":01}`, rule.DuplicateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSkipping(t, []byte(tt.in))
			v, err := Parse([]byte(tt.in))
			if got := rule.CodeOf(err); got != tt.code {
				t.Fatalf("Parse(%.80q) = %v, want code %q", tt.in, err, tt.code)
			}
			if err != nil {
				var re *rule.Error
				if !errors.As(err, &re) {
					t.Fatalf("error %v is not a *rule.Error", err)
				}
				if v.Kind != 0 {
					t.Fatalf("Parse(%.80q) returned both %v and an error", tt.in, v.Kind)
				}
				if re.Msg == "" || re.Msg != strings.ToLower(re.Msg) && !strings.Contains(re.Msg, `"`) {
					t.Errorf("message %q: want short lowercase text", re.Msg)
				}
				return
			}
			if v.Kind != Object {
				t.Fatalf("Parse(%.80q) kind = %v, want object", tt.in, v.Kind)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		in   string
		want Value
	}{
		{`{}`, Value{Kind: Object}},
		{`{"a":"x","b":0,"c":18446744073709551615}`, obj(
			Field{"a", Value{Kind: String, Str: "x"}},
			Field{"b", Value{Kind: Number}},
			Field{"c", Value{Kind: Number, Num: 1<<64 - 1}},
		)},
		{`{"t":true,"f":false,"n":null}`, obj(
			Field{"t", Value{Kind: Bool, Bool: true}},
			Field{"f", Value{Kind: Bool}},
			Field{"n", Value{Kind: Null}},
		)},
		{` {"a" : [ 1 , "b" , [ ] , { } ] } `, obj(
			Field{"a", Value{Kind: Array, Arr: []Value{
				{Kind: Number, Num: 1},
				{Kind: String, Str: "b"},
				{Kind: Array},
				{Kind: Object},
			}}},
		)},
		// Field order is kept; keys are case sensitive.
		{`{"b":{"B2":2,"a1":1}}`, obj(
			Field{"b", obj(
				Field{"B2", Value{Kind: Number, Num: 2}},
				Field{"a1", Value{Kind: Number, Num: 1}},
			)},
		)},
	}
	for _, tt := range tests {
		v, err := Parse([]byte(tt.in))
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !equal(v, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, v, tt.want)
		}
	}
}

func obj(fs ...Field) Value { return Value{Kind: Object, Obj: fs} }

// TestParseTruncated cuts valid lines at every byte: every proper prefix
// must be bad-json, never another code, never accepted.
func TestParseTruncated(t *testing.T) {
	lines := []string{
		txLine,
		`{"a":[[[1]]],"b":{"c":{"d":{}}},"e":true,"f":false,"g":null,"h":""}`,
		`{ "type" : "block" , "index" : 10 , "transactions" : [ {"x":1} , {"y":"z"} ] }`,
		blockLine(3),
	}
	for _, line := range lines {
		if _, err := Parse([]byte(line)); err != nil {
			t.Fatalf("full line %.60q: %v", line, err)
		}
		for i := range len(line) {
			_, err := Parse([]byte(line[:i]))
			if rule.CodeOf(err) != rule.BadJSON {
				t.Fatalf("Parse(%q) = %v, want bad-json", line[:i], err)
			}
		}
	}
}

// TestParseCopies checks that nothing in a Value aliases the line, which
// callers reuse.
func TestParseCopies(t *testing.T) {
	line := []byte(`{"k":"value","a":["x",{"kk":"y"}]}`)
	v, err := Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%+v", v)
	for i := range line {
		line[i] = 'Z'
	}
	if got := fmt.Sprintf("%+v", v); got != want {
		t.Fatalf("value changed with the line:\n got %s\nwant %s", got, want)
	}
}

// TestParsePooled checks that a parser returned to the pool after an error
// deep in a line leaves nothing behind for the next line.
func TestParsePooled(t *testing.T) {
	for range 100 {
		if _, err := Parse([]byte(`{"a":[{"b":1,"c":[1,2,3`)); err == nil {
			t.Fatal("truncated line accepted")
		}
		v, err := Parse([]byte(`{"a":[{"b":1}],"z":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		want := obj(
			Field{"a", Value{Kind: Array, Arr: []Value{obj(Field{"b", Value{Kind: Number, Num: 1}})}}},
			Field{"z", Value{Kind: Array}},
		)
		if !equal(v, want) {
			t.Fatalf("got %+v", v)
		}
	}
}

func TestParseMessages(t *testing.T) {
	tests := []struct{ in, msg string }{
		{`{"amount":01}`, `bad-number: "amount": leading zero`},
		{`{"fee":-1}`, `bad-number: "fee": negative number`},
		{`{"a":{"b":1},"c":1.5}`, `bad-number: "c": not an integer`},
		{`{"amount":1,"Amount":2}`, `duplicate-key: "amount" and "Amount" differ only in case`},
		{`{"id":1,"id":2}`, `duplicate-key: "id" twice`},
		{"{\"sender\":\"a\x00\"}", `bad-json: "sender": control character 0x00 in string at col 13`},
		{`{"a":"\n"}`, `bad-json: "a": escape in string at col 7`},
		{``, `bad-json: empty line`},
		{`[]`, `bad-json: line is not an object at col 1`},
		{`{"a":1`, `bad-json: "a": truncated at col 7`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		if err == nil || err.Error() != tt.msg {
			t.Errorf("Parse(%q) = %v, want %s", tt.in, err, tt.msg)
		}
	}
}

func TestKindString(t *testing.T) {
	want := []string{"invalid", "string", "number", "object", "array", "bool", "null", "kind(7)"}
	for k, w := range want {
		if got := Kind(k).String(); got != w {
			t.Errorf("Kind(%d) = %q, want %q", k, got, w)
		}
	}
}

// blockLine returns a block-like line holding a reward and n copies of
// txLine.
func blockLine(n int) string {
	var b bytes.Buffer
	b.WriteString(`{"type":"block","index":123456,"timestamp":1767225600,` +
		`"miner":"cnj17c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a3928170","proof":98765432,` +
		`"previous_hash":"0000000000000000000a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a",` +
		`"target":"00000000000000000fffffffffffffffffffffffffffffffffffffffffffffff",` +
		`"merkle_root":"5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c",` +
		`"hash":"000000000000000000012c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071",` +
		`"transactions":[{"type":"reward","receiver":"cnj17c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a3928170",` +
		`"amount":5000000000,"index":123456}`)
	for range n {
		b.WriteString(",")
		b.WriteString(txLine)
	}
	b.WriteString("]}")
	return b.String()
}

// equal reports whether two values are the same, treating nil and empty
// slices alike.
func equal(a, b Value) bool {
	if a.Kind != b.Kind || a.Str != b.Str || a.Num != b.Num || a.Bool != b.Bool ||
		len(a.Obj) != len(b.Obj) || len(a.Arr) != len(b.Arr) {
		return false
	}
	for i := range a.Obj {
		if a.Obj[i].Key != b.Obj[i].Key || !equal(a.Obj[i].Val, b.Obj[i].Val) {
			return false
		}
	}
	for i := range a.Arr {
		if !equal(a.Arr[i], b.Arr[i]) {
			return false
		}
	}
	return true
}

// encode is the test-only encoder: compact JSON of v. Accepted strings need
// no escaping.
func encode(dst []byte, v Value) []byte {
	switch v.Kind {
	case String:
		dst = append(dst, '"')
		dst = append(dst, v.Str...)
		return append(dst, '"')
	case Number:
		return strconv.AppendUint(dst, v.Num, 10)
	case Bool:
		return strconv.AppendBool(dst, v.Bool)
	case Null:
		return append(dst, "null"...)
	case Array:
		dst = append(dst, '[')
		for i, e := range v.Arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = encode(dst, e)
		}
		return append(dst, ']')
	case Object:
		dst = append(dst, '{')
		for i, f := range v.Obj {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, f.Key...)
			dst = append(dst, '"', ':')
			dst = encode(dst, f.Val)
		}
		return append(dst, '}')
	}
	panic("encode: bad kind " + v.Kind.String())
}

// TestSpecial checks the 8-byte string scan against the byte table: every
// byte value in every position, among fillers that are plain and special.
func TestSpecial(t *testing.T) {
	for _, fill := range []byte{'a', '0', 0x20, 0x7e, 0x00, 0xff, 0x7f, '"', '\\', 0x1f, 0x80} {
		for pos := range 8 {
			for c := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				want := false
				for _, x := range w {
					want = want || class[x]&cStr == 0
				}
				if got := special(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("special(% x) = %v, want %v", w, got, want)
				}
			}
		}
	}
}

// TestParseConcurrent shares the parser pool between goroutines (run with
// -race).
func TestParseConcurrent(t *testing.T) {
	lines := []string{txLine, blockLine(20), `{"a":[{"b":1,"c":[1,2,3`, `{"x":{"y":"z"}}`}
	want := make([]Value, len(lines))
	for i, l := range lines {
		want[i], _ = Parse([]byte(l))
	}
	done := make(chan bool)
	for g := range 4 {
		go func() {
			defer func() { done <- true }()
			for n := range 200 {
				i := (g + n) % len(lines)
				v, _ := Parse([]byte(lines[i]))
				if !equal(v, want[i]) {
					t.Errorf("line %d parsed differently", i)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// checkSkipping checks ParseSkipping against Parse on line, skipping each
// top-level key in turn and a key it lacks: the very same error, or the
// same value with the skipped key's value reduced to its kind.
func checkSkipping(t *testing.T, line []byte) {
	t.Helper()
	v, err := Parse(line)
	keys := []string{"transactions"}
	for _, f := range v.Obj {
		keys = append(keys, f.Key)
	}
	for _, key := range keys {
		if key == "" {
			continue // skips nothing: that is Parse
		}
		w, werr := ParseSkipping(line, key)
		if fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Fatalf("%.80q skipping %q: error %v, Parse gives %v", line, key, werr, err)
		}
		want := Value{Kind: v.Kind}
		for _, f := range v.Obj {
			if f.Key == key {
				f.Val = Value{Kind: f.Val.Kind}
			}
			want.Obj = append(want.Obj, f)
		}
		if !equal(want, w) {
			t.Fatalf("%.80q skipping %q: %+v, want %+v", line, key, w, want)
		}
	}
}
