package webclient_test

import (
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chainhash"
	"github.com/coniunctum/cnj/lib/webclient"
)

func headerAt(i uint64) block.Header {
	return block.Header{Index: i, Timestamp: 1700000000 + int64(i), Miner: addrA, Proof: i * 7}
}

func rawHeaders(from, to uint64) string {
	var b []byte
	for i := from; i <= to; i++ {
		h := headerAt(i)
		hb := h.Bytes()
		b = append(b, hb[:]...)
	}
	return string(b)
}

// TestHeaders: headers come back decoded, at their heights; a cut,
// misplaced or malformed header, or more than asked for, is refused.
func TestHeaders(t *testing.T) {
	bad := rawHeaders(1, 2)
	bad = bad[:block.HeaderSize] + "X" + bad[block.HeaderSize+1:]
	n := &node{answers: map[string]string{
		"/api/headers/1?count=3": rawHeaders(1, 3),
		"/api/headers/4?count=5": rawHeaders(4, 5),
		"/api/headers/6?count=2": rawHeaders(6, 7)[:2*block.HeaderSize-1],
		"/api/headers/8?count=2": rawHeaders(9, 10),
		"/api/headers/1?count=2": bad,
		"/api/headers/1?count=1": rawHeaders(1, 2),
		"/api/headers/9?count=1": "",
	}}
	addr := serve(t, n)
	c := client(0)
	hs, err := c.Headers(t.Context(), addr, 1, 3)
	if err != nil || len(hs) != 3 || hs[2] != headerAt(3) {
		t.Fatalf("Headers(1, 3) = %v, %v", hs, err)
	}
	if hs, err := c.Headers(t.Context(), addr, 4, 5); err != nil || len(hs) != 2 {
		t.Fatalf("Headers at the tip = %v, %v", hs, err)
	}
	if hs, err := c.Headers(t.Context(), addr, 9, 1); err != nil || len(hs) != 0 {
		t.Fatalf("Headers above the tip = %v, %v", hs, err)
	}
	_, err = c.Headers(t.Context(), addr, 6, 2)
	mustContain(t, err, "not whole headers of 200")
	_, err = c.Headers(t.Context(), addr, 8, 2)
	mustContain(t, err, "header 1 is of height 9")
	_, err = c.Headers(t.Context(), addr, 1, 2)
	mustContain(t, err, "header 2: bad-field")
	_, err = c.Headers(t.Context(), addr, 1, 1)
	mustContain(t, err, "answer longer than 200 bytes")
	_, err = c.Headers(t.Context(), addr, 1, webclient.MaxHeaders+1)
	mustContain(t, err, "not 1 to 2000")
}

func TestMerkleProofAndFate(t *testing.T) {
	h := strings.Repeat("ab", 32)
	n := &node{answers: map[string]string{
		"/api/tx/" + id1 + "/merkle-proof":                      `{"block_height":5,"merkle":["` + h + `"],"pos":1,"tx_count":2}`,
		"/api/tx/" + strings.Repeat("11", 16) + "/merkle-proof": `{"block_height":5,"merkle":["zz"],"pos":1,"tx_count":2}`,
		"/api/tx/" + strings.Repeat("22", 16) + "/merkle-proof": `{"block_height":5,"pos":1,"tx_count":2}`,
		"/api/tx/" + id1 + "/fate":                              `{"txid":"` + id1 + `","state":"refused","reason":"insufficient-funds","msg":"has 1\u0007"}`,
		"/api/tx/" + strings.Repeat("11", 16) + "/fate":         `{"txid":"` + strings.Repeat("11", 16) + `","state":"confirmed","block_height":5,"block_hash":"` + hash5 + `","confirmations":3}`,
		"/api/tx/" + strings.Repeat("22", 16) + "/fate":         `{"txid":"` + id1 + `","state":"pending"}`,
		"/api/tx/" + strings.Repeat("33", 16) + "/fate":         `{"txid":"` + strings.Repeat("33", 16) + `","state":"refused","reason":"Bad Code"}`,
		"/api/tx/" + strings.Repeat("44", 16) + "/fate":         `{"txid":"` + strings.Repeat("44", 16) + `","state":"lost"}`,
		"/api/tx/" + strings.Repeat("55", 16) + "/fate":         `{"txid":"` + strings.Repeat("55", 16) + `","state":"dropped","reason":"evicted","time":9,"returned":2,"events":[]}`,
		"/api/tx/" + strings.Repeat("66", 16) + "/fate":         `{"txid":"` + strings.Repeat("66", 16) + `","state":"dropped","returned":0,"events":[]}`,
	}}
	addr := serve(t, n)
	c := client(0)
	id, _ := chainhash.ParseID(id1)
	p, err := c.MerkleProof(t.Context(), addr, id[:])
	if err != nil || p.Height != 5 || p.Pos != 1 || p.Count != 2 || len(p.Path) != 1 || p.Path[0][0] != 0xab {
		t.Fatalf("MerkleProof = %+v, %v", p, err)
	}
	id11, _ := chainhash.ParseID(strings.Repeat("11", 16))
	id22, _ := chainhash.ParseID(strings.Repeat("22", 16))
	id33, _ := chainhash.ParseID(strings.Repeat("33", 16))
	id44, _ := chainhash.ParseID(strings.Repeat("44", 16))
	_, err = c.MerkleProof(t.Context(), addr, id11[:])
	mustContain(t, err, "merkle 0")
	_, err = c.MerkleProof(t.Context(), addr, id22[:])
	mustContain(t, err, "not a merkle proof")

	f, err := c.Fate(t.Context(), addr, id)
	if err != nil || f.State != "refused" || f.Reason != "insufficient-funds" || f.Msg != "has 1?" {
		t.Fatalf("Fate refused = %+v, %v", f, err)
	}
	f, err = c.Fate(t.Context(), addr, id11)
	if err != nil || f.State != "confirmed" || f.Height != 5 || f.Confirmations != 3 || f.Block.String() != hash5 {
		t.Fatalf("Fate confirmed = %+v, %v", f, err)
	}
	_, err = c.Fate(t.Context(), addr, id22)
	mustContain(t, err, "not the transfer's fate")
	_, err = c.Fate(t.Context(), addr, id33)
	mustContain(t, err, "refused without a reason code")
	id55, _ := chainhash.ParseID(strings.Repeat("55", 16))
	f, err = c.Fate(t.Context(), addr, id55)
	if err != nil || f.State != "dropped" || f.Reason != "evicted" || f.Returned != 2 {
		t.Fatalf("Fate dropped = %+v, %v", f, err)
	}
	id66, _ := chainhash.ParseID(strings.Repeat("66", 16))
	_, err = c.Fate(t.Context(), addr, id66)
	mustContain(t, err, "dropped without a reason code")
	_, err = c.Fate(t.Context(), addr, id44)
	mustContain(t, err, `state "lost"`)
}
