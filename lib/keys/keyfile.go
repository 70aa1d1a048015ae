package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/coniunctum/cnj/lib/chainhash"
)

// DefaultWorkFactor is the scrypt work factor (log2 of N) that WriteKeyFile
// and EncryptKey use when given 0. It is age's own: about one second and
// 256 MiB per attempt on a current machine, which is what stands between a
// stolen key file and its passphrase. Only tests and slow machines should
// pass a lower one (10 or so); a file written with a low factor is cheap
// to brute-force. A work factor given must be between 1 and 30.
const DefaultWorkFactor = 18

// DefaultMaxWorkFactor is the largest scrypt work factor that ReadKeyFile
// and DecryptKey accept when given 0 as their maximum, which caps the time
// and memory (128 * 8 * 2^N bytes) that opening a file can cost. It is
// age's own, so files made with `age -p` open too. A maximum given must be
// between 1 and 30.
const DefaultMaxWorkFactor = 22

// workFactorOr returns wf, or def when wf is 0; what is not 1..30 is an
// error naming what.
func workFactorOr(what string, wf, def int) (int, error) {
	if wf == 0 {
		return def, nil
	}
	if wf < 1 || wf > 30 {
		return 0, fmt.Errorf("%s %d, want 1..30", what, wf)
	}
	return wf, nil
}

// MaxKeyFileSize is the largest key file ReadKeyFile reads. A key file is
// about 300 bytes.
const MaxKeyFileSize = 64 << 10

// maxPlaintext caps the decrypted plaintext; the real line is 170 bytes.
const maxPlaintext = 1024

// keyType is the "type" of the plaintext line of a key file.
const keyType = "cnj-key"

// ErrWrongPassphrase is returned (wrapped, with the file name) when the
// passphrase does not open the key file.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// ErrNotKeyFile is returned (wrapped, with the file name and a reason) when
// a file is not a cnj key file: empty, truncated, not age-encrypted, not
// encrypted with a passphrase, damaged, or holding the wrong plaintext.
var ErrNotKeyFile = errors.New("not a cnj key file")

// Generate makes a new Ed25519 key from crypto/rand.
func Generate() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	return priv, nil
}

// keyLine is the plaintext of a key file, one JSON line, in this field order.
type keyLine struct {
	Type   string `json:"type"`
	Seed   string `json:"seed"`
	PubKey string `json:"pubkey"`
}

// encodeKeyLine returns the canonical plaintext of priv:
// {"type":"cnj-key","seed":HEX64,"pubkey":HEX64}\n
func encodeKeyLine(priv ed25519.PrivateKey) []byte {
	var b bytes.Buffer
	b.Grow(170)
	b.WriteString(`{"type":"` + keyType + `","seed":"`)
	b.WriteString(hex.EncodeToString(priv.Seed()))
	b.WriteString(`","pubkey":"`)
	b.WriteString(hex.EncodeToString(priv.Public().(ed25519.PublicKey)))
	b.WriteString("\"}\n")
	return b.Bytes()
}

// decodeKeyLine parses the plaintext of a key file. Its errors are reasons
// for ErrNotKeyFile and never quote the plaintext, which holds the seed.
func decodeKeyLine(p []byte) (ed25519.PrivateKey, error) {
	var kl keyLine
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kl); err != nil {
		return nil, errors.New("plaintext is not a cnj-key JSON line")
	}
	if kl.Type != keyType {
		return nil, errors.New(`plaintext type is not "cnj-key"`)
	}
	var seed, pub [32]byte
	if err := decodeHex32(&seed, kl.Seed); err != nil {
		return nil, fmt.Errorf("seed %v", err)
	}
	if err := decodeHex32(&pub, kl.PubKey); err != nil {
		clear(seed[:])
		return nil, fmt.Errorf("pubkey %v", err)
	}
	priv := ed25519.NewKeyFromSeed(seed[:])
	clear(seed[:])
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub[:]) {
		clear(priv)
		return nil, errors.New("pubkey does not match the seed")
	}
	// One canonical form: anything else (key order, spacing, duplicate
	// keys, a missing newline) is not what WriteKeyFile writes.
	canon := encodeKeyLine(priv)
	ok := bytes.Equal(canon, p)
	clear(canon)
	if !ok {
		clear(priv)
		return nil, errors.New(`plaintext is not the canonical {"type":"cnj-key","seed":...,"pubkey":...} line`)
	}
	return priv, nil
}

// decodeHex32 reads 64 lowercase hex digits into dst (chainhash.Decode),
// with the key file's own wording, which never quotes s.
func decodeHex32(dst *[32]byte, s string) error {
	if len(s) != 64 {
		return errors.New("is not 64 hex characters")
	}
	if chainhash.Decode(dst[:], s) != nil {
		clear(dst[:])
		return errors.New("is not lowercase hex")
	}
	return nil
}

// EncryptKey returns the key file contents for priv: the canonical plaintext
// line encrypted by age to an scrypt recipient with passphrase, at
// workFactor (0 is DefaultWorkFactor). WriteKeyFile is EncryptKey plus a
// careful write.
func EncryptKey(priv ed25519.PrivateKey, passphrase []byte, workFactor int) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	check := ed25519.NewKeyFromSeed(priv.Seed())
	ok := bytes.Equal(check, priv)
	clear(check)
	if !ok {
		return nil, errors.New("private key is inconsistent: its public half does not match its seed")
	}
	if len(passphrase) == 0 {
		return nil, errors.New("empty passphrase")
	}
	workFactor, err := workFactorOr("scrypt work factor", workFactor, DefaultWorkFactor)
	if err != nil {
		return nil, err
	}
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(workFactor)

	var out bytes.Buffer
	w, err := age.Encrypt(&out, r)
	if err != nil {
		return nil, fmt.Errorf("encrypting key: %w", err)
	}
	line := encodeKeyLine(priv)
	_, err = w.Write(line)
	clear(line)
	if err != nil {
		return nil, fmt.Errorf("encrypting key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypting key: %w", err)
	}
	return out.Bytes(), nil
}

// WriteKeyFile encrypts priv with passphrase at workFactor (see EncryptKey)
// and creates path holding it, mode 0600. It never overwrites: if path exists, the
// error says so (and matches fs.ErrExist) and the file is left untouched.
// The file and its directory are synced before WriteKeyFile returns, so a
// key whose address was shown survives a crash.
func WriteKeyFile(path string, priv ed25519.PrivateKey, passphrase []byte, workFactor int) (err error) {
	data, err := EncryptKey(priv, passphrase, workFactor)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: refusing to overwrite it: %w", path, fs.ErrExist)
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// The file is ours (O_EXCL): do not leave half a key behind.
			f.Close()
			os.Remove(path)
		}
	}()
	// The umask can only clear bits; Chmod makes 0600 exact even so.
	if runtime.GOOS != "windows" {
		if err = f.Chmod(0o600); err != nil {
			return err
		}
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// CheckKeyFileMode refuses a key file that is not a regular file or that
// its group or others may access (any of the mode bits 0077), as ssh does.
// Callers check it before prompting for a passphrase, so a user is not asked
// for one only to be refused. ReadKeyFile checks it too.
func CheckKeyFileMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return checkMode(path, fi)
}

func checkMode(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	perm := fi.Mode().Perm()
	switch {
	case perm&0o044 != 0:
		return fmt.Errorf("%s is readable by others (mode %04o): chmod 600 %s", path, perm, path)
	case perm&0o077 != 0:
		return fmt.Errorf("%s is accessible by others (mode %04o): chmod 600 %s", path, perm, path)
	}
	return nil
}

// ReadKeyFile opens the key file at path and decrypts it with passphrase,
// at a scrypt work factor of at most maxWorkFactor (0 is
// DefaultMaxWorkFactor). It refuses, each with one line naming path:
//   - a file that is not regular or that group or others may access
//     (CheckKeyFileMode), before reading it;
//   - a file larger than MaxKeyFileSize;
//   - a wrong passphrase: the error matches ErrWrongPassphrase;
//   - anything else that is not a cnj key file (empty, truncated, junk, not
//     age, not passphrase-encrypted, damaged, an scrypt work factor above
//     maxWorkFactor, a plaintext that is not the canonical cnj-key line or
//     whose pubkey does not match its seed): the error matches
//     ErrNotKeyFile.
//
// No error ever contains key material.
func ReadKeyFile(path string, passphrase []byte, maxWorkFactor int) (ed25519.PrivateKey, error) {
	// Stat before opening, so that a FIFO or a device is refused rather
	// than opened (which may block), and again after, on what was opened.
	if err := CheckKeyFileMode(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkMode(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("%s: %w: larger than %d KiB", path, ErrNotKeyFile, MaxKeyFileSize>>10)
	}
	priv, err := DecryptKey(data, passphrase, maxWorkFactor)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv, nil
}

// errNotPassphrase and errBadPassphrase are how keyIdentity tells DecryptKey
// what went wrong; neither wraps age.ErrIncorrectIdentity, so age.Decrypt
// hands them back as they are.
var (
	errNotPassphrase = errors.New("not encrypted with a passphrase")
	errBadPassphrase = errors.New("incorrect passphrase")
)

// keyIdentity is an age scrypt identity that accepts only files with a
// single scrypt stanza, so that a file encrypted to an age public key is
// "not a cnj key file" rather than a wrong passphrase.
type keyIdentity struct{ id *age.ScryptIdentity }

func (k keyIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if len(stanzas) != 1 || stanzas[0].Type != "scrypt" {
		return nil, errNotPassphrase
	}
	fileKey, err := k.id.Unwrap(stanzas)
	if errors.Is(err, age.ErrIncorrectIdentity) {
		return nil, errBadPassphrase
	}
	return fileKey, err
}

// DecryptKey decrypts the contents of a key file at a scrypt work factor
// of at most maxWorkFactor (0 is DefaultMaxWorkFactor; see ReadKeyFile,
// which adds the file name and the mode and size checks). Exactly one of
// the key and the error is nil. The error matches ErrWrongPassphrase or
// ErrNotKeyFile, or says the passphrase is empty or the maximum is not
// 1..30.
func DecryptKey(data, passphrase []byte, maxWorkFactor int) (ed25519.PrivateKey, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("empty passphrase")
	}
	maxWorkFactor, err := workFactorOr("maximum scrypt work factor", maxWorkFactor, DefaultMaxWorkFactor)
	if err != nil {
		return nil, err
	}
	notKey := func(reason string) error {
		return fmt.Errorf("%w: %s", ErrNotKeyFile, reason)
	}
	const intro = "age-encryption.org/v1\n"
	var src io.Reader
	switch {
	case len(data) == 0:
		return nil, notKey("empty file")
	case bytes.HasPrefix(data, []byte(intro)):
		src = bytes.NewReader(data)
	case bytes.HasPrefix(data, []byte(armor.Header)):
		src = armor.NewReader(bytes.NewReader(data))
	case bytes.HasPrefix([]byte(intro), data):
		return nil, notKey("truncated")
	case bytes.HasPrefix(data, []byte(`{"type":"`+keyType+`"`)):
		return nil, notKey("not encrypted: a key file is an age file")
	default:
		return nil, notKey("not an age file")
	}

	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, err
	}
	id.SetMaxWorkFactor(maxWorkFactor)
	r, err := age.Decrypt(src, keyIdentity{id})
	switch {
	case errors.Is(err, errBadPassphrase):
		return nil, ErrWrongPassphrase
	case errors.Is(err, errNotPassphrase):
		return nil, notKey(errNotPassphrase.Error())
	case err != nil:
		return nil, notKey(ageReason(err))
	}
	p, err := io.ReadAll(io.LimitReader(r, maxPlaintext+1))
	defer clear(p)
	switch {
	case err != nil:
		return nil, notKey(ageReason(err))
	case len(p) > maxPlaintext:
		return nil, notKey("plaintext too long")
	}
	priv, err := decodeKeyLine(p)
	if err != nil {
		return nil, notKey(err.Error())
	}
	return priv, nil
}

// ageReason turns an age error into a short reason on one line. age errors
// may quote header lines of the file (never plaintext: the plaintext is
// checked by decodeKeyLine); keep one printable line of bounded length.
func ageReason(err error) string {
	s := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "truncated"
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	const max = 100
	if len(s) > max {
		s = s[:max] + "..."
	}
	return "age: " + s
}
