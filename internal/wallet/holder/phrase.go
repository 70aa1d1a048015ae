package holder

import (
	"crypto/sha256"
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// bip39English is BIP-39's English word list, byte for byte the
// bitcoin/bips file bip-0039/english.txt (SHA-256 2f5eed53...dbda, which
// the tests check).
//
//go:embed bip39english.txt
var bip39English string

// PhraseWords is the length of a recovery phrase: 256 bits of seed and 8
// of checksum, 11 bits a word.
const PhraseWords = 24

var wordList = sync.OnceValues(func() ([]string, map[string]int) {
	words := strings.Split(strings.TrimSuffix(bip39English, "\n"), "\n")
	index := make(map[string]int, len(words))
	for i, w := range words {
		index[w] = i
	}
	return words, index
})

// Phrase returns the recovery phrase of a 32-byte Ed25519 seed: BIP-39's
// mnemonic of it as entropy, 24 English words (the last 8 bits of the last
// word are the first byte of the seed's SHA-256).
func Phrase(seed []byte) (string, error) {
	if len(seed) != 32 {
		return "", fmt.Errorf("a recovery phrase is made of a 32-byte seed, not %d bytes", len(seed))
	}
	words, _ := wordList()
	sum := sha256.Sum256(seed)
	bits := append(append([]byte(nil), seed...), sum[0])
	out := make([]string, PhraseWords)
	for i := range out {
		out[i] = words[bits11(bits, i)]
	}
	return strings.Join(out, " "), nil
}

// bits11 returns the i-th 11-bit group of b, most significant bit first.
func bits11(b []byte, i int) int {
	v := 0
	for k := i * 11; k < i*11+11; k++ {
		v = v<<1 | int(b[k/8]>>(7-k%8)&1)
	}
	return v
}

// SeedFromPhrase reads a recovery phrase back into its 32-byte seed. Words
// are separated by any blanks and may be in any case. A word that is not
// in the list is named, with its place, and with the word it most likely
// stands for (the one sharing its first four letters, which BIP-39 makes
// unique); a phrase whose checksum does not match says so: a word was
// mistyped into another word of the list, or two were swapped.
func SeedFromPhrase(phrase string) ([]byte, error) {
	words, index := wordList()
	in := strings.Fields(strings.ToLower(phrase))
	if len(in) != PhraseWords {
		return nil, fmt.Errorf("recovery phrase: %d words, want %d", len(in), PhraseWords)
	}
	bits := make([]byte, 33)
	for i, w := range in {
		n, ok := index[w]
		if !ok {
			msg := fmt.Sprintf("recovery phrase: word %d, %q, is not a BIP-39 word", i+1, printableWord(w))
			if s := likely(words, w); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, fmt.Errorf("%s", msg)
		}
		for k := 0; k < 11; k++ {
			if n>>(10-k)&1 == 1 {
				p := i*11 + k
				bits[p/8] |= 1 << (7 - p%8)
			}
		}
	}
	seed := bits[:32]
	if sum := sha256.Sum256(seed); sum[0] != bits[32] {
		return nil, fmt.Errorf("recovery phrase: the checksum does not match: a word is mistyped as another word of the list, or two are swapped")
	}
	return seed, nil
}

// likely returns the list's word that w most likely stands for: the one
// with w's first four letters, else "".
func likely(words []string, w string) string {
	if len(w) < 4 {
		return ""
	}
	for _, c := range words {
		if len(c) >= 4 && c[:4] == w[:4] {
			return c
		}
	}
	return ""
}

// printableWord cuts what the user typed short, keeping letters only, for
// an error line.
func printableWord(w string) string {
	w = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, w)
	if len(w) > 20 {
		w = w[:20] + "..."
	}
	return w
}
