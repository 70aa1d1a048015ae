package sign_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/testchain"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// testWorkFactor keeps each key file at about a millisecond of scrypt.
const testWorkFactor = 10

// testChain is the chain directory newChain builds, and the signer's key:
//
//	blocks 1..5   rewards to the miner
//	block 5       also miner -> signer 50 CNJ
//	mempool       signer -> payee 20 CNJ (pending)
//
// so that the signer has 50 CNJ confirmed, nothing immature, and 30 CNJ
// less one fee left to sign for.
type testChain struct {
	dir      string
	genesis  string // a copy of the network's genesis file, outside dir
	p        *params.Params
	key      string // the signer's key file
	pass     string // its passphrase file
	signer   string
	payee    string
	pending  *tx.Tx
	spendFor uint64 // amount+fee the signer can still sign for
}

// newChain builds the directory of testChain. All the building of this
// package's tests is here, so that a change of the directory API is a
// change of this function alone.
func newChain(t *testing.T) *testChain {
	t.Helper()
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 60, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) (ed25519.PrivateKey, string) {
		seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("sign-test"), uint64(i)))
		priv := ed25519.NewKeyFromSeed(seed[:])
		return priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	}
	root := t.TempDir()
	c := &testChain{dir: filepath.Join(root, "chain"), genesis: filepath.Join(root, "genesis.json"), p: p,
		key: filepath.Join(root, "signer.key"), pass: filepath.Join(root, "pass")}
	minerKey, miner := key(0)
	signerKey, signer := key(1)
	_, c.payee = key(2)
	c.signer = signer
	if err := os.WriteFile(c.pass, []byte("signer's passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := keys.WriteKeyFile(c.key, signerKey, []byte("signer's passphrase"), testWorkFactor); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.genesis, append(p.JSON(), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := node.Create(c.dir, p); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	mine := func(txs []*tx.Tx) *block.Block {
		t.Helper()
		b, err := testchain.Forge(n, miner, txs)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := n.AddMined(b)
		if err != nil || v.Err != nil || !v.Tip {
			t.Fatalf("block %d: %v %+v", b.Index, err, v)
		}
		return b
	}
	transfer := func(from ed25519.PrivateKey, to string, amt uint64) *tx.Tx {
		t.Helper()
		x := &tx.Tx{Sender: keys.Address(p.AddressPrefix, from.Public().(ed25519.PublicKey)), Receiver: to,
			Amount: amt, Fee: p.MinFee, Timestamp: n.Now()}
		rand.Read(x.ID[:])
		x.Sign(p.Hash(), from)
		vs, err := n.Submit([]node.Item{{Line: &wire.Line{Raw: x.AppendJSON(nil), Tx: x}, Number: 1}}, false)
		if err != nil || vs[0].Err != nil || vs[0].Known {
			t.Fatalf("transfer: %v %+v", err, vs)
		}
		return x
	}
	for range 4 {
		mine([]*tx.Tx{})
	}
	transfer(minerKey, signer, 50*amount.Coin)
	if b := mine(nil); len(b.Txs) != 1 {
		t.Fatalf("block 5 carries %d transfers", len(b.Txs))
	}
	c.pending = transfer(signerKey, c.payee, 20*amount.Coin)
	c.spendFor = 30*amount.Coin - p.MinFee
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return c
}
