package web

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/tx"
)

var update = flag.Bool("update", false, "write the golden answers of testdata/api from the server's")

// goldenValues names the values of the fixture that change from run to
// run (hashes, times, proofs, keys, signatures, ids): a golden answer
// holds ${NAME} where the answer holds the value, and everything else
// literally.
func goldenValues(f *fixture) map[string]string {
	v := map[string]string{}
	hx := func(b []byte) string { return hex.EncodeToString(b) }
	gh := f.p.Hash()
	v["HASH0"] = hx(gh[:])
	v["TIME0"] = strconv.FormatInt(f.p.Timestamp, 10)
	v["SALT"] = hex.EncodeToString(f.p.Salt[:])
	for h := 1; h <= fixtureHeight; h++ {
		b := f.blocks[h]
		k := strconv.Itoa(h)
		v["HASH"+k] = hx(b.Hash[:])
		v["TIME"+k] = strconv.FormatInt(b.Timestamp, 10)
		v["PROOF"+k] = strconv.FormatUint(b.Proof, 10)
		v["MERKLE"+k] = hx(b.MerkleRoot[:])
		hdr := b.Bytes()
		v["HEADER"+k] = hx(hdr[:])
		leaf := block.Leaf(b.Reward.Canonical())
		v["REWARD"+k] = hx(leaf[:])
		for i, t := range b.Txs {
			name := fmt.Sprintf("%d_%d", h, i+1)
			transferValues(v, name, t)
			leaf := block.Leaf(t.Canonical(f.p.Hash()))
			v["LEAF"+name] = hx(leaf[:])
		}
		// The inner nodes of block 6's tree (three leaves).
		if len(b.Txs) == 2 {
			leaves := block.Leaves(f.p.Hash(), &b.Reward, b.Txs)
			n := block.MerkleProof(leaves, 2)[0]
			v["NODE"+k] = hx(n[:])
		}
	}
	transferValues(v, "P", f.pending)
	for name, w := range map[string]wallet{"MINER": f.miner, "ALICE": f.alice, "BOB": f.bob} {
		v[name] = w.addr
		v["PUB_"+name] = hx(w.priv.Public().(ed25519.PublicKey))
	}
	return v
}

func transferValues(v map[string]string, name string, t *tx.Tx) {
	v["ID"+name] = hex.EncodeToString(t.ID[:])
	v["TXHASH"+name] = hex.EncodeToString(t.Hash[:])
	v["SIG"+name] = hex.EncodeToString(t.Signature[:])
	v["TXTIME"+name] = strconv.FormatInt(t.Timestamp, 10)
}

// named replaces the values in b by their names, longest value first.
func named(b []byte, vals map[string]string) []byte {
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if d := len(vals[b]) - len(vals[a]); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, k := range names {
		if strings.HasPrefix(k, "PROOF") {
			// Seven digits that amounts may hold too: only as a proof.
			for _, field := range []string{`"nonce":`, `"proof":`} {
				b = bytes.ReplaceAll(b, []byte(field+vals[k]), []byte(field+"${"+k+"}"))
			}
			continue
		}
		b = bytes.ReplaceAll(b, []byte(vals[k]), []byte("${"+k+"}"))
	}
	return b
}

// rendered replaces the names in a golden answer by their values.
func rendered(t *testing.T, g []byte, vals map[string]string) []byte {
	t.Helper()
	out := os.Expand(string(g), func(k string) string {
		v, ok := vals[k]
		if !ok {
			t.Fatalf("golden answer names an unknown value ${%s}", k)
		}
		return v
	})
	return []byte(out)
}

// TestGolden pins the JSON of every answer of the API on the fixture:
// Esplora's fields, cnj's beside them, their order and their values.
// Regenerate with go test -run TestGolden -update, and read the diff.
func TestGolden(t *testing.T) {
	f := getFixture(t)
	_, ts, logs := newServer(t, Config{})
	vals := goldenValues(f)
	hash := func(h int) string { return vals["HASH"+strconv.Itoa(h)] }
	alice, bob := f.alice.addr, f.bob.addr
	for _, g := range []struct{ file, path string }{
		{"blocks", "/api/blocks"},
		{"blocks-2", "/api/blocks/2"},
		{"v1-blocks-2", "/api/v1/blocks/2"},
		{"block-5", "/api/block/" + hash(5)},
		{"v1-block-5", "/api/v1/block/" + hash(5)},
		{"block-0", "/api/block/" + hash(0)},
		{"block-8-status", "/api/block/" + hash(8) + "/status"},
		{"block-5-status", "/api/block/" + hash(5) + "/status"},
		{"block-6-txids", "/api/block/" + hash(6) + "/txids"},
		{"block-6-txs", "/api/block/" + hash(6) + "/txs"},
		{"block-6-txs-0", "/api/block/" + hash(6) + "/txs/0"},
		{"block-6-txid-2", "/api/block/" + hash(6) + "/txid/2"},
		{"block-6-header", "/api/block/" + hash(6) + "/header"},
		{"block-5-raw", "/api/block/" + hash(5) + "/raw"},
		{"block-0-raw", "/api/block/" + hash(0) + "/raw"},
		{"tx-mined", "/api/tx/" + vals["ID5_1"]},
		{"tx-mined-status", "/api/tx/" + vals["ID5_1"] + "/status"},
		{"tx-mined-merkle-proof", "/api/tx/" + vals["ID5_1"] + "/merkle-proof"},
		{"tx-6-2-merkle-proof", "/api/tx/" + vals["ID6_2"] + "/merkle-proof"},
		{"tx-reward-6-merkle-proof", "/api/tx/" + vals["REWARD6"] + "/merkle-proof"},
		{"tx-pending", "/api/tx/" + vals["IDP"]},
		{"tx-pending-status", "/api/tx/" + vals["IDP"] + "/status"},
		{"tx-reward-7", "/api/tx/" + vals["REWARD7"]},
		{"address-alice", "/api/address/" + alice},
		{"address-bob", "/api/address/" + bob},
		{"address-alice-txs", "/api/address/" + alice + "/txs"},
		{"address-bob-txs-chain", "/api/address/" + bob + "/txs/chain"},
		{"address-bob-txs-chain-after", "/api/address/" + bob + "/txs/chain/" + vals["ID6_2"]},
		{"address-alice-txs-mempool", "/api/address/" + alice + "/txs/mempool"},
		{"mempool", "/api/mempool"},
		{"mempool-txids", "/api/mempool/txids"},
		{"mempool-recent", "/api/mempool/recent"},
		{"fee-estimates", "/api/fee-estimates"},
		{"v1-fees-recommended", "/api/v1/fees/recommended"},
		{"v1-fees-mempool-blocks", "/api/v1/fees/mempool-blocks"},
	} {
		t.Run(g.file, func(t *testing.T) {
			resp, body := get(t, "GET", ts.URL+g.path)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", g.path, resp.StatusCode, body)
			}
			path := filepath.Join("testdata", "api", g.file+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, named(body, vals), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := rendered(t, golden, vals); !bytes.Equal(body, want) {
				t.Fatalf("GET %s:\n got %s\nwant %s", g.path, named(body, vals), golden)
			}
		})
	}
	if l := logs.String(); l != "" {
		t.Errorf("the server logged:\n%s", l)
	}
}
