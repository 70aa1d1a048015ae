// Package jsonl is the strict JSON-lines decoder that every Coniunctum record
// goes through: transactions, blocks, genesis files, mempool, rejects and
// relay lines are each one JSON object on one line.
//
// Hashes and signatures are never computed over JSON text, but decoding must
// still give a line exactly one meaning (DESIGN.md, "Every command": "unknown
// fields, duplicate or case-variant keys, floats, leading zeros and wrong hex
// lengths are rejected"). encoding/json accepts most of those, so Parse is a
// small hand-written, one-pass parser for the subset of JSON the records use:
//
//   - the line holds one object; spaces and tabs may surround it and its
//     tokens;
//   - strings are printable ASCII (0x20..0x7e) without any backslash escape:
//     records carry only hex, addresses, network names and IP addresses;
//   - numbers are unsigned decimal integers that fit a uint64, with no sign,
//     fraction, exponent or leading zero ("0" itself is fine);
//   - true, false and null parse, so that schema access can refuse them by
//     key with bad-field;
//   - no key appears twice in an object, not even up to ASCII case.
//
// Parse bounds the memory a hostile line can cost: at most MaxDepth nested
// containers, MaxKeys keys per object, MaxArray elements per array and
// MaxString bytes per string or key.
//
// Obj gives schema access to a parsed object (String, Uint, Bool, Hex,
// HexTo, Array, Object, Get) and remembers which keys were read, so Done can
// refuse the first key nobody asked for. A record decoder reads every field
// it knows and ends with Done:
//
//	o, err := v.Object()
//	...
//	if err := o.HexTo("id", t.ID[:]); err != nil { return err }
//	if t.Amount, err = o.Uint("amount"); err != nil { return err }
//	...
//	return o.Done()
//
// Reader splits a stream into lines with a hard size cap, counts them for
// error messages, and tells a torn last line (no newline) from a whole one.
//
// What it does not do: it knows no record type (lib/tx, lib/block and
// lib/params own their schemas, field lengths and canonical encodings), it
// does not encode JSON, and it never prints, logs or exits.
//
// # Errors
//
// Every refusal is a *rule.Error; tests and rejects.log use its code:
//
//   - bad-json: not strict JSON. Syntax errors, truncation, an empty line,
//     a top level that is not an object, trailing bytes, control characters
//     (NUL, CR, LF, DEL and everything below 0x20 but a tab between tokens),
//     non-ASCII bytes, backslash escapes, and any limit above exceeded.
//   - bad-number: a number that is negative, fractional, has an exponent or a
//     leading zero, or does not fit a uint64.
//   - duplicate-key: a key twice in one object, or two keys equal up to ASCII
//     case ("amount" and "Amount"). Keys are otherwise case sensitive.
//   - missing-field, bad-field, bad-hex, unknown-field: from Obj, naming the
//     key.
//   - too-large: from Reader, a line longer than its cap.
//
// bad-json takes precedence: a line that is not well-formed is bad-json even
// when it also holds a bad number or a duplicate key, and of the other two the
// first in the line wins. So the code of a line does not depend on where the
// parser happened to stop.
package jsonl
