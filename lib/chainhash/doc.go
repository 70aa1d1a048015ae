// Package chainhash is the one reader and printer of the fixed-size binary
// values that Coniunctum writes as hex: Hash, 32 bytes (block hashes,
// merkle roots, transfer hashes, the genesis hash) and ID, 16 bytes (a
// transfer's id). DESIGN.md, "Data": binary fields are lowercase hex, and
// JSON input with a wrong hex length is refused; cnj-format(5) lists the
// fields.
//
// ParseHash and ParseID read exactly 64 and 32 lowercase hex digits;
// String and AppendHex print them back in the byte order they were
// computed in, so that an accepted string prints back to itself. Decode is
// the same reader for a field of any fixed length (keys, signatures,
// targets, salts): package jsonl reads every hex field of a record through
// it, and package keys its key file.
//
// Hash and ID are arrays: a Hash is assignable to and from a [32]byte, so
// code that keeps hashes as [32]byte needs no conversion.
//
// What it does not do: it computes no hash (lib/tx, lib/block and
// lib/params do), and it knows no field name; callers name the field in
// their own error.
//
// # Errors
//
// Every refusal is a *rule.Error with code bad-hex (rule.BadHex): a string
// of the wrong length, or one holding anything but '0'-'9' and 'a'-'f'
// (uppercase is refused: one value, one spelling). The message never
// quotes the input, which may be a secret (a key file's seed).
package chainhash
