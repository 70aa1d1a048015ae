package consensus

import (
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/vectors"
)

// TestPrecheck: a block that passes Precheck is marked for its network
// only, and CheckBody returns its fees without checking again; a block
// with a bad signature is left unmarked, so CheckBody still refuses it with
// bad-signature.
func TestPrecheck(t *testing.T) {
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
	fees, err := CheckBody(good, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := Precheck(good, p); err != nil {
		t.Fatalf("Precheck(good): %v", err)
	}
	if f, ok := good.BodyChecked(p); !ok || f != fees {
		t.Fatalf("BodyChecked = %d, %v; want %d, true", f, ok, fees)
	}
	other, err := params.NewDevnet(params.DevnetOptions{Timestamp: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := good.BodyChecked(other); ok {
		t.Fatal("a mark for one network counts for another")
	}

	bad, _ := block.Parse([]byte(line))
	bad.Txs[0].Signature[10] ^= 1
	bad.MerkleRoot = block.MerkleRoot(p.Hash(), &bad.Reward, bad.Txs)
	bad.Size = 0
	if err := Precheck(bad, p); rule.CodeOf(err) != rule.BadSignature {
		t.Fatalf("Precheck(bad) = %v, want bad-signature", err)
	}
	if _, ok := bad.BodyChecked(p); ok {
		t.Fatal("a block that failed is marked")
	}
	if _, err := CheckBody(bad, p); rule.CodeOf(err) != rule.BadSignature {
		t.Errorf("CheckBody(bad) = %v, want bad-signature", err)
	}
}
