package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/internal/verify"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// TestSideBranchPolicyOnTaggedLines: a block line tagged with a peer's
// address (as cnj-relay listen writes it) is held to the side-branch
// policy, fork-too-deep; the same line untagged, the operator's own
// input, is not.
func TestSideBranchPolicyOnTaggedLines(t *testing.T) {
	c, err := testchain.Build(filepath.Join(t.TempDir(), "chain"), 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.OpenWith(c.Dir, node.Options{MaxForkDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ch, p := n.Chain(), n.Params()
	parent := ch.AtHeight(ch.Tip().Height - 3)
	miner := keys.Address(p.AddressPrefix, ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))
	b := &block.Block{Header: block.Header{Index: parent.Height + 1, Timestamp: parent.Timestamp + 1, Miner: miner,
		PrevHash: parent.Hash, Target: parent.Target}}
	b.Reward = tx.Reward{Receiver: miner, Amount: p.Subsidy(b.Index), Index: b.Index}
	b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, nil)
	if err := testchain.Prove(b); err != nil {
		t.Fatal(err)
	}
	line := string(b.JSON())
	judge := func(in string) (rule.Code, bool) {
		var code rule.Code
		printed := false
		err := verify.Stream(n, strings.NewReader(in+"\n"), false, func(it node.Item, v node.Verdict) error {
			code, printed = rule.CodeOf(v.Err), v.Err == nil && !v.Known && !v.Held
			return nil
		}, func() error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return code, printed
	}
	if code, _ := judge("10.0.0.7 " + line); code != rule.ForkTooDeep {
		t.Fatalf("from a peer, 3 blocks below the tip: %q, want fork-too-deep", code)
	}
	if code, printed := judge(line); code != "" || !printed {
		t.Fatalf("untagged: %q, printed %v; want kept and printed", code, printed)
	}
	if got, _ := n.Line(n.Chain().Node(b.Hash)); !bytes.Equal(got, []byte(line)) {
		t.Fatal("the untagged block was not stored")
	}
}
