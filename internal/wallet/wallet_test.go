package wallet_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/wallet"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
)

// The spec vector key of cnj-format(5): seed 00 01 02 ... 1f.
const (
	vecPub    = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
	vecMain   = "cnj1332a1dc4765ba687d2cad109c8d6251402f1e45805ba9769"
	vecDevnet = "dcnj1332a1dc4765ba687d2cad109c8d6251402f1e458879f65b6"
)

func vecKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func TestPassphraseFile(t *testing.T) {
	long := strings.Repeat("x", keys.MaxPassphraseLen)
	tests := []struct {
		name, content, want string // want "" means refused
	}{
		{"first line only", "secret\nsecond line\n", "secret"},
		{"CRLF", "secret\r\nsecond\r\n", "secret"},
		{"no newline", "secret", "secret"},
		{"spaces kept", "  two words \n", "  two words "},
		{"longest", long + "\n", long},
		{"too long", long + "x\n", ""},
		{"empty first line", "\nsecret\n", ""},
		{"empty file", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pass")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := wallet.Passphrase(path, true)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Fatalf("Passphrase = %q, %v; want an error naming the file", got, err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("Passphrase = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		if _, err := wallet.Passphrase(filepath.Join(t.TempDir(), "nope"), false); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Passphrase = %v, want not exist", err)
		}
	})
	// Only the first line is read: a pipe whose writer stays open works.
	t.Run("pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		if _, err := w.WriteString("from a pipe\n"); err != nil {
			t.Fatal(err)
		}
		got, err := wallet.Passphrase("/dev/fd/"+strconv.Itoa(int(r.Fd())), false)
		if err != nil || string(got) != "from a pipe" {
			t.Fatalf("Passphrase(pipe) = %q, %v", got, err)
		}
	})
}

func TestOpenKey(t *testing.T) {
	priv := vecKey()
	key, pass := writeKey(t, priv, "correct horse")
	got, err := wallet.OpenKey(key, pass)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("OpenKey = %v", err)
	}

	t.Run("wrong passphrase", func(t *testing.T) {
		wrong := filepath.Join(t.TempDir(), "wrong")
		if err := os.WriteFile(wrong, []byte("correct horsE\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := wallet.OpenKey(key, wrong)
		if !errors.Is(err, keys.ErrWrongPassphrase) || got != nil || !strings.Contains(err.Error(), key) {
			t.Fatalf("OpenKey = %v, want a wrong passphrase naming the file", err)
		}
		seed := hex.EncodeToString(priv.Seed())
		if strings.Contains(err.Error(), seed) || strings.Contains(err.Error(), "correct horse") {
			t.Fatalf("error %q shows a secret", err)
		}
	})

	// The mode is checked before the passphrase is read: with a
	// passphrase file that does not exist, the mode is what is refused.
	noPass := filepath.Join(t.TempDir(), "no-such-pass")
	if _, err := wallet.OpenKey(key, noPass); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenKey(0600 key, no passphrase file) = %v, want the passphrase file missing", err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o610, 0o601, 0o644} {
		t.Run("mode "+strconv.FormatUint(uint64(mode), 8), func(t *testing.T) {
			k, _ := writeKey(t, priv, "correct horse")
			if err := os.Chmod(k, mode); err != nil {
				t.Fatal(err)
			}
			got, err := wallet.OpenKey(k, noPass)
			if err == nil || errors.Is(err, fs.ErrNotExist) || got != nil ||
				!strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), "chmod 600") {
				t.Fatalf("OpenKey(mode %o) = %v, want the mode refused first", mode, err)
			}
			// Even with the right passphrase.
			if _, err := wallet.OpenKey(k, pass); err == nil || !strings.Contains(err.Error(), "chmod 600") {
				t.Fatalf("OpenKey(mode %o, right passphrase) = %v", mode, err)
			}
		})
	}
	t.Run("not a regular file", func(t *testing.T) {
		if _, err := wallet.OpenKey(t.TempDir(), noPass); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("OpenKey(directory) = %v", err)
		}
	})
	t.Run("missing key", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "none.key")
		if _, err := wallet.OpenKey(missing, pass); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
			t.Fatalf("OpenKey(missing) = %v", err)
		}
	})
}

func TestKeyLine(t *testing.T) {
	pub := vecKey().Public().(ed25519.PublicKey)
	_, devnet := newChain(t)
	tests := []struct {
		name string
		p    *params.Params
		want string
	}{
		{"main", params.Main(), `{"address":"` + vecMain + `","network":"main","pubkey":"` + vecPub + `"}` + "\n"},
		{"devnet", devnet, `{"address":"` + vecDevnet + `","network":"devnet","pubkey":"` + vecPub + `"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wallet.KeyLine(tt.p, pub); !bytes.Equal(got, []byte(tt.want)) {
				t.Fatalf("KeyLine =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestNetwork(t *testing.T) {
	dir, devnet := newChain(t)
	main := params.Main().Hash()
	empty := t.TempDir()
	tests := []struct {
		name, network, dir string
		want               [32]byte
	}{
		{"--network main over a devnet directory", "main", dir, main},
		{"the directory's genesis", "", dir, devnet.Hash()},
		{"a directory without genesis", "", empty, main},
		{"no directory", "", filepath.Join(empty, "none"), main},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := wallet.Network(tt.network, tt.dir)
			if err != nil || p.Hash() != tt.want {
				t.Fatalf("Network(%q, %q) = %v, %v", tt.network, tt.dir, p, err)
			}
		})
	}
	for _, name := range []string{"devnet", "Main", "test", " main"} {
		t.Run("--network "+name, func(t *testing.T) {
			p, err := wallet.Network(name, dir)
			if err == nil || p != nil || !strings.HasPrefix(err.Error(), "--network "+name+": ") {
				t.Fatalf("Network(%q) = %v, %v; want a --network error", name, p, err)
			}
		})
	}

	// A damaged genesis is an error, not main.
	damaged, _ := newChain(t)
	genesis := filepath.Join(damaged, "genesis.json")
	if err := os.WriteFile(genesis, []byte(`{"type":"genesis","network":"devnet"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := wallet.Network("", damaged)
	var ce *chaindir.CorruptError
	if err == nil || p != nil || rule.CodeOf(err) != rule.Corrupt || !errors.As(err, &ce) || ce.File != "genesis.json" {
		t.Fatalf("Network(damaged genesis) = %v, %v; want corrupt genesis.json", p, err)
	}
	// An unreadable one too.
	odd := t.TempDir()
	if err := os.Mkdir(filepath.Join(odd, "genesis.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := wallet.Network("", odd); err == nil || p != nil {
		t.Fatalf("Network(genesis.json a directory) = %v, %v", p, err)
	}
}

// TestWorkFactor: CNJ_SCRYPT_WORK_FACTOR is a plain whole number from 10
// to the maximum, or unset; nothing else lowers a key's cost.
func TestWorkFactor(t *testing.T) {
	for v, want := range map[string]int{"": 0, "10": 10, "17": 17, fmt.Sprint(keys.DefaultMaxWorkFactor): keys.DefaultMaxWorkFactor} {
		if n, err := wallet.WorkFactor(v); err != nil || n != want {
			t.Errorf("%q: %d, %v; want %d", v, n, err, want)
		}
	}
	for _, v := range []string{"9", "0", "-12", "+12", "012", "12.0", "1e2", " 12", fmt.Sprint(keys.DefaultMaxWorkFactor + 1)} {
		if n, err := wallet.WorkFactor(v); err == nil {
			t.Errorf("%q: %d, want an error", v, n)
		}
	}
}
