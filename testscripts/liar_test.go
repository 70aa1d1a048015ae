package testscripts

// The lying source: a web app in front of a real cnj-serve that passes
// every request on and changes the answers a wallet checks, one way per
// mode. wallet.txtar starts it with
//
//	liar MODE LISTEN UPSTREAM ADDRFILE
//
// (ADDRFILE holds the wallet's address, which the inventions pay) and
// expects cnj-wallet to catch every lie with nothing counted.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/tx"
)

// The modes of the liar.
const (
	liarInvent    = "invent"    // a payment of 1000 CNJ in the tip block, with a made-up proof
	liarAlter     = "alter"     // the amounts of the address's transfers, changed
	liarProof     = "proof"     // every merkle proof with its first hash changed
	liarLowWork   = "lowwork"   // a chain of its own from the genesis, shorter, paying the address
	liarBadTarget = "badtarget" // the same, its targets all the network's limit
	liarOmit      = "omit"      // the address's confirmed history left out
)

// fakeBlocks is the length of a made-up chain: less work than a devnet
// that mined for a few seconds.
const fakeBlocks = 12

type liar struct {
	mode, upstream, addr string
	p                    *params.Params
	fake                 []*block.Block // fake[i] is block i+1 of the made-up chain
	fakeWork             *big.Int
	pay                  *tx.Tx // the payment the made-up chain or the invention holds
	payHeight            uint64
}

func cmdLiar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: liar MODE LISTEN UPSTREAM ADDRFILE")
	}
	l := &liar{mode: args[0], upstream: args[2], addr: strings.TrimSpace(ts.ReadFile(args[3]))}
	resp, err := http.Get("http://" + l.upstream + "/api/genesis")
	if err != nil {
		ts.Fatalf("liar: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if l.p, err = params.Parse(bytes.TrimSpace(b)); err != nil {
		ts.Fatalf("liar: genesis: %v", err)
	}
	l.pay = l.payment(1000 * 100_000_000)
	switch l.mode {
	case liarLowWork, liarBadTarget:
		l.mine(l.mode == liarBadTarget)
	case liarInvent, liarAlter, liarProof, liarOmit:
	default:
		ts.Fatalf("liar: unknown mode %q", l.mode)
	}
	ln, err := net.Listen("tcp", args[1])
	if err != nil {
		ts.Fatalf("liar: %v", err)
	}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
}

// payment is a transfer to the address from a key of the liar's own:
// well formed and signed, so only its place in a block can betray it.
func (l *liar) payment(amt uint64) *tx.Tx {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	t := &tx.Tx{Sender: keys.Address(l.p.AddressPrefix, priv.Public().(ed25519.PublicKey)), Receiver: l.addr,
		Amount: amt, Fee: l.p.MinFee, Timestamp: time.Now().Unix()}
	copy(t.ID[:], bytes.Repeat([]byte{0xfa}, 16))
	t.Sign(l.p.Hash(), priv)
	return t
}

// mine makes a chain of fakeBlocks from the genesis, block 5 paying the
// address; with badTarget every block carries the network's limit and
// comes a second after the one before, which the retarget rule refuses.
func (l *liar) mine(badTarget bool) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	miner := keys.Address(l.p.AddressPrefix, priv.Public().(ed25519.PublicKey))
	prev := l.p.Hash()
	pts := []pow.Point{{Timestamp: l.p.Timestamp, Target: l.p.InitialTarget}}
	l.fakeWork = pow.Work(&l.p.InitialTarget)
	for i := uint64(1); i <= fakeBlocks; i++ {
		b := &block.Block{Header: block.Header{Index: i, Miner: miner, PrevHash: prev,
			Timestamp: l.p.Timestamp + int64(i)*l.p.Spacing}}
		if badTarget {
			b.Timestamp, b.Target = l.p.Timestamp+int64(i), l.p.InitialTarget
		} else {
			b.Target = consensus.NextTarget(l.p, &consensus.Context{Branch: pts, ParentIndex: i - 1})
		}
		var txs []*tx.Tx
		if i == 5 {
			txs = []*tx.Tx{l.pay}
			l.payHeight = i
		}
		b.Reward = tx.Reward{Receiver: miner, Amount: l.p.Subsidy(i), Index: i}
		b.Txs = txs
		b.MerkleRoot = block.MerkleRoot(l.p.Hash(), &b.Reward, txs)
		for b.Proof = 1; ; b.Proof++ {
			b.Hash = b.ComputeHash()
			if pow.Meets(&b.Hash, &b.Target) {
				break
			}
		}
		l.fake = append(l.fake, b)
		pts = append(pts, pow.Point{Timestamp: b.Timestamp, Target: b.Target})
		l.fakeWork.Add(l.fakeWork, pow.Work(&b.Target))
		prev = b.Hash
	}
}

func (l *liar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if l.fake != nil {
		if l.serveFake(w, r) {
			return
		}
	}
	resp, err := http.Get("http://" + l.upstream + r.URL.RequestURI())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	chainPage := strings.HasPrefix(path, "/api/address/"+l.addr+"/txs/chain")
	switch {
	case l.mode == liarInvent && path == "/api/address/"+l.addr+"/txs/chain":
		body = l.invent(body)
	case l.mode == liarInvent && path == "/api/tx/"+hex.EncodeToString(l.pay.ID[:])+"/merkle-proof":
		resp.StatusCode = 200
		body = []byte(`{"block_height":` + strconv.FormatUint(l.payHeight, 10) + `,"merkle":["` + strings.Repeat("ab", 32) + `"],"pos":1,"tx_count":2}` + "\n")
	case l.mode == liarAlter && chainPage:
		// Each transfer's amount in its own JSON, one unit more.
		body = regexp.MustCompile(`("type":"tx","id":"[0-9a-f]{32}","sender":"[0-9a-z]+","pubkey":"[0-9a-f]{64}","receiver":"[0-9a-z]+","amount":)([0-9]+)`).
			ReplaceAllFunc(body, func(m []byte) []byte {
				i := bytes.LastIndexByte(m, ':')
				n, _ := strconv.ParseUint(string(m[i+1:]), 10, 64)
				return append(m[:i+1:i+1], strconv.FormatUint(n+1, 10)...)
			})
	case l.mode == liarProof && strings.HasSuffix(path, "/merkle-proof") && resp.StatusCode == 200:
		body = regexp.MustCompile(`"merkle":\["[0-9a-f]`).ReplaceAllFunc(body, func(m []byte) []byte {
			c := m[len(m)-1]
			if c == '0' {
				c = '1'
			} else {
				c = '0'
			}
			return append(m[:len(m)-1:len(m)-1], c)
		})
	case l.mode == liarOmit && chainPage:
		body = []byte("[]\n")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// txObject is the web app's transaction object of a transfer in block b.
func (l *liar) txObject(t *tx.Tx, height uint64, hash [32]byte) string {
	return fmt.Sprintf(`{"txid":"%x","vin":[{"is_coinbase":false}],"vout":[],"status":{"confirmed":true,"block_height":%d,"block_hash":"%x"},"tx":%s}`,
		t.ID, height, hash, t.AppendJSON(nil))
}

// invent adds the payment, confirmed in the upstream's tip block, to the
// first page of the address's history.
func (l *liar) invent(body []byte) []byte {
	var tip struct {
		Height uint64 `json:"height"`
		Hash   string `json:"hash"`
	}
	resp, err := http.Get("http://" + l.upstream + "/api/tip")
	if err != nil {
		return body
	}
	json.NewDecoder(resp.Body).Decode(&tip)
	resp.Body.Close()
	var h [32]byte
	hex.Decode(h[:], []byte(tip.Hash))
	l.payHeight = tip.Height
	obj := l.txObject(l.pay, tip.Height, h)
	s := strings.TrimSpace(string(body))
	if s == "[]" {
		return []byte("[" + obj + "]\n")
	}
	return []byte("[" + obj + "," + s[1:] + "\n")
}

// serveFake answers what a wallet asks of a chain from the made-up one.
func (l *liar) serveFake(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.Path
	tip := l.fake[len(l.fake)-1]
	pay := l.fake[l.payHeight-1]
	switch {
	case path == "/api/tip":
		fmt.Fprintf(w, `{"height":%d,"hash":"%x","work":"%x"}`+"\n", tip.Index, tip.Hash, l.fakeWork)
	case strings.HasPrefix(path, "/api/block-height/"):
		h, err := strconv.ParseUint(strings.TrimPrefix(path, "/api/block-height/"), 10, 64)
		if err != nil || h > uint64(len(l.fake)) {
			w.WriteHeader(http.StatusNotFound)
			return true
		}
		if h == 0 {
			gh := l.p.Hash()
			fmt.Fprintf(w, "%x", gh)
		} else {
			fmt.Fprintf(w, "%x", l.fake[h-1].Hash)
		}
	case strings.HasPrefix(path, "/api/headers/"):
		start, _ := strconv.ParseUint(strings.TrimPrefix(path, "/api/headers/"), 10, 64)
		w.Header().Set("Content-Type", "application/octet-stream")
		for h := start; h >= 1 && h <= uint64(len(l.fake)); h++ {
			b := l.fake[h-1].Bytes()
			w.Write(b[:])
		}
	case path == "/api/address/"+l.addr:
		fmt.Fprintf(w, `{"address":%q,"confirmed":%d,"immature":0,"pending":0,"height":%d}`+"\n", l.addr, l.pay.Amount, tip.Index)
	case path == "/api/address/"+l.addr+"/txs/chain":
		fmt.Fprintf(w, "[%s]\n", l.txObject(l.pay, pay.Index, pay.Hash))
	case path == "/api/address/"+l.addr+"/txs/mempool":
		io.WriteString(w, "[]\n")
	case path == "/api/tx/"+hex.EncodeToString(l.pay.ID[:])+"/merkle-proof":
		leaves := block.Leaves(l.p.Hash(), &pay.Reward, pay.Txs)
		var hs []string
		for _, h := range block.MerkleProof(leaves, 1) {
			hs = append(hs, `"`+hex.EncodeToString(h[:])+`"`)
		}
		fmt.Fprintf(w, `{"block_height":%d,"merkle":[%s],"pos":1,"tx_count":%d}`+"\n", pay.Index, strings.Join(hs, ","), len(leaves))
	default:
		return false
	}
	return true
}
