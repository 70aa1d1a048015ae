package block

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

func sampleBlock(ntx int) *Block {
	b := &Block{Header: Header{Index: 7, Timestamp: 1795000000, Miner: "dcnj1" + strings.Repeat("ab", 24), Proof: 99}}
	b.Target[1] = 0x0f
	b.Reward = tx.Reward{Receiver: b.Miner, Amount: 5000000000, Index: 7}
	for i := 0; i < ntx; i++ {
		t := &tx.Tx{Sender: b.Miner, Receiver: b.Miner, Amount: uint64(i + 1), Fee: 1000, Timestamp: 1795000000}
		t.ID[0] = byte(i)
		b.Txs = append(b.Txs, t)
	}
	b.MerkleRoot = MerkleRoot([32]byte{}, &b.Reward, b.Txs)
	b.Hash = b.ComputeHash()
	return b
}

// TestHeaderLayout pins the offsets of cnj-format(5): the proof is the only
// field after byte 192.
func TestHeaderLayout(t *testing.T) {
	b := sampleBlock(0)
	h := b.Bytes()
	if !bytes.Equal(h[:8], []byte("CNJ-BK-1")) || h[15] != 7 || h[120] != byte(len(b.Miner)) ||
		string(h[121:121+len(b.Miner)]) != b.Miner || h[199] != 99 {
		t.Fatalf("header layout changed: %x", h)
	}
	for i := 121 + len(b.Miner); i < PrefixSize; i++ {
		if h[i] != 0 {
			t.Fatalf("byte %d of the prefix padding is %x", i, h[i])
		}
	}
	prev := b.Prefix()
	b.Proof++
	if b.Prefix() != prev {
		t.Fatal("the proof changes the prefix: miners could not reuse the midstate")
	}
	h = b.Bytes()
	if got := b.ComputeHash(); got != sha256.Sum256(h[:]) || got == b.Hash {
		t.Fatal("hash is not SHA-256 of the 200 header bytes")
	}
}

func TestMerkle(t *testing.T) {
	leafOf := func(s string) [32]byte { return Leaf([]byte(s)) }
	node := func(a, b [32]byte) [32]byte { return merkle([][32]byte{a, b}) }
	a, b, c, d, e := leafOf("a"), leafOf("b"), leafOf("c"), leafOf("d"), leafOf("e")
	cases := []struct {
		in   [][32]byte
		want [32]byte
	}{
		{[][32]byte{a}, a},
		{[][32]byte{a, b}, node(a, b)},
		{[][32]byte{a, b, c}, node(node(a, b), c)},
		{[][32]byte{a, b, c, d, e}, node(node(node(a, b), node(c, d)), e)},
	}
	for i, c := range cases {
		if got := merkle(c.in); got != c.want {
			t.Errorf("case %d: merkle shape is not RFC 6962's", i)
		}
	}
	// A duplicated last leaf must not give the same root (CVE-2012-2459).
	if merkle([][32]byte{a, b, c}) == merkle([][32]byte{a, b, c, c}) {
		t.Error("duplicating the last leaf keeps the root")
	}
	// Leaves and nodes are domain-separated.
	if Leaf(append(append([]byte{1}, a[:]...), b[:]...)) == node(a, b) {
		t.Error("a leaf can pose as a node")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		b := sampleBlock(n)
		line := b.JSON()
		got, err := Parse(line)
		if err != nil {
			t.Fatalf("%d txs: %v", n, err)
		}
		if got.CanonicalSize() != len(line) || !bytes.Equal(got.JSON(), line) || got.ComputeHash() != b.Hash {
			t.Fatalf("%d txs: round trip changed the block", n)
		}
	}
}

// TestCanonicalSize: the size of a block is that of its canonical line,
// whatever blanks the line it was decoded from holds between tokens, and
// CanonicalSize counts it without the line.
func TestCanonicalSize(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		line := sampleBlock(n).JSON()
		for _, padded := range [][]byte{
			line,
			bytes.ReplaceAll(line, []byte(","), []byte(", ")),
			bytes.ReplaceAll(line, []byte(":"), []byte(":\t")),
			append([]byte(" \t "), line...),
		} {
			got, err := Parse(padded)
			if err != nil {
				t.Fatalf("%d txs, %d-byte line: %v", n, len(padded), err)
			}
			if got.CanonicalSize() != len(line) {
				t.Errorf("%d txs, %d-byte line: CanonicalSize %d, want %d", n, len(padded), got.CanonicalSize(), len(line))
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := string(sampleBlock(1).JSON())
	reward := `{"type":"reward","receiver":"x","amount":1,"index":7}`
	cases := []struct {
		name, line string
		code       rule.Code
		header     bool // ParseHeader accepts it: the fault is in what a transaction holds
	}{
		{"not a block", strings.Replace(good, `"type":"block"`, `"type":"tx"`, 1), rule.BadType, false},
		{"no transactions", strings.Replace(good, good[strings.Index(good, `"transactions"`):], `"transactions":[]}`, 1), rule.NoReward, true},
		{"tx first", strings.Replace(good, `"transactions":[{"type":"reward"`, `"transactions":[{"type":"tx"`, 1), rule.NoReward, true},
		{"second reward", strings.Replace(good, `]}`, ","+reward+`]}`, 1), rule.ExtraReward, true},
		{"unknown field in a tx", strings.Replace(good, `"fee":`, `"nonce":1,"fee":`, 1), rule.UnknownField, true},
		{"bad tx inside", strings.Replace(good, `"amount":1,`, `"amount":-1,`, 1), rule.BadNumber, false},
		{"long miner", strings.Replace(good, `"miner":"dcnj1`, `"miner":"dcnj1`+strings.Repeat("a", 30), 1), rule.BadAddress, false},
		{"short hash", strings.Replace(good, `"hash":"`, `"hash":"0`, 1), rule.BadHex, false},
		{"unknown field", strings.Replace(good, `"proof":`, `"nonce":1,"proof":`, 1), rule.UnknownField, false},
		{"transactions not array", strings.Replace(good, good[strings.Index(good, `"transactions"`):], `"transactions":{}}`, 1), rule.BadField, false},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.line))
		if got := rule.CodeOf(err); got != c.code {
			t.Errorf("%s: code %q (%v), want %q", c.name, got, err, c.code)
		}
		_, herr := ParseHeader([]byte(c.line))
		switch {
		case c.header && herr != nil:
			t.Errorf("%s: ParseHeader: %v", c.name, herr)
		case !c.header && fmt.Sprint(herr) != fmt.Sprint(err):
			t.Errorf("%s: ParseHeader: %v, Parse: %v", c.name, herr, err)
		}
	}
	// Every cut of a valid line is refused, by both.
	for i := 0; i < len(good); i += 7 {
		if _, err := Parse([]byte(good[:i])); err == nil {
			t.Fatalf("cut at %d accepted", i)
		}
		if _, err := ParseHeader([]byte(good[:i])); err == nil {
			t.Fatalf("ParseHeader: cut at %d accepted", i)
		}
	}
}

// TestParseHeader checks that ParseHeader reads what Parse reads but the
// transactions.
func TestParseHeader(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		b := sampleBlock(n)
		line := b.JSON()
		h, err := ParseHeader(line)
		if err != nil {
			t.Fatalf("%d txs: %v", n, err)
		}
		if h.Header != b.Header || h.Hash != b.Hash || h.Size != 0 || h.Txs != nil || h.Reward != (tx.Reward{}) {
			t.Fatalf("%d txs: got %+v, want the header of %+v", n, h, b)
		}
	}
}

// FuzzParseHeader checks ParseHeader against Parse on any line: a line
// Parse accepts has the same header and hash, and a line ParseHeader
// refuses gets the very error Parse gives it.
func FuzzParseHeader(f *testing.F) {
	for _, n := range []int{0, 1, 5} {
		f.Add(sampleBlock(n).JSON())
	}
	good := string(sampleBlock(1).JSON())
	f.Add([]byte(strings.Replace(good, `"amount":1,`, `"amount":-1,`, 1)))
	f.Add([]byte(strings.Replace(good, `"proof":`, `"nonce":1,"proof":`, 1)))
	f.Add([]byte(strings.Replace(good, `"fee":`, `"fee":1,"Fee":`, 1)))
	f.Add([]byte(good[:len(good)/2]))
	f.Fuzz(func(t *testing.T, line []byte) {
		b, err := Parse(line)
		h, herr := ParseHeader(line)
		if herr != nil {
			if fmt.Sprint(herr) != fmt.Sprint(err) {
				t.Fatalf("ParseHeader: %v, Parse: %v", herr, err)
			}
			return
		}
		if err == nil && (h.Header != b.Header || h.Hash != b.Hash) {
			t.Fatalf("ParseHeader read %+v, Parse %+v", h.Header, b.Header)
		}
		if h.Txs != nil {
			t.Fatal("ParseHeader decoded transactions")
		}
	})
}

// TestMerkleProof: for every leaf of trees of 1 to 40 leaves, the audit
// path leads to the root (RFC 9162's verification), and a path that lies
// (a wrong position, tree size, sibling or leaf) does not.
func TestMerkleProof(t *testing.T) {
	for n := 1; n <= 40; n++ {
		leaves := make([][32]byte, n)
		for i := range leaves {
			leaves[i] = Leaf([]byte(fmt.Sprint("leaf ", i)))
		}
		root := merkle(leaves)
		for pos := 0; pos < n; pos++ {
			path := MerkleProof(leaves, pos)
			if !VerifyProof(leaves[pos], uint64(pos), uint64(n), path, root) {
				t.Fatalf("n=%d pos=%d: the proof does not verify", n, pos)
			}
			if n > 1 {
				if VerifyProof(leaves[pos], uint64((pos+1)%n), uint64(n), path, root) {
					t.Errorf("n=%d pos=%d: verifies at another position", n, pos)
				}
				if VerifyProof(leaves[(pos+1)%n], uint64(pos), uint64(n), path, root) {
					t.Errorf("n=%d pos=%d: verifies another leaf", n, pos)
				}
				bad := append([][32]byte{}, path...)
				bad[len(bad)-1][0] ^= 1
				if VerifyProof(leaves[pos], uint64(pos), uint64(n), bad, root) {
					t.Errorf("n=%d pos=%d: verifies with a changed sibling", n, pos)
				}
				if VerifyProof(leaves[pos], uint64(pos), uint64(n), path[:len(path)-1], root) {
					t.Errorf("n=%d pos=%d: verifies with a short path", n, pos)
				}
			}
		}
		if MerkleProof(leaves, n) != nil || MerkleProof(leaves, -1) != nil {
			t.Errorf("n=%d: a proof for a leaf out of range", n)
		}
	}
}

// TestDecodeHeader: the 200 bytes come back as the header, and every
// byte string that Bytes would not give is refused with bad-field.
func TestDecodeHeader(t *testing.T) {
	b := sampleBlock(3)
	enc := b.Bytes()
	h, err := DecodeHeader(enc[:])
	if err != nil || h != b.Header {
		t.Fatalf("DecodeHeader(Bytes()) = %+v, %v; want %+v", h, err, b.Header)
	}
	mut := func(f func(x []byte) []byte) []byte {
		x := append([]byte(nil), enc[:]...)
		return f(x)
	}
	bad := map[string][]byte{
		"one byte short":        enc[:HeaderSize-1],
		"one byte long":         append(enc[:], 0),
		"another magic":         mut(func(x []byte) []byte { x[7] = '2'; return x }),
		"timestamp above int64": mut(func(x []byte) []byte { x[16] = 0x80; return x }),
		"miner too long":        mut(func(x []byte) []byte { x[120] = MaxMinerLen + 1; return x }),
		"padding not zero":      mut(func(x []byte) []byte { x[PrefixSize-1] = 1; return x }),
	}
	for name, x := range bad {
		if _, err := DecodeHeader(x); rule.CodeOf(err) != rule.BadField {
			t.Errorf("%s: err %v, want bad-field", name, err)
		}
	}
	// The longest miner fills the prefix to its last byte and still decodes.
	long := sampleBlock(3)
	long.Miner = strings.Repeat("a", MaxMinerLen)
	lb := long.Bytes()
	if h, err := DecodeHeader(lb[:]); err != nil || h.Miner != long.Miner {
		t.Fatalf("miner of MaxMinerLen: %v", err)
	}
}

// TestMerklePath: folding each audit path by its sides gives the root,
// for every leaf of trees of 1 to 17 leaves.
func TestMerklePath(t *testing.T) {
	for n := 1; n <= 17; n++ {
		leaves := make([][32]byte, n)
		for i := range leaves {
			leaves[i] = Leaf([]byte{byte(i)})
		}
		root := merkle(leaves)
		for pos := range n {
			h := leaves[pos]
			for _, s := range MerklePath(leaves, pos) {
				if s.Left {
					h = MerkleParent(s.Sibling, h)
				} else {
					h = MerkleParent(h, s.Sibling)
				}
			}
			if h != root {
				t.Errorf("n=%d pos=%d: the path folds to %x, the root is %x", n, pos, h[:4], root[:4])
			}
		}
	}
	if MerklePath(make([][32]byte, 3), 3) != nil || MerklePath(make([][32]byte, 3), -1) != nil {
		t.Error("a position out of range has a path")
	}
}
