package jsonl

// Fields reads an object's fields in a record's order and keeps the first
// error, so that the reason reported for a bad record is its first bad
// field. Record decoders (tx, block) read every field through it and then
// call Done.
type Fields struct {
	o   *Obj
	err error
}

// NewFields returns a reader over o.
func NewFields(o *Obj) *Fields { return &Fields{o: o} }

// Keep records err unless an earlier error is already kept.
func (f *Fields) Keep(err error) {
	if f.err == nil {
		f.err = err
	}
}

// Str reads a string field.
func (f *Fields) Str(key string) string {
	s, err := f.o.String(key)
	f.Keep(err)
	return s
}

// Uint reads a number field.
func (f *Fields) Uint(key string) uint64 {
	n, err := f.o.Uint(key)
	f.Keep(err)
	return n
}

// Hex reads a lowercase hex field of exactly len(dst) bytes into dst.
func (f *Fields) Hex(key string, dst []byte) { f.Keep(f.o.HexTo(key, dst)) }

// Array reads an array field.
func (f *Fields) Array(key string) []Value {
	a, err := f.o.Array(key)
	f.Keep(err)
	return a
}

// Done returns the first kept error, else the object's unknown-field check.
func (f *Fields) Done() error {
	if f.err != nil {
		return f.err
	}
	return f.o.Done()
}
