package holder

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestWordList: the embedded list is BIP-39's English list, byte for byte.
func TestWordList(t *testing.T) {
	sum := sha256.Sum256([]byte(bip39English))
	if got := hex.EncodeToString(sum[:]); got != "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda" {
		t.Fatalf("bip39english.txt has SHA-256 %s, not bitcoin/bips english.txt's", got)
	}
	if words, _ := wordList(); len(words) != 2048 {
		t.Fatalf("%d words", len(words))
	}
}

// TestPhraseVectors: BIP-39's published 256-bit vectors, both ways.
func TestPhraseVectors(t *testing.T) {
	f, err := os.Open("testdata/bip39-vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		ent, mnemonic, _ := strings.Cut(line, " ")
		seed, err := hex.DecodeString(ent)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Phrase(seed); err != nil || got != mnemonic {
			t.Errorf("Phrase(%s) = %q, %v\nwant %q", ent, got, err, mnemonic)
		}
		back, err := SeedFromPhrase(strings.ToUpper(mnemonic[:1]) + strings.ReplaceAll(mnemonic[1:], " ", "  \t"))
		if err != nil || hex.EncodeToString(back) != ent {
			t.Errorf("SeedFromPhrase(%q) = %x, %v", mnemonic, back, err)
		}
		n++
	}
	if n < 8 {
		t.Fatalf("only %d vectors", n)
	}
}

// TestPhraseErrors: a mistyped word is named with its place; a word
// typed as another word of the list breaks the checksum; a phrase of the
// wrong length is refused.
func TestPhraseErrors(t *testing.T) {
	good := strings.Fields("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title")
	with := func(i int, w string) string {
		c := append([]string(nil), good...)
		c[i] = w
		return strings.Join(c, " ")
	}
	for _, c := range []struct{ phrase, want string }{
		{with(6, "wirth"), `word 7, "wirth", is not a BIP-39 word`},
		{with(4, "wavee"), `word 5, "wavee", is not a BIP-39 word (did you mean "wave"?)`},
		{with(23, "tilte"), `word 24, "tilte"`},
		{with(0, "legend"), "the checksum does not match"},
		{with(23, "zoo"), "the checksum does not match"},
		{strings.Join(good[:23], " "), "23 words, want 24"},
		{strings.Join(append(good, "zoo"), " "), "25 words, want 24"},
	} {
		_, err := SeedFromPhrase(c.phrase)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SeedFromPhrase(...%s) = %v, want %q", c.phrase[len(c.phrase)-12:], err, c.want)
		}
	}
	if _, err := Phrase(make([]byte, 16)); err == nil {
		t.Error("a 16-byte seed made a phrase")
	}
}
