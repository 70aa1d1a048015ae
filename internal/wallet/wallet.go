// Package wallet is what the wallet-holder commands share: asking for a
// passphrase (terminal or file, never argv), opening a key file, the
// {"address","pubkey"} line, and which network an address is printed for.
//
// It never prints; callers write what it returns.
package wallet

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
)

// Passphrase reads the passphrase from file when given, else asks on the
// terminal (twice when confirm is set).
func Passphrase(file string, confirm bool) ([]byte, error) {
	if file != "" {
		return keys.ReadPassphraseFile(file)
	}
	prompt := "passphrase: "
	return keys.PromptPassphrase(prompt, confirm)
}

// OpenKey opens the key file at path. The file's mode is checked before the
// passphrase is asked for, so a group-readable key is refused at once.
func OpenKey(path, passFile string) (ed25519.PrivateKey, error) {
	if err := keys.CheckKeyFileMode(path); err != nil {
		return nil, err
	}
	pass, err := Passphrase(passFile, false)
	if err != nil {
		return nil, err
	}
	return keys.ReadKeyFile(path, pass, keys.DefaultMaxWorkFactor)
}

// KeyLine is the one-line JSON description of a key on a network.
func KeyLine(p *params.Params, pub ed25519.PublicKey) []byte {
	return fmt.Appendf(nil, `{"address":%q,"network":%q,"pubkey":%q}`+"\n",
		keys.Address(p.AddressPrefix, pub), p.Network, hex.EncodeToString(pub))
}

// Network picks the network addresses are printed for: the one named by
// network if set, else the chain directory's genesis when dir holds one,
// else main.
func Network(network, dir string) (*params.Params, error) {
	if network != "" && network != "main" {
		return nil, fmt.Errorf("--network %s: only main is built in; for a devnet use --chain DIR", network)
	}
	if network == "main" {
		return params.Main(), nil
	}
	p, err := chaindir.Dir(dir).ReadGenesis()
	if errors.Is(err, fs.ErrNotExist) {
		return params.Main(), nil
	}
	return p, err
}

// WorkFactor reads v, the value of CNJ_SCRYPT_WORK_FACTOR: a lower scrypt
// cost for tests and slow machines (each step down halves the work an
// attacker needs per guess, so the default is for keys that hold money).
// Empty is 0, the default; anything but a whole number from 10 to
// keys.DefaultMaxWorkFactor, written plainly, is an error.
func WorkFactor(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 10 || n > keys.DefaultMaxWorkFactor || strconv.Itoa(n) != v {
		return 0, fmt.Errorf("CNJ_SCRYPT_WORK_FACTOR=%s: want a whole number from 10 to %d", v, keys.DefaultMaxWorkFactor)
	}
	return n, nil
}
