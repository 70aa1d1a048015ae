package keys

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"golang.org/x/term"
)

// MaxPassphraseLen is the longest passphrase accepted, from a file or the
// terminal.
const MaxPassphraseLen = 4096

// ErrNoTerminal is returned by PromptPassphrase when there is no terminal
// to ask on.
var ErrNoTerminal = errors.New("no terminal to ask for a passphrase: use --passphrase-file")

// ReadPassphraseFile returns the first line of the file at path, without its
// line ending ("\n" or "\r\n"). It reads no further than that line, so path
// may be a pipe (--passphrase-file <(pass show wallet)). An empty first line
// and a line longer than MaxPassphraseLen are refused.
func ReadPassphraseFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.LimitReader(f, MaxPassphraseLen+2), MaxPassphraseLen+2)
	line, err := br.ReadSlice('\n')
	if err != nil && err != io.EOF {
		if err == bufio.ErrBufferFull {
			return nil, fmt.Errorf("%s: passphrase longer than %d bytes", path, MaxPassphraseLen)
		}
		return nil, fmt.Errorf("reading passphrase from %s: %w", path, err)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	pass := bytes.Clone(line)
	clear(line)
	if err := checkPassphrase(pass); err != nil {
		clear(pass)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pass, nil
}

func checkPassphrase(p []byte) error {
	if len(p) == 0 {
		return errors.New("empty passphrase")
	}
	if len(p) > MaxPassphraseLen {
		return fmt.Errorf("passphrase longer than %d bytes", MaxPassphraseLen)
	}
	return nil
}

// PromptPassphrase asks for a passphrase on the terminal (/dev/tty, not
// standard input, so it works in a pipeline) without echo, writing prompt
// there too. With confirm it asks twice and refuses a mismatch. An empty
// passphrase is refused. It returns ErrNoTerminal when /dev/tty cannot be
// opened.
func PromptPassphrase(prompt string, confirm bool) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, ErrNoTerminal
	}
	defer tty.Close()
	fd := int(tty.Fd())
	if !term.IsTerminal(fd) {
		return nil, ErrNoTerminal
	}
	return promptOn(tty, func() ([]byte, error) { return term.ReadPassword(fd) }, prompt, confirm)
}

// promptOn is PromptPassphrase on any terminal: out shows the prompts and
// read reads one line without echo.
func promptOn(out io.Writer, read func() ([]byte, error), prompt string, confirm bool) ([]byte, error) {
	ask := func(prompt string) ([]byte, error) {
		io.WriteString(out, printable(prompt))
		p, err := read()
		// The user's Enter was not echoed: end the prompt's line ourselves.
		io.WriteString(out, "\n")
		if err != nil {
			clear(p)
			return nil, fmt.Errorf("reading passphrase: %w", err)
		}
		return p, nil
	}
	pass, err := ask(prompt)
	if err != nil {
		return nil, err
	}
	if err := checkPassphrase(pass); err != nil {
		clear(pass)
		return nil, err
	}
	if confirm {
		again, err := ask("Confirm passphrase: ")
		if err != nil {
			clear(pass)
			return nil, err
		}
		same := subtle.ConstantTimeCompare(pass, again) == 1
		clear(again)
		if !same {
			clear(pass)
			return nil, errors.New("passphrases do not match")
		}
	}
	return pass, nil
}

// printable replaces control characters in a prompt, which may hold a file
// name, so it cannot play tricks with the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
