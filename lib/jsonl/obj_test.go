package jsonl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
)

func TestObj(t *testing.T) {
	const line = `{"s":"abc","n":42,"t":true,"z":null,"a":[1,"x"],"o":{"k":"v"},` +
		`"h":"00ff7a","up":"00FF7A","odd":"abc","g":"0g","e":"","Amount":5}`
	tests := []struct {
		name string
		call func(o *Obj) (any, error)
		want any
		code rule.Code
	}{
		{"string", func(o *Obj) (any, error) { return o.String("s") }, "abc", ""},
		{"uint", func(o *Obj) (any, error) { return o.Uint("n") }, uint64(42), ""},
		{"bool", func(o *Obj) (any, error) { return o.Bool("t") }, true, ""},
		{"array", func(o *Obj) (any, error) { a, err := o.Array("a"); return len(a), err }, 2, ""},
		{"object", func(o *Obj) (any, error) {
			c, err := o.Object("o")
			if err != nil {
				return nil, err
			}
			return c.String("k")
		}, "v", ""},
		{"hex", func(o *Obj) (any, error) { return o.Hex("h", 3) }, []byte{0x00, 0xff, 0x7a}, ""},
		{"empty hex", func(o *Obj) (any, error) { return o.Hex("e", 0) }, []byte{}, ""},
		{"get", func(o *Obj) (any, error) { v, ok := o.Get("n"); return ok && v.Num == 42, nil }, true, ""},
		{"get missing", func(o *Obj) (any, error) { _, ok := o.Get("nope"); return ok, nil }, false, ""},
		{"has", func(o *Obj) (any, error) { return o.Has("s"), nil }, true, ""},
		{"has missing", func(o *Obj) (any, error) { return o.Has("S"), nil }, false, ""},

		{"missing string", func(o *Obj) (any, error) { return o.String("nope") }, nil, rule.MissingField},
		{"missing uint", func(o *Obj) (any, error) { return o.Uint("nope") }, nil, rule.MissingField},
		{"missing hex", func(o *Obj) (any, error) { return o.Hex("nope", 1) }, nil, rule.MissingField},
		{"missing array", func(o *Obj) (any, error) { return o.Array("nope") }, nil, rule.MissingField},
		{"missing object", func(o *Obj) (any, error) { return o.Object("nope") }, nil, rule.MissingField},
		{"missing bool", func(o *Obj) (any, error) { return o.Bool("nope") }, nil, rule.MissingField},
		{"case sensitive", func(o *Obj) (any, error) { return o.Uint("amount") }, nil, rule.MissingField},

		{"string is number", func(o *Obj) (any, error) { return o.String("n") }, nil, rule.BadField},
		{"uint is string", func(o *Obj) (any, error) { return o.Uint("s") }, nil, rule.BadField},
		{"uint is null", func(o *Obj) (any, error) { return o.Uint("z") }, nil, rule.BadField},
		{"uint is bool", func(o *Obj) (any, error) { return o.Uint("t") }, nil, rule.BadField},
		{"string is null", func(o *Obj) (any, error) { return o.String("z") }, nil, rule.BadField},
		{"array is object", func(o *Obj) (any, error) { return o.Array("o") }, nil, rule.BadField},
		{"object is array", func(o *Obj) (any, error) { return o.Object("a") }, nil, rule.BadField},
		{"bool is null", func(o *Obj) (any, error) { return o.Bool("z") }, nil, rule.BadField},
		{"hex is number", func(o *Obj) (any, error) { return o.Hex("n", 1) }, nil, rule.BadField},

		{"hex uppercase", func(o *Obj) (any, error) { return o.Hex("up", 3) }, nil, rule.BadHex},
		{"hex too short", func(o *Obj) (any, error) { return o.Hex("h", 4) }, nil, rule.BadHex},
		{"hex too long", func(o *Obj) (any, error) { return o.Hex("h", 2) }, nil, rule.BadHex},
		{"hex odd length", func(o *Obj) (any, error) { return o.Hex("odd", 2) }, nil, rule.BadHex},
		{"hex not hex", func(o *Obj) (any, error) { return o.Hex("g", 1) }, nil, rule.BadHex},
		{"hex not hex string", func(o *Obj) (any, error) { return o.Hex("s", 1) }, nil, rule.BadHex},
		{"hex negative length", func(o *Obj) (any, error) { return o.Hex("h", -1) }, nil, rule.BadHex},
		{"hex empty want one", func(o *Obj) (any, error) { return o.Hex("e", 1) }, nil, rule.BadHex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Parse([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			o, err := v.Object()
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.call(o)
			if code := rule.CodeOf(err); code != tt.code {
				t.Fatalf("got error %v, want code %q", err, tt.code)
			}
			if err != nil {
				if !strings.Contains(err.Error(), `"`) {
					t.Errorf("error %q does not name the key", err)
				}
				return
			}
			if b, ok := tt.want.([]byte); ok {
				if !bytes.Equal(got.([]byte), b) {
					t.Errorf("got %x, want %x", got, b)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHexTo(t *testing.T) {
	v, err := Parse([]byte(`{"id":"00112233445566778899aabbccddeeff","x":"0011"}`))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := v.Object()
	var id [16]byte
	if err := o.HexTo("id", id[:]); err != nil {
		t.Fatal(err)
	}
	if id != [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff} {
		t.Fatalf("id = %x", id)
	}
	var short [3]byte
	if err := o.HexTo("x", short[:]); !rule.Is(err, rule.BadHex) {
		t.Fatalf("HexTo into 3 bytes = %v, want bad-hex", err)
	}
}

// TestHexDigits checks every byte in every position of a one-byte field.
func TestHexDigits(t *testing.T) {
	for c := 0x20; c < 0x7f; c++ {
		if c == '"' || c == '\\' {
			continue
		}
		valid := '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
		for _, s := range []string{string(rune(c)) + "0", "0" + string(rune(c))} {
			v, err := Parse([]byte(`{"h":"` + s + `"}`))
			if err != nil {
				t.Fatal(err)
			}
			o, _ := v.Object()
			_, err = o.Hex("h", 1)
			if (err == nil) != valid {
				t.Errorf("Hex(%q) = %v, valid %v", s, err, valid)
			}
		}
	}
}

func TestDone(t *testing.T) {
	tests := []struct {
		name string
		line string
		read []string
		code rule.Code
		key  string // named by the error
	}{
		{"all read", `{"a":1,"b":2}`, []string{"a", "b"}, "", ""},
		{"empty", `{}`, nil, "", ""},
		{"first unread", `{"a":1,"b":2,"c":3}`, []string{"a"}, rule.UnknownField, `"b"`},
		{"case variant", `{"Amount":5}`, []string{"amount"}, rule.UnknownField, `"Amount"`},
		{"failed read counts", `{"a":"x"}`, []string{"a"}, "", ""},
		{"has does not count", `{"a":1}`, []string{"a#has"}, rule.UnknownField, `"a"`},
		{"get counts", `{"a":1}`, []string{"a#get"}, "", ""},
		{"64 keys all read", keys(64), keyNames(64), "", ""},
		{"64 keys last unread", keys(64), keyNames(63), rule.UnknownField, `"k63"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Parse([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			o, err := v.Object()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.read {
				k, how, _ := strings.Cut(k, "#")
				switch how {
				case "has":
					o.Has(k)
				case "get":
					o.Get(k)
				default: // a read, even one that fails, counts
					o.Uint(k)
				}
			}
			err = o.Done()
			if code := rule.CodeOf(err); code != tt.code {
				t.Fatalf("Done() = %v, want code %q", err, tt.code)
			}
			if err != nil && !strings.Contains(err.Error(), tt.key) {
				t.Errorf("Done() = %v, want it to name %s", err, tt.key)
			}
		})
	}
}

func keyNames(n int) []string {
	var ks []string
	for i := range n {
		ks = append(ks, "k"+itoa(i))
	}
	return ks
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestValueObject(t *testing.T) {
	for _, v := range []Value{{}, {Kind: String}, {Kind: Array}, {Kind: Null}} {
		if _, err := v.Object(); !rule.Is(err, rule.BadField) {
			t.Errorf("%v.Object() = %v, want bad-field", v.Kind, err)
		}
	}
	big := Value{Kind: Object, Obj: make([]Field, MaxKeys+1)}
	if _, err := big.Object(); !rule.Is(err, rule.BadField) {
		t.Errorf("object of %d keys: %v, want bad-field", MaxKeys+1, err)
	}
}

// TestDecodeTx is how lib/tx is expected to use the package.
func TestDecodeTx(t *testing.T) {
	v, err := Parse([]byte(txLine))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeTx(v); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, from, to string
		code           rule.Code
	}{
		{"unknown field", `"fee":1000`, `"fee":1000,"memo":"hi"`, rule.UnknownField},
		{"case variant of a field", `"fee":1000`, `"Fee":1000`, rule.MissingField},
		{"short id", `"id":"00112233445566778899aabbccddeeff"`, `"id":"00112233445566778899aabbccddee"`, rule.BadHex},
		{"uppercase id", `"id":"00112233445566778899aabbccddeeff"`, `"id":"00112233445566778899AABBCCDDEEFF"`, rule.BadHex},
		{"amount as string", `"amount":150000000`, `"amount":"150000000"`, rule.BadField},
		{"amount null", `"amount":150000000`, `"amount":null`, rule.BadField},
	} {
		line := strings.Replace(txLine, tt.from, tt.to, 1)
		v, err := Parse([]byte(line))
		if err == nil {
			err = decodeTx(v)
		}
		if rule.CodeOf(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
}

func decodeTx(v Value) error {
	o, err := v.Object()
	if err != nil {
		return err
	}
	var id [16]byte
	var pub, hash [32]byte
	var sig [64]byte
	if _, err := o.String("type"); err != nil {
		return err
	}
	if err := o.HexTo("id", id[:]); err != nil {
		return err
	}
	if err := o.HexTo("pubkey", pub[:]); err != nil {
		return err
	}
	if err := o.HexTo("hash", hash[:]); err != nil {
		return err
	}
	if err := o.HexTo("signature", sig[:]); err != nil {
		return err
	}
	for _, k := range []string{"sender", "receiver"} {
		if _, err := o.String(k); err != nil {
			return err
		}
	}
	for _, k := range []string{"amount", "fee", "timestamp"} {
		if _, err := o.Uint(k); err != nil {
			return err
		}
	}
	return o.Done()
}
