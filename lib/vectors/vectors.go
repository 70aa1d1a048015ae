// Package vectors builds the test vectors of cnj-format(5) from fixed inputs:
// a genesis, a key, an address, a signed transfer, a reward and a block
// header. The same values are stored in testdata/vectors.txt and printed in
// the man page; tests check that code, file and page agree.
package vectors

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
)

// Vector is one named value.
type Vector struct{ Name, Value string }

// Genesis is the fixed devnet of the vectors.
func Genesis() *params.Params {
	p := &params.Params{
		Network: "devnet", AddressPrefix: "dcnj", Timestamp: 1795000000,
		Spacing: 2, RetargetWindow: 20, Reward: 5000000000, HalvingInterval: 1000,
		Maturity: 3, MinFee: 1000, MaxBlockBytes: 1 << 20,
	}
	copy(p.Salt[:], "cnj-format-5-vec")
	p.InitialTarget[1] = 0x0f
	for i := 2; i < 32; i++ {
		p.InitialTarget[i] = 0xff
	}
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return p
}

// Key is the fixed key: seed = SHA-256("cnj-format-5 key").
func Key() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("cnj-format-5 key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// All computes every vector.
func All() []Vector {
	p := Genesis()
	priv := Key()
	pub := priv.Public().(ed25519.PublicKey)
	from := keys.Address(p.AddressPrefix, pub)
	seed2 := sha256.Sum256([]byte("cnj-format-5 receiver"))
	priv2 := ed25519.NewKeyFromSeed(seed2[:])
	to := keys.Address(p.AddressPrefix, priv2.Public().(ed25519.PublicKey))
	t := &tx.Tx{Sender: from, Receiver: to, Amount: 150000000, Fee: 1000, Timestamp: 1795000100}
	copy(t.ID[:], []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})
	t.Sign(p.Hash(), priv)
	// The receiver pays back under the same id: ids are scoped to their
	// sender, so a block may carry both.
	back := &tx.Tx{ID: t.ID, Sender: to, Receiver: from, Amount: 1000, Fee: 1000, Timestamp: 1795000150}
	back.Sign(p.Hash(), priv2)
	r := &tx.Reward{Receiver: from, Amount: 5000001000, Index: 1}
	gh := p.Hash()
	b := &block.Block{Header: block.Header{Index: 1, Timestamp: 1795000200, Miner: from, Proof: 1,
		PrevHash: gh, Target: p.InitialTarget}, Reward: *r, Txs: []*tx.Tx{t}}
	b.MerkleRoot = block.MerkleRoot(gh, r, b.Txs)
	b.Hash = b.ComputeHash()
	hb := b.Bytes()
	h := hex.EncodeToString
	return []Vector{
		{"genesis-json", string(p.JSON())},
		{"genesis-canonical", h(p.Canonical())},
		{"genesis-hash", h(gh[:])},
		{"key-seed", "sha256(\"cnj-format-5 key\")"},
		{"key-pubkey", h(pub)},
		{"address", from},
		{"receiver", to},
		{"tx-preimage", h(t.Preimage(gh))},
		{"tx-hash", h(t.Hash[:])},
		{"tx-signature", h(t.Signature[:])},
		{"tx-json", string(t.AppendJSON(nil))},
		{"tx-same-id-json", string(back.AppendJSON(nil))},
		{"reward-canonical", h(r.Canonical())},
		{"merkle-root", h(b.MerkleRoot[:])},
		{"header", h(hb[:])},
		{"block-hash", h(b.Hash[:])},
		{"block-json", string(b.JSON())},
	}
}

// Text renders vectors as "name value" lines.
func Text(vs []Vector) string {
	s := ""
	for _, v := range vs {
		s += fmt.Sprintf("%s %s\n", v.Name, v.Value)
	}
	return s
}
