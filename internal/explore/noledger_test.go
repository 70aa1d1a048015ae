package explore_test

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/tx"
)

// TestAnswersWithoutLedger: a node opened without its ledger
// (node.Options.NoLedger, as cnj-chain opens for tip, block, tx and
// history) gives the answers of a full open: confirmations, the side
// branch's block, the pending transfer.
func TestAnswersWithoutLedger(t *testing.T) {
	c := newChain(t)
	// Block 7 moves the tip: mempool.bin is written with the pending
	// transfer, which it leaves in the pool, and the state file on Close.
	w := open(t, c.dir)
	b7, err := testchain.Forge(w, c.carol.addr, []*tx.Tx{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := w.AddMined(b7); err != nil || v.Err != nil || !v.Tip {
		t.Fatalf("block 7: %v %+v", err, v)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	light, err := node.OpenWith(c.dir, node.Options{NoLedger: true})
	if err != nil {
		t.Fatal(err)
	}
	defer light.Close()
	if light.Chain().Ledger() != nil || light.Pool.Len() != 1 {
		t.Fatalf("the node decoded its ledger (%v) or lost the pending transfer (%d pooled)", light.Chain().Ledger() != nil, light.Pool.Len())
	}
	full := open(t, c.dir)
	lf, ll := lookup(t, full), lookup(t, light)

	answer := func(l explore.Lookup, q func(explore.Lookup, *bytes.Buffer) error) string {
		var out bytes.Buffer
		if err := q(l, &out); err != nil {
			return "error: " + err.Error()
		}
		return out.String()
	}
	same := func(what string, q func(explore.Lookup, *bytes.Buffer) error) {
		t.Helper()
		if got, want := answer(ll, q), answer(lf, q); got != want {
			t.Errorf("%s:\nwithout ledger %s\n          full %s", what, got, want)
		}
	}
	same("tip", func(l explore.Lookup, out *bytes.Buffer) error { return explore.Tip(l.N, out) })
	refs := []string{hex.EncodeToString(c.side.Hash[:]), hex.EncodeToString(b7.Hash[:])}
	for h := range 9 {
		refs = append(refs, strconv.Itoa(h))
	}
	for _, ref := range refs {
		same("block "+ref, func(l explore.Lookup, out *bytes.Buffer) error { return explore.Block(l.N, ref, out) })
	}
	ids := [][]byte{c.mined.ID[:], c.pending.ID[:], rewardLeaf(c.side), rewardLeaf(b7), make([]byte, 16)}
	for _, b := range c.blocks[1:] {
		ids = append(ids, rewardLeaf(b))
	}
	for _, id := range ids {
		ref := hex.EncodeToString(id)
		same("tx "+ref, func(l explore.Lookup, out *bytes.Buffer) error { return explore.Tx(l, ref, out) })
	}
	for _, a := range []string{c.alice.addr, c.bob.addr, c.carol.addr, c.dave.addr} {
		same("history "+a, func(l explore.Lookup, out *bytes.Buffer) error { return explore.History(l, a, out) })
	}
	if ll.N.Chain().Tip().Hash != b7.Hash {
		t.Fatalf("tip %x, want block 7", ll.N.Chain().Tip().Hash[:4])
	}
	var pendingLine bytes.Buffer
	if err := explore.Tx(ll, hex.EncodeToString(c.pending.ID[:]), &pendingLine); err != nil || !bytes.Contains(pendingLine.Bytes(), []byte(`"pending":true`)) {
		t.Fatalf("the pending transfer: %v %s", err, pendingLine.Bytes())
	}
}
