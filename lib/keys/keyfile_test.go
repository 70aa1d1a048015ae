package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// testWorkFactor keeps scrypt at about a millisecond in tests. The default,
// DefaultWorkFactor = 18, is exercised once by TestDefaultWorkFactor.
const testWorkFactor = 10

var testPass = []byte("correct horse battery staple")

// vecLine is the plaintext of the vector key's file.
const vecLine = `{"type":"cnj-key","seed":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","pubkey":"` + vecPub + `"}` + "\n"

// ageEncrypt encrypts any plaintext to passphrase, as `age -p` would.
func ageEncrypt(t testing.TB, plaintext, passphrase string, workFactor int) []byte {
	t.Helper()
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(workFactor)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ageDecrypt decrypts with the plain age library, as `age -d` would.
func ageDecrypt(t testing.TB, data []byte, passphrase string) string {
	t.Helper()
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		t.Fatalf("age.Decrypt: %v", err)
	}
	p, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("age.Decrypt: %v", err)
	}
	return string(p)
}

func writeFile(t testing.TB, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wallet.key")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

// noSecrets fails if err mentions the seed or the private key of priv.
func noSecrets(t testing.TB, err error, priv ed25519.PrivateKey) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range []string{hex.EncodeToString(priv.Seed()), hex.EncodeToString(priv), string(priv.Seed())} {
		if strings.Contains(msg, s) || strings.Contains(msg, s[:16]) {
			t.Fatalf("error contains key material: %q", msg)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Fatalf("error is not one line: %q", msg)
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	priv, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wallet.key")
	if err := WriteKeyFile(path, priv, testPass, testWorkFactor); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Fatalf("key file mode = %v, want -rw-------", fi.Mode())
	}
	if err := CheckKeyFileMode(path); err != nil {
		t.Fatalf("CheckKeyFileMode: %v", err)
	}
	got, err := ReadKeyFile(path, testPass, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, priv) {
		t.Fatal("ReadKeyFile returned another key")
	}
}

// TestKeyFilePlaintext: the file is a plain age file whose plaintext is the
// canonical line, so `age -d FILE` shows what it is.
func TestKeyFilePlaintext(t *testing.T) {
	priv := vecKey(t)
	path := filepath.Join(t.TempDir(), "wallet.key")
	if err := WriteKeyFile(path, priv, testPass, testWorkFactor); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n-> scrypt ")) {
		t.Fatalf("key file does not start like an age scrypt file: %q", data[:min(len(data), 40)])
	}
	if bytes.Contains(data, []byte(hex.EncodeToString(priv.Seed()))) {
		t.Fatal("key file holds the seed in clear")
	}
	if got := ageDecrypt(t, data, string(testPass)); got != vecLine {
		t.Fatalf("plaintext = %q, want %q", got, vecLine)
	}
}

// TestKeyFileFromAge: a file that the age library (or `age -p`) made from
// the canonical line opens, armored or not.
func TestKeyFileFromAge(t *testing.T) {
	want := vecKey(t)
	tests := []struct {
		name string
		data func() []byte
	}{
		{"binary", func() []byte { return ageEncrypt(t, vecLine, string(testPass), 12) }},
		{"armored", func() []byte {
			var buf bytes.Buffer
			a := armor.NewWriter(&buf)
			a.Write(ageEncrypt(t, vecLine, string(testPass), 12))
			a.Close()
			return buf.Bytes()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.data(), 0o600)
			got, err := ReadKeyFile(path, testPass, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("ReadKeyFile returned another key")
			}
		})
	}
}

func TestDefaultWorkFactor(t *testing.T) {
	if DefaultWorkFactor != 18 || DefaultMaxWorkFactor != 22 {
		t.Fatalf("defaults: WorkFactor %d, MaxWorkFactor %d; want 18 and 22", DefaultWorkFactor, DefaultMaxWorkFactor)
	}
	if testing.Short() {
		t.Skip("scrypt at the default work factor takes about a second")
	}
	priv := vecKey(t)
	data, err := EncryptKey(priv, testPass, 0) // 0 is the default
	if err != nil {
		t.Fatal(err)
	}
	// Decrypting would cost another second: the stanza says enough.
	if !bytes.Contains(data, []byte(" 18\n")) {
		t.Fatalf("scrypt stanza is not at work factor 18: %q", data[:min(len(data), 80)])
	}
}

func TestWrongPassphrase(t *testing.T) {
	priv := vecKey(t)
	path := filepath.Join(t.TempDir(), "wallet.key")
	if err := WriteKeyFile(path, priv, testPass, testWorkFactor); err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"correct horse battery stapl", "Correct horse battery staple", "x", string(testPass) + "\n"} {
		got, err := ReadKeyFile(path, []byte(pass), 0)
		if got != nil || !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("ReadKeyFile(%q) = %v, want ErrWrongPassphrase", pass, err)
		}
		if want := path + ": wrong passphrase"; err.Error() != want {
			t.Fatalf("error = %q, want %q", err, want)
		}
		if errors.Is(err, ErrNotKeyFile) {
			t.Fatal("a wrong passphrase is reported as not a key file")
		}
		noSecrets(t, err, priv)
	}
	// A flipped bit in the stanza's salt or wrapped file key fails the same
	// AEAD that a wrong passphrase fails: age cannot tell them apart, and
	// neither can we.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	salt := len("age-encryption.org/v1\n-> scrypt ")
	body := bytes.Index(data, []byte(" 10\n")) + len(" 10\n")
	for _, i := range []int{salt, salt + 5, body, body + 10} {
		b := bytes.Clone(data)
		b[i] ^= 1
		if _, err := DecryptKey(b, testPass, 0); !errors.Is(err, ErrWrongPassphrase) && !errors.Is(err, ErrNotKeyFile) {
			t.Fatalf("flipped byte %d: DecryptKey = %v", i, err)
		}
	}
	if _, err := ReadKeyFile(path, nil, 0); err == nil || errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("ReadKeyFile with an empty passphrase = %v, want a refusal", err)
	}
}

func TestTruncatedKeyFile(t *testing.T) {
	priv := vecKey(t)
	data, err := EncryptKey(priv, testPass, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	// Every length short of the whole file: in the intro, in the stanza,
	// in the MAC line, in the nonce, in the payload, its last byte.
	for n := 0; n < len(data); n++ {
		got, err := DecryptKey(data[:n], testPass, 0)
		if got != nil || !errors.Is(err, ErrNotKeyFile) {
			t.Fatalf("DecryptKey(first %d of %d bytes) = %v, want ErrNotKeyFile", n, len(data), err)
		}
		noSecrets(t, err, priv)
	}
	// And through the file, at a few lengths, with the message.
	for _, n := range []int{1, 10, 30, len(data) / 2, len(data) - 17, len(data) - 1} {
		path := writeFile(t, data[:n], 0o600)
		_, err := ReadKeyFile(path, testPass, 0)
		if !errors.Is(err, ErrNotKeyFile) || !strings.HasPrefix(err.Error(), path+": not a cnj key file: ") {
			t.Fatalf("ReadKeyFile(first %d bytes) = %v", n, err)
		}
	}
}

func TestNotKeyFile(t *testing.T) {
	priv := vecKey(t)
	good, err := EncryptKey(priv, testPass, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var toX25519 bytes.Buffer
	w, _ := age.Encrypt(&toX25519, x25519.Recipient())
	io.WriteString(w, vecLine)
	w.Close()

	seed := hex.EncodeToString(priv.Seed())
	otherPub := strings.Repeat("ab", 32)
	pass := string(testPass)
	enc := func(plaintext string) []byte { return ageEncrypt(t, plaintext, pass, testWorkFactor) }
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name   string
		data   []byte
		reason string
	}{
		{"empty file", nil, "empty file"},
		{"junk", []byte("hello, world\n"), "not an age file"},
		{"binary junk", bytes.Repeat([]byte{0xff, 0x00, 0x7f}, 100), "not an age file"},
		{"plaintext key", []byte(vecLine), "not encrypted"},
		{"age secret key", []byte("AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n"), "not an age file"},
		{"intro only", []byte("age-encryption.org/v1\n"), "truncated"},
		{"wrong version", []byte("age-encryption.org/v2\n-> scrypt x 10\n"), "not an age file"},
		{"armor header only", []byte(armor.Header + "\n"), "truncated"},
		{"to an age public key", toX25519.Bytes(), "not encrypted with a passphrase"},
		{"stanza mangled", bytes.Replace(good, []byte("-> scrypt "), []byte("-> scrypt !"), 1), "age:"},
		{"work factor mangled", bytes.Replace(good, []byte(" 10\n"), []byte(" 010\n"), 1), "work factor"},
		{"MAC flipped", flip(bytes.Index(good, []byte("\n--- ")) + 6), ""},
		{"payload flipped", flip(len(good) - 5), ""},
		{"trailing garbage", append(bytes.Clone(good), "x"...), "age:"},
		{"too large", append(bytes.Clone(good), make([]byte, MaxKeyFileSize)...), "larger than 64 KiB"},
		{"plaintext junk", enc("hello\n"), "not a cnj-key JSON line"},
		{"plaintext empty", enc(""), "not a cnj-key JSON line"},
		{"plaintext type", enc(strings.Replace(vecLine, "cnj-key", "cnj-kex", 1)), "type"},
		{"plaintext unknown field", enc(strings.Replace(vecLine, `"}`, `","x":1}`, 1)), "not a cnj-key JSON line"},
		{"plaintext no newline", enc(strings.TrimSuffix(vecLine, "\n")), "canonical"},
		{"plaintext CRLF", enc(strings.TrimSuffix(vecLine, "\n") + "\r\n"), "canonical"},
		{"plaintext two lines", enc(vecLine + vecLine), "canonical"},
		{"plaintext reordered", enc(`{"seed":"` + seed + `","type":"cnj-key","pubkey":"` + vecPub + `"}` + "\n"), "canonical"},
		{"plaintext spaced", enc(`{"type": "cnj-key", "seed": "` + seed + `", "pubkey": "` + vecPub + `"}` + "\n"), "canonical"},
		{"plaintext uppercase seed", enc(strings.Replace(vecLine, seed, strings.ToUpper(seed), 1)), "seed is not lowercase hex"},
		{"plaintext short seed", enc(strings.Replace(vecLine, seed, seed[2:], 1)), "seed is not 64 hex"},
		{"plaintext short pubkey", enc(strings.Replace(vecLine, vecPub, vecPub[2:], 1)), "pubkey is not 64 hex"},
		{"plaintext seed missing", enc(`{"type":"cnj-key","pubkey":"` + vecPub + `"}` + "\n"), "seed is not 64 hex"},
		{"pubkey does not match seed", enc(strings.Replace(vecLine, vecPub, otherPub, 1)), "pubkey does not match the seed"},
		{"plaintext too long", enc(strings.Repeat(" ", 2000) + vecLine), "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.data, 0o600)
			got, err := ReadKeyFile(path, testPass, 0)
			if got != nil || !errors.Is(err, ErrNotKeyFile) {
				t.Fatalf("ReadKeyFile = %v, want ErrNotKeyFile", err)
			}
			prefix := path + ": not a cnj key file: "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error()[len(prefix):], tt.reason) {
				t.Fatalf("error = %q, want %q and %q", err, prefix, tt.reason)
			}
			noSecrets(t, err, priv)
			t.Log(err)
		})
	}
}

func TestMaxWorkFactor(t *testing.T) {
	data := ageEncrypt(t, vecLine, string(testPass), 12)
	_, err := DecryptKey(data, testPass, 11)
	if !errors.Is(err, ErrNotKeyFile) || !strings.Contains(err.Error(), "work factor too large") {
		t.Fatalf("DecryptKey = %v, want a refusal of the work factor", err)
	}
	if priv, err := DecryptKey(data, testPass, 12); err != nil || !bytes.Equal(priv, vecKey(t)) {
		t.Fatalf("DecryptKey at its own work factor = %v", err)
	}
}

// TestWorkFactorRange: a work factor or maximum given must be 1..30 (0 is
// the default).
func TestWorkFactorRange(t *testing.T) {
	priv := vecKey(t)
	data, err := EncryptKey(priv, testPass, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range []int{-1, 31} {
		if _, err := EncryptKey(priv, testPass, wf); err == nil || err.Error() != fmt.Sprintf("scrypt work factor %d, want 1..30", wf) {
			t.Errorf("EncryptKey at %d = %v", wf, err)
		}
		if _, err := DecryptKey(data, testPass, wf); err == nil || err.Error() != fmt.Sprintf("maximum scrypt work factor %d, want 1..30", wf) {
			t.Errorf("DecryptKey at most %d = %v", wf, err)
		}
	}
}

func TestKeyFileMode(t *testing.T) {
	priv := vecKey(t)
	data, err := EncryptKey(priv, testPass, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode os.FileMode
		want string // "" for accepted; %s is the path
	}{
		{0o600, ""},
		{0o400, ""},
		{0o700, ""},
		{0o644, "%s is readable by others (mode 0644): chmod 600 %s"},
		{0o640, "%s is readable by others (mode 0640): chmod 600 %s"},
		{0o604, "%s is readable by others (mode 0604): chmod 600 %s"},
		{0o666, "%s is readable by others (mode 0666): chmod 600 %s"},
		{0o620, "%s is accessible by others (mode 0620): chmod 600 %s"},
		{0o601, "%s is accessible by others (mode 0601): chmod 600 %s"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%04o", tt.mode), func(t *testing.T) {
			path := writeFile(t, data, tt.mode)
			want := ""
			if tt.want != "" {
				want = fmt.Sprintf(tt.want, path, path)
			}
			errString := func(err error) string {
				if err == nil {
					return ""
				}
				return err.Error()
			}
			if err := CheckKeyFileMode(path); errString(err) != want {
				t.Fatalf("CheckKeyFileMode = %v, want %q", err, want)
			}
			// ReadKeyFile refuses first, whatever the passphrase.
			for _, pass := range [][]byte{testPass, []byte("wrong")} {
				got, err := ReadKeyFile(path, pass, 0)
				if want != "" && (got != nil || errString(err) != want) {
					t.Fatalf("ReadKeyFile = %v, want %q", err, want)
				}
			}
			if want == "" {
				if got, err := ReadKeyFile(path, testPass, 0); err != nil || !bytes.Equal(got, priv) {
					t.Fatalf("ReadKeyFile = %v", err)
				}
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := CheckKeyFileMode(dir); err == nil || err.Error() != dir+" is not a regular file" {
			t.Fatalf("CheckKeyFileMode(dir) = %v", err)
		}
		if _, err := ReadKeyFile(dir, testPass, 0); err == nil || err.Error() != dir+" is not a regular file" {
			t.Fatalf("ReadKeyFile(dir) = %v", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope.key")
		if err := CheckKeyFileMode(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("CheckKeyFileMode = %v, want not exist", err)
		}
		if _, err := ReadKeyFile(path, testPass, 0); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadKeyFile = %v, want not exist", err)
		}
	})
}

func TestWriteKeyFileNeverOverwrites(t *testing.T) {
	priv := vecKey(t)
	dir := t.TempDir()
	tests := []struct {
		name  string
		setup func(path string)
	}{
		{"regular file", func(path string) { os.WriteFile(path, []byte("precious\n"), 0o644) }},
		{"key file", func(path string) {
			other, _ := Generate()
			if err := WriteKeyFile(path, other, testPass, testWorkFactor); err != nil {
				t.Fatal(err)
			}
		}},
		{"empty file", func(path string) { os.WriteFile(path, nil, 0o600) }},
		{"dangling symlink", func(path string) { os.Symlink(filepath.Join(dir, "target"), path) }},
		{"directory", func(path string) { os.Mkdir(path, 0o700) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			tt.setup(path)
			before, _ := os.Lstat(path)
			beforeData, _ := os.ReadFile(path)

			err := WriteKeyFile(path, priv, testPass, testWorkFactor)
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("WriteKeyFile over an existing %s = %v, want fs.ErrExist", tt.name, err)
			}
			if want := path + " already exists: refusing to overwrite it"; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error = %q, want %q", err, want)
			}
			after, _ := os.Lstat(path)
			afterData, _ := os.ReadFile(path)
			if after.Mode() != before.Mode() || after.ModTime() != before.ModTime() || !bytes.Equal(afterData, beforeData) {
				t.Fatalf("existing %s changed", tt.name)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(dir, "target")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("WriteKeyFile created the target of a dangling symlink")
	}
}

func TestWriteKeyFileRefuses(t *testing.T) {
	priv := vecKey(t)
	bad := bytes.Clone(priv)
	bad[40] ^= 1 // public half no longer matches the seed
	tests := []struct {
		name string
		priv ed25519.PrivateKey
		pass []byte
		want string
	}{
		{"empty passphrase", priv, nil, "empty passphrase"},
		{"short key", priv[:32], testPass, "private key is 32 bytes, want 64"},
		{"nil key", nil, testPass, "private key is 0 bytes, want 64"},
		{"inconsistent key", bad, testPass, "private key is inconsistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "wallet.key")
			err := WriteKeyFile(path, tt.priv, tt.pass, testWorkFactor)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("WriteKeyFile = %v, want %q", err, tt.want)
			}
			noSecrets(t, err, priv)
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatal("WriteKeyFile left a file behind after refusing")
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "no", "such", "wallet.key")
		if err := WriteKeyFile(path, priv, testPass, testWorkFactor); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("WriteKeyFile = %v, want not exist", err)
		}
	})
}

// Two files of the same key differ (fresh salt and nonce) and both open.
func TestEncryptKeyFresh(t *testing.T) {
	priv := vecKey(t)
	a, err := EncryptKey(priv, testPass, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncryptKey(priv, testPass, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of one key are identical")
	}
	for _, d := range [][]byte{a, b} {
		if got, err := DecryptKey(d, testPass, 0); err != nil || !bytes.Equal(got, priv) {
			t.Fatalf("DecryptKey = %v", err)
		}
	}
}

// fuzzPass is the passphrase of the FuzzKeyFile seed corpus.
var fuzzPass = []byte("fuzz passphrase")

// FuzzKeyFile decrypts arbitrary bytes with a fixed passphrase: no panic,
// exactly one of key and error, errors are one line and say which kind
// they are, and a key that comes out is whole and goes back in.
func FuzzKeyFile(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		// Cap scrypt so a mutated work factor cannot stall the fuzzer.
		priv, err := DecryptKey(data, fuzzPass, testWorkFactor)
		if (priv == nil) == (err == nil) {
			t.Fatalf("DecryptKey = %d-byte key and error %v", len(priv), err)
		}
		if err != nil {
			if !errors.Is(err, ErrNotKeyFile) && !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("DecryptKey error %q is neither ErrNotKeyFile nor ErrWrongPassphrase", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(priv) != ed25519.PrivateKeySize || !bytes.Equal(ed25519.NewKeyFromSeed(priv.Seed()), priv) {
			t.Fatal("DecryptKey returned an inconsistent key")
		}
		again, err := EncryptKey(priv, fuzzPass, testWorkFactor)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := DecryptKey(again, fuzzPass, testWorkFactor); err != nil || !bytes.Equal(got, priv) {
			t.Fatalf("re-encrypted key does not decrypt: %v", err)
		}
	})
}

// TestFuzzKeyFileCorpus keeps the seed corpus meaningful: its valid files
// open to the vector key and the others fail for their own reason.
func TestFuzzKeyFileCorpus(t *testing.T) {
	want := map[string]error{
		"valid": nil, "armored": nil, "wrong-passphrase": ErrWrongPassphrase,
		"truncated-header": ErrNotKeyFile, "truncated-mac": ErrNotKeyFile,
		"truncated-body": ErrNotKeyFile, "to-x25519": ErrNotKeyFile,
		"mismatch": ErrNotKeyFile, "plaintext": ErrNotKeyFile,
		"empty": ErrNotKeyFile, "junk": ErrNotKeyFile,
	}
	for name, wantErr := range want {
		raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzKeyFile", name))
		if err != nil {
			t.Fatal(err)
		}
		quoted, ok := strings.CutPrefix(strings.TrimSpace(string(raw)), "go test fuzz v1\n[]byte(")
		if !ok || !strings.HasSuffix(quoted, ")") {
			t.Fatalf("%s: not a corpus file", name)
		}
		data, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		priv, err := DecryptKey([]byte(data), fuzzPass, 0)
		switch {
		case wantErr == nil && (err != nil || !bytes.Equal(priv, vecKey(t))):
			t.Errorf("%s: DecryptKey = %v, want the vector key", name, err)
		case wantErr != nil && !errors.Is(err, wantErr):
			t.Errorf("%s: DecryptKey = %v, want %v", name, err, wantErr)
		}
	}
}

var writeCorpus = flag.Bool("write-corpus", false, "rewrite testdata/fuzz/FuzzKeyFile seed files")

// TestWriteFuzzCorpus regenerates the FuzzKeyFile seed corpus when run with
// -write-corpus (go test -run TestWriteFuzzCorpus -write-corpus).
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("run with -write-corpus to regenerate testdata/fuzz/FuzzKeyFile")
	}
	priv := vecKey(t)
	good, err := EncryptKey(priv, fuzzPass, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := EncryptKey(priv, []byte("another passphrase"), testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	var armored bytes.Buffer
	a := armor.NewWriter(&armored)
	a.Write(good)
	a.Close()
	x25519, _ := age.GenerateX25519Identity()
	var toX25519 bytes.Buffer
	w, _ := age.Encrypt(&toX25519, x25519.Recipient())
	io.WriteString(w, vecLine)
	w.Close()
	seeds := map[string][]byte{
		"valid":            good,
		"armored":          armored.Bytes(),
		"wrong-passphrase": wrong,
		"truncated-header": good[:40],
		"truncated-mac":    good[:bytes.Index(good, []byte("\n--- "))+10],
		"truncated-body":   good[:len(good)-10],
		"to-x25519":        toX25519.Bytes(),
		"mismatch":         ageEncrypt(t, strings.Replace(vecLine, vecPub, strings.Repeat("ab", 32), 1), string(fuzzPass), testWorkFactor),
		"plaintext":        []byte(vecLine),
		"empty":            {},
		"junk":             []byte("not a key\n"),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzKeyFile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range seeds {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
