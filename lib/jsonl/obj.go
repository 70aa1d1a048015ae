package jsonl

import (
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/rule"
)

// Obj gives schema access to an object: each accessor finds a key (case
// sensitive, so "amount" never matches "Amount"), checks the kind of its
// value, and remembers that the key was read, so that Done can refuse the
// first key the schema never asked for. Errors name the key:
// missing-field when it is absent, bad-field when its value is of another
// kind (null and booleans included), bad-hex from Hex and HexTo.
type Obj struct {
	fields []Field
	read   uint64 // bit i: fields[i] was read; MaxKeys is 64
}

// Object returns schema access to v, or bad-field when v is not an object
// (or, built by hand, has more than MaxKeys keys).
func (v Value) Object() (*Obj, error) {
	if v.Kind != Object {
		return nil, rule.Errorf(rule.BadField, "want an object, got %s", v.Kind)
	}
	if len(v.Obj) > MaxKeys {
		return nil, rule.Errorf(rule.BadField, "object has more than %d keys", MaxKeys)
	}
	return &Obj{fields: v.Obj}, nil
}

// Typed returns v as an object and the string of its "type" key: how every
// record of cnj-format(5) opens (tx, reward, block, genesis, hello). The
// caller judges the type.
func (v Value) Typed() (*Obj, string, error) {
	o, err := v.Object()
	if err != nil {
		return nil, "", err
	}
	typ, err := o.String("type")
	if err != nil {
		return nil, "", err
	}
	return o, typ, nil
}

// ParseRecord parses a line of at most limit bytes (too-large beyond,
// naming what the line is) holding a record, and returns it as Typed does.
func ParseRecord(line []byte, what string, limit int) (*Obj, string, error) {
	if len(line) > limit {
		return nil, "", rule.Errorf(rule.TooLarge, "%s line of %d bytes, limit %d", what, len(line), limit)
	}
	v, err := Parse(line)
	if err != nil {
		return nil, "", err
	}
	return v.Typed()
}

// index returns the position of key, or -1.
func (o *Obj) index(key string) int {
	for i := range o.fields {
		if o.fields[i].Key == key {
			return i
		}
	}
	return -1
}

// Has reports whether the object has key. It does not count as reading it.
func (o *Obj) Has(key string) bool { return o.index(key) >= 0 }

// Get returns the value of key and marks it read; ok is false when the key
// is absent.
func (o *Obj) Get(key string) (v Value, ok bool) {
	i := o.index(key)
	if i < 0 {
		return Value{}, false
	}
	o.read |= 1 << i
	return o.fields[i].Val, true
}

// want returns the value of key, marked read, when it is of kind k.
func (o *Obj) want(key string, k Kind) (*Value, error) {
	i := o.index(key)
	if i < 0 {
		return nil, rule.Errorf(rule.MissingField, "%q missing", key)
	}
	o.read |= 1 << i
	v := &o.fields[i].Val
	if v.Kind != k {
		return nil, rule.Errorf(rule.BadField, "%q: want %s, got %s", key, k, v.Kind)
	}
	return v, nil
}

// String returns the string value of key.
func (o *Obj) String(key string) (string, error) {
	v, err := o.want(key, String)
	if err != nil {
		return "", err
	}
	return v.Str, nil
}

// Uint returns the number value of key. Parse has already refused anything
// but a uint64 (bad-number); ranges are the caller's to check.
func (o *Obj) Uint(key string) (uint64, error) {
	v, err := o.want(key, Number)
	if err != nil {
		return 0, err
	}
	return v.Num, nil
}

// Bool returns the boolean value of key.
func (o *Obj) Bool(key string) (bool, error) {
	v, err := o.want(key, Bool)
	if err != nil {
		return false, err
	}
	return v.Bool, nil
}

// Array returns the elements of the array value of key.
func (o *Obj) Array(key string) ([]Value, error) {
	v, err := o.want(key, Array)
	if err != nil {
		return nil, err
	}
	return v.Arr, nil
}

// Object returns schema access to the object value of key.
func (o *Obj) Object(key string) (*Obj, error) {
	v, err := o.want(key, Object)
	if err != nil {
		return nil, err
	}
	return v.Object()
}

// Hex decodes the string value of key, which must be exactly n bytes as 2n
// lowercase hex digits (bad-hex otherwise; uppercase is refused).
func (o *Obj) Hex(key string, n int) ([]byte, error) {
	if n < 0 {
		return nil, rule.Errorf(rule.BadHex, "%q: negative length %d", key, n)
	}
	b := make([]byte, n)
	if err := o.HexTo(key, b); err != nil {
		return nil, err
	}
	return b, nil
}

// HexTo is Hex into dst, whose length is the required byte count; it saves
// an allocation for fixed-size fields such as hashes. The digits are read
// by chainhash.Decode.
func (o *Obj) HexTo(key string, dst []byte) error {
	v, err := o.want(key, String)
	if err != nil {
		return err
	}
	if err := chainhash.Decode(dst, v.Str); err != nil {
		return rule.Errorf(rule.BadHex, "%q: %s", key, err.(*rule.Error).Msg)
	}
	return nil
}

// Done returns unknown-field naming the first key, in line order, that no
// accessor has read (Has does not count), or nil when all were read.
func (o *Obj) Done() error {
	for i := range o.fields {
		if o.read&(1<<i) == 0 {
			return rule.Errorf(rule.UnknownField, "%q", o.fields[i].Key)
		}
	}
	return nil
}
