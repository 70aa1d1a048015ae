package jsonl

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/coniunctum/cnj/lib/rule"
)

// Limits of Parse. They bound the memory one hostile line can cost; a line
// past any of them is bad-json.
const (
	// MaxDepth is the deepest nesting of objects and arrays; the top-level
	// object counts as 1 (a block's transactions are at depth 3).
	MaxDepth = 4
	// MaxKeys is the most keys an object may have.
	MaxKeys = 64
	// MaxArray is the most elements an array may have. A block of
	// 1,000,000 bytes holds about 2,000 transactions of 500 bytes.
	MaxArray = 20000
	// MaxString is the longest string or key, in bytes.
	MaxString = 256
)

// Kind is the JSON kind of a Value. The zero Kind belongs to no parsed value.
type Kind uint8

// The kinds of Value.
const (
	String Kind = iota + 1
	Number
	Object
	Array
	Bool
	Null
)

var kindNames = [...]string{"invalid", "string", "number", "object", "array", "bool", "null"}

// String returns the kind's name as messages use it: "string", "number" and
// so on.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Value is one parsed JSON value. Only the field of its Kind is set: Str for
// String, Num for Number, Bool for Bool, Obj (in line order) for Object and
// Arr for Array. Str and keys never share memory with the parsed line.
type Value struct {
	Kind Kind
	Str  string
	Num  uint64
	Bool bool
	Obj  []Field
	Arr  []Value
}

// Field is one key and its value in an object.
type Field struct {
	Key string
	Val Value
}

// Byte classes for the scanning loops.
const (
	cStr = 1 << iota // stands for itself inside a string
	cNum             // may continue a number token (classified afterwards)
)

var class = func() (t [256]uint8) {
	for c := 0x20; c < 0x7f; c++ {
		if c != '"' && c != '\\' {
			t[c] |= cStr
		}
	}
	for _, c := range []byte("0123456789+-.eE") {
		t[c] |= cNum
	}
	return t
}()

// Parse parses exactly one JSON object from line, which holds no newline;
// spaces and tabs may surround it and its tokens. It returns a Value of kind
// Object, or a *rule.Error coded bad-json, bad-number or duplicate-key (the
// rules are in the package documentation), never both. Parse does not
// retain line: every string in the Value is a copy, so the caller may reuse
// the buffer. It is safe for concurrent use.
func Parse(line []byte) (Value, error) {
	return ParseSkipping(line, "")
}

// ParseSkipping is Parse, except that the value of the top-level key skip
// is checked and not kept: it is scanned by the same code under the same
// limits, so a line gets the very error Parse gives it, but the result
// holds that key's value as its Kind alone, with nothing in it. On a block
// line whose transactions are skipped it costs a fraction of Parse (no
// string or container is copied out). An empty skip skips nothing.
func ParseSkipping(line []byte, skip string) (Value, error) {
	p := parsers.Get().(*parser)
	p.skip = skip
	v, err := p.parse(line)
	p.release()
	return v, err
}

// parser holds one Parse's state. Parsers are pooled so that their scratch
// stacks and key table survive between lines.
type parser struct {
	b   []byte
	i   int
	key string // key whose value is being parsed, for messages
	// sem is the first bad-number or duplicate-key. Parsing goes on after
	// it, because a syntax error anywhere in the line takes precedence.
	sem error
	// skip is ParseSkipping's top-level key; discard counts the values
	// being scanned inside it, which are checked but not kept.
	skip    string
	discard int

	// Objects and arrays collect their members on these shared stacks and
	// copy them out at the closing bracket, so each container costs one
	// allocation of its exact size. fHi and vHi are high-water marks, for
	// clearing what the pooled stacks still reference.
	fields   []Field
	vals     []Value
	fHi, vHi int

	// keys is a direct-mapped cache of object keys: records repeat the same
	// few keys on every line and in every transaction of a block, and a hit
	// saves an allocation.
	keys [256]string
}

// maxPooledArr bounds the value stack kept in the pool; a bigger one, left
// by a huge array, is dropped for the collector.
const maxPooledArr = 1 << 13

var parsers = sync.Pool{New: func() any { return new(parser) }}

func (p *parser) release() {
	clear(p.fields[:max(p.fHi, len(p.fields))])
	clear(p.vals[:max(p.vHi, len(p.vals))])
	p.fields, p.vals = p.fields[:0], p.vals[:0]
	p.fHi, p.vHi = 0, 0
	p.b, p.key, p.sem = nil, "", nil
	p.skip, p.discard = "", 0
	if cap(p.vals) > maxPooledArr {
		return
	}
	parsers.Put(p)
}

func (p *parser) parse(line []byte) (Value, error) {
	p.b, p.i, p.key, p.sem = line, 0, "", nil
	p.ws()
	if p.i == len(p.b) {
		return Value{}, rule.Errorf(rule.BadJSON, "empty line")
	}
	if p.b[p.i] != '{' {
		return Value{}, p.syntax("line is not an object")
	}
	v, err := p.object(1)
	if err != nil {
		return Value{}, err
	}
	p.ws()
	if p.i != len(p.b) {
		return Value{}, p.syntax("data after the object")
	}
	if p.sem != nil {
		return Value{}, p.sem
	}
	return v, nil
}

// ws skips JSON whitespace as the records allow it: spaces and tabs.
func (p *parser) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t') {
		p.i++
	}
}

// value parses the value at p.i, inside a container at the given depth.
func (p *parser) value(depth int) (Value, error) {
	if p.i >= len(p.b) {
		return Value{}, p.syntax("truncated")
	}
	switch c := p.b[p.i]; c {
	case '{', '[':
		if depth >= MaxDepth {
			return Value{}, p.syntax(fmt.Sprintf("nested deeper than %d", MaxDepth))
		}
		if c == '{' {
			return p.object(depth + 1)
		}
		return p.array(depth + 1)
	case '"':
		s, err := p.str()
		if err != nil {
			return Value{}, err
		}
		if p.discard > 0 {
			return Value{Kind: String}, nil
		}
		return Value{Kind: String, Str: string(s)}, nil
	case 't':
		return p.literal("true", Value{Kind: Bool, Bool: true})
	case 'f':
		return p.literal("false", Value{Kind: Bool})
	case 'n':
		return p.literal("null", Value{Kind: Null})
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return p.number(), nil
		}
		return Value{}, p.syntax("unexpected " + describe(c))
	}
}

func (p *parser) literal(word string, v Value) (Value, error) {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return Value{}, p.syntax("bad literal, want " + word)
	}
	p.i += len(word)
	return v, nil
}

// object parses the object at p.i ('{'), which is at the given depth.
func (p *parser) object(depth int) (Value, error) {
	outer := p.key
	base := len(p.fields)
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return Value{Kind: Object}, nil
	}
	for {
		if p.i >= len(p.b) {
			return Value{}, p.syntax("truncated")
		}
		if p.b[p.i] != '"' {
			return Value{}, p.syntax("want a key, got " + describe(p.b[p.i]))
		}
		if len(p.fields)-base == MaxKeys {
			return Value{}, p.syntax(fmt.Sprintf("more than %d keys", MaxKeys))
		}
		kb, err := p.str()
		if err != nil {
			return Value{}, err
		}
		key := p.intern(kb)
		p.key = key
		if p.sem == nil {
			p.checkDup(p.fields[base:], key)
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return Value{}, p.syntax("want ':' after the key")
		}
		p.i++
		p.ws()
		skipped := depth == 1 && p.skip != "" && key == p.skip
		if skipped {
			p.discard++
		}
		v, err := p.value(depth)
		if skipped {
			p.discard--
			v = Value{Kind: v.Kind}
		}
		if err != nil {
			return Value{}, err
		}
		p.fields = append(p.fields, Field{Key: key, Val: v})
		p.ws()
		if p.i >= len(p.b) {
			return Value{}, p.syntax("truncated")
		}
		c := p.b[p.i]
		p.i++
		if c == '}' {
			break
		}
		if c != ',' {
			p.i--
			return Value{}, p.syntax("want ',' or '}', got " + describe(c))
		}
		p.ws()
	}
	p.fHi = max(p.fHi, len(p.fields))
	p.key = outer
	if p.discard > 0 {
		p.fields = p.fields[:base]
		return Value{Kind: Object}, nil
	}
	obj := make([]Field, len(p.fields)-base)
	copy(obj, p.fields[base:])
	p.fields = p.fields[:base]
	return Value{Kind: Object, Obj: obj}, nil
}

// array parses the array at p.i ('['), which is at the given depth.
func (p *parser) array(depth int) (Value, error) {
	base := len(p.vals)
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return Value{Kind: Array}, nil
	}
	for {
		if len(p.vals)-base == MaxArray {
			return Value{}, p.syntax(fmt.Sprintf("more than %d array elements", MaxArray))
		}
		v, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		p.vals = append(p.vals, v)
		p.ws()
		if p.i >= len(p.b) {
			return Value{}, p.syntax("truncated")
		}
		c := p.b[p.i]
		p.i++
		if c == ']' {
			break
		}
		if c != ',' {
			p.i--
			return Value{}, p.syntax("want ',' or ']', got " + describe(c))
		}
		p.ws()
	}
	p.vHi = max(p.vHi, len(p.vals))
	if p.discard > 0 {
		p.vals = p.vals[:base]
		return Value{Kind: Array}, nil
	}
	arr := make([]Value, len(p.vals)-base)
	copy(arr, p.vals[base:])
	p.vals = p.vals[:base]
	return Value{Kind: Array, Arr: arr}, nil
}

// str scans the string at p.i ('"') and returns its bytes, which alias the
// line.
func (p *parser) str() ([]byte, error) {
	b := p.b
	start := p.i + 1
	end := min(len(b), start+MaxString+1)
	i := start
	for i+8 <= end && !special(binary.LittleEndian.Uint64(b[i:])) {
		i += 8
	}
	for i < end && class[b[i]]&cStr != 0 {
		i++
	}
	if i == end {
		if end == len(b) {
			p.i = i
			return nil, p.syntax("truncated string")
		}
		p.i = start
		return nil, p.syntax(fmt.Sprintf("string longer than %d bytes", MaxString))
	}
	p.i = i
	switch c := b[i]; c {
	case '"':
		p.i = i + 1
		return b[start:i], nil
	case '\\':
		return nil, p.syntax("escape in string")
	default:
		return nil, p.syntax(describe(c) + " in string")
	}
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// special reports whether any of the 8 bytes in x cannot stand for itself in
// a string: below 0x20, above 0x7e, '"' or '\\'. These are the exact
// "has less", "has more" and "has zero" bit tricks; borrows and carries
// between bytes can only add false flags above a true one, never invent one.
func special(x uint64) bool {
	q := x ^ lo8*'"'
	s := x ^ lo8*'\\'
	r := (x - lo8*0x20) & ^x
	r |= (x + lo8) | x
	r |= (q - lo8) & ^q
	r |= (s - lo8) & ^s
	return r&hi8 != 0
}

// number scans the maximal number-like token at p.i and converts it. A token
// that is not a plain uint64 is recorded as bad-number, not a syntax error,
// so parsing goes on.
func (p *parser) number() Value {
	b := p.b
	start := p.i
	i := start
	for i < len(b) && class[b[i]]&cNum != 0 {
		i++
	}
	p.i = i
	tok := b[start:i]
	for _, c := range tok {
		if c < '0' || c > '9' {
			if tok[0] == '-' {
				p.badNumber("negative number")
			} else {
				p.badNumber("not an integer")
			}
			return Value{Kind: Number}
		}
	}
	if len(tok) > 1 && tok[0] == '0' {
		p.badNumber("leading zero")
		return Value{Kind: Number}
	}
	// 19 digits always fit a uint64; a 20th may overflow; 21 always do.
	var n uint64
	for j, c := range tok {
		d := uint64(c - '0')
		if j >= 19 && (j > 19 || n > (1<<64-1-d)/10) {
			p.badNumber("number above 18446744073709551615")
			return Value{Kind: Number}
		}
		n = n*10 + d
	}
	return Value{Kind: Number, Num: n}
}

func (p *parser) badNumber(msg string) {
	if p.sem == nil {
		p.sem = rule.Errorf(rule.BadNumber, "%s", p.where(msg))
	}
}

// checkDup records duplicate-key when key equals an earlier key of the same
// object up to ASCII case.
func (p *parser) checkDup(prev []Field, key string) {
	for _, f := range prev {
		if len(f.Key) != len(key) || !equalFold(f.Key, key) {
			continue
		}
		if f.Key == key {
			p.sem = rule.Errorf(rule.DuplicateKey, "%q twice", key)
		} else {
			p.sem = rule.Errorf(rule.DuplicateKey, "%q and %q differ only in case", f.Key, key)
		}
		return
	}
}

// equalFold reports whether a and b, of equal length, are equal up to ASCII
// case.
func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// intern returns key as a string, reusing the string of an earlier line or
// object where it can.
func (p *parser) intern(kb []byte) string {
	n := len(kb)
	if n == 0 {
		return ""
	}
	// A cheap hash under which the keys of all record types fall in
	// distinct slots; a collision only costs an allocation.
	slot := &p.keys[uint8(n+int(kb[0])+15*int(kb[n-1])+int(kb[n/2]))]
	if *slot == string(kb) {
		return *slot
	}
	*slot = string(kb)
	return *slot
}

// syntax returns a bad-json error at the current position.
func (p *parser) syntax(msg string) error {
	return rule.Errorf(rule.BadJSON, "%s at col %d", p.where(msg), p.i+1)
}

// where prefixes msg with the key being parsed, if any.
func (p *parser) where(msg string) string {
	if p.key == "" {
		return msg
	}
	return fmt.Sprintf("%q: %s", p.key, msg)
}

// describe names a byte for a message.
func describe(c byte) string {
	switch {
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("control character 0x%02x", c)
	case c >= 0x80:
		return fmt.Sprintf("non-ascii byte 0x%02x", c)
	default:
		return fmt.Sprintf("%q", c)
	}
}
