package keys

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestReadPassphraseFile(t *testing.T) {
	long := strings.Repeat("x", MaxPassphraseLen)
	tests := []struct {
		name    string
		content string
		want    string // passphrase; "" means an error containing errWant
		errWant string
	}{
		{"line with newline", "hunter2\n", "hunter2", ""},
		{"no newline", "hunter2", "hunter2", ""},
		{"crlf", "hunter2\r\n", "hunter2", ""},
		{"only first line", "hunter2\nsecond line\n", "hunter2", ""},
		{"inner spaces kept", "  two words  \n", "  two words  ", ""},
		{"tab and unicode", "pässword\twith tab\n", "pässword\twith tab", ""},
		{"longest", long + "\n", long, ""},
		{"longest crlf", long + "\r\n", long, ""},
		{"longest without newline", long, long, ""},
		{"empty file", "", "", "empty passphrase"},
		{"empty first line", "\nhunter2\n", "", "empty passphrase"},
		{"lone cr", "\r\n", "", "empty passphrase"},
		{"too long", long + "x\n", "", "passphrase longer than 4096 bytes"},
		{"too long without newline", long + "xx", "", "passphrase longer than 4096 bytes"},
		{"much too long", strings.Repeat("y", 100000), "", "passphrase longer than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pass")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadPassphraseFile(path)
			if tt.want != "" {
				if err != nil || string(got) != tt.want {
					t.Fatalf("ReadPassphraseFile = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || got != nil {
				t.Fatalf("ReadPassphraseFile = %q, %v; want an error", got, err)
			}
			if want := path + ": " + tt.errWant; err.Error() != want {
				t.Fatalf("error = %q, want %q", err, want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := ReadPassphraseFile(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadPassphraseFile = %v, want not exist", err)
		}
	})
}

// TestReadPassphraseFilePipe: only the first line is read, so a pipe whose
// writer never closes still works.
func TestReadPassphraseFilePipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := w.WriteString("from a pipe\n"); err != nil {
		t.Fatal(err)
	}
	// w stays open: reading to EOF would hang.
	got, err := ReadPassphraseFile("/dev/fd/" + strconv.Itoa(int(r.Fd())))
	if err != nil || string(got) != "from a pipe" {
		t.Fatalf("ReadPassphraseFile(pipe) = %q, %v", got, err)
	}
}

// lines returns a read function for promptOn that hands out the given
// answers, then fails.
func lines(answers ...string) func() ([]byte, error) {
	return func() ([]byte, error) {
		if len(answers) == 0 {
			return nil, errors.New("EOF")
		}
		a := answers[0]
		answers = answers[1:]
		return []byte(a), nil
	}
}

func TestPromptOn(t *testing.T) {
	tests := []struct {
		name    string
		confirm bool
		answers []string
		want    string
		err     string
		shown   string
	}{
		{"once", false, []string{"hunter2"}, "hunter2", "", "Passphrase: \n"},
		{"confirmed", true, []string{"hunter2", "hunter2"}, "hunter2", "", "Passphrase: \nConfirm passphrase: \n"},
		{"mismatch", true, []string{"hunter2", "hunter3"}, "", "passphrases do not match", "Passphrase: \nConfirm passphrase: \n"},
		{"empty", false, []string{""}, "", "empty passphrase", "Passphrase: \n"},
		{"empty is not confirmed", true, []string{"", ""}, "", "empty passphrase", "Passphrase: \n"},
		{"too long", false, []string{strings.Repeat("x", MaxPassphraseLen+1)}, "", "passphrase longer than 4096 bytes", "Passphrase: \n"},
		{"read fails", false, nil, "", "reading passphrase: EOF", "Passphrase: \n"},
		{"confirm read fails", true, []string{"hunter2"}, "", "reading passphrase: EOF", "Passphrase: \nConfirm passphrase: \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := promptOn(&out, lines(tt.answers...), "Passphrase: ", tt.confirm)
			if tt.err == "" {
				if err != nil || string(got) != tt.want {
					t.Fatalf("promptOn = %q, %v; want %q", got, err, tt.want)
				}
			} else if err == nil || err.Error() != tt.err || got != nil {
				t.Fatalf("promptOn = %q, %v; want error %q", got, err, tt.err)
			}
			if out.String() != tt.shown {
				t.Fatalf("terminal shows %q, want %q", out.String(), tt.shown)
			}
			if strings.Contains(out.String(), "hunter") {
				t.Fatal("the passphrase was echoed")
			}
		})
	}
}

func TestPromptSanitized(t *testing.T) {
	var out bytes.Buffer
	promptOn(&out, lines("x"), "Passphrase for \x1b[2Jevil\n.key: ", false)
	if strings.ContainsAny(strings.TrimSuffix(out.String(), "\n"), "\x1b\n") {
		t.Fatalf("control characters reached the terminal: %q", out.String())
	}
}
