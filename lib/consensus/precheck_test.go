package consensus

import (
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/vectors"
)

// TestVerifyBlocks: blocks whose signatures verify are marked and CheckBody
// passes them; a block with a bad signature is left unmarked, so CheckBody
// still refuses it with bad-signature.
func TestVerifyBlocks(t *testing.T) {
	p := vectors.Genesis()
	var line string
	for _, v := range vectors.All() {
		if v.Name == "block-json" {
			line = v.Value
		}
	}
	good, err := block.Parse([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := block.Parse([]byte(line))
	bad.Txs[0].Signature[10] ^= 1
	bad.MerkleRoot = block.MerkleRoot(p.Hash(), &bad.Reward, bad.Txs)
	bad.Size = 0
	if strings.Contains(string(bad.JSON()), "\n") {
		t.Fatal("unexpected newline")
	}

	VerifyBlocks([]*block.Block{good, bad})
	if !good.SigsVerified() || bad.SigsVerified() {
		t.Fatalf("marks: good %v, bad %v", good.SigsVerified(), bad.SigsVerified())
	}
	if _, err := CheckBody(good, p); err != nil {
		t.Errorf("CheckBody(good): %v", err)
	}
	if _, err := CheckBody(bad, p); rule.CodeOf(err) != rule.BadSignature {
		t.Errorf("CheckBody(bad) = %v, want bad-signature", err)
	}
}
