package wallet_test

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
)

// testWorkFactor keeps each key file at about a millisecond of scrypt.
const testWorkFactor = 10

// newChain makes a devnet chain directory and returns it with its network.
// All the building of this package's tests is here, so that a change of
// the directory API is a change of this function alone.
func newChain(t *testing.T) (string, *params.Params) {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "chain")
	if err := node.Create(dir, p); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

// writeKey writes priv to a new key file under pass and returns its path
// and that of a file holding pass.
func writeKey(t *testing.T, priv ed25519.PrivateKey, pass string) (key, passFile string) {
	t.Helper()
	dir := t.TempDir()
	key, passFile = filepath.Join(dir, "wallet.key"), filepath.Join(dir, "pass")
	if err := keys.WriteKeyFile(key, priv, []byte(pass), testWorkFactor); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(passFile, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, passFile
}
