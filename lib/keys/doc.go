// Package keys holds what a wallet is made of: Ed25519 keys, the wallet
// addresses derived from them, the passphrase-encrypted key file, and the
// reading of passphrases.
//
// # Addresses
//
// An address is hrp + "1" + hex(payload || checksum), 48 lowercase hex
// characters after the '1' (cnj-format(5), spec "Addresses"):
//
//	payload  = SHA-256("CNJ-ADDR" || pubkey32)[:20]
//	checksum = SHA-256(hrp || "1" || payload)[:4]
//
// The prefix (hrp) is 1 to 10 lowercase ASCII letters and names the network:
// "cnj" for main, "dcnj" for devnet. ParseAddress splits at the first '1' and
// checks format and checksum, so a mistyped address is refused before
// anything is signed; its errors carry the rule code bad-address.
// CheckAddress also compares the prefix with the chain's and refuses an
// address of another network with wrong-network ("address is for devnet,
// this chain is main"). This package does not check that a transaction's
// sender matches its pubkey: lib/tx compares Address(hrp, pubkey) with it.
//
// # Key files
//
// A key file is an age file (filippo.io/age) encrypted to an scrypt
// passphrase recipient, so `age -d FILE` opens it too. Its plaintext is one
// JSON line, in exactly this form:
//
//	{"type":"cnj-key","seed":HEX64,"pubkey":HEX64}\n
//
// WriteKeyFile creates the file with O_EXCL and mode 0600, never overwrites
// one, and syncs the file and its directory. ReadKeyFile refuses a file that
// group or others can access before decrypting it (CheckKeyFileMode lets a
// command refuse before it prompts), caps the size it reads, and tells a
// wrong passphrase (ErrWrongPassphrase) from a file that is not a key file
// (ErrNotKeyFile). Errors name the file and are one line; no error ever
// contains key material.
//
// The scrypt cost of new files is the work factor given to WriteKeyFile
// (0: DefaultWorkFactor, 18, age's own: about a second per attempt); tests
// pass a lower one to stay fast. The maximum given to ReadKeyFile (0:
// DefaultMaxWorkFactor, 22, age's own) caps what opening a file may cost.
//
// # Passphrases
//
// Passphrases come from a file (ReadPassphraseFile: its first line) or from
// the terminal (PromptPassphrase: /dev/tty, no echo, optionally twice), never
// from argv or the environment. Empty passphrases are refused. Buffers that
// held a seed or a passphrase are cleared when this package is done with
// them, as far as Go allows (age takes the passphrase as a string, which
// cannot be cleared).
//
// Like every library here, keys never prints, logs or exits, except that
// PromptPassphrase writes its prompts to the terminal.
package keys
