package wire

import (
	"bytes"
	"crypto/ed25519"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the seed corpora in testdata/fuzz")

// key returns a deterministic test key and its address on p.
func key(p *params.Params, n byte) (ed25519.PrivateKey, string) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
	return priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))
}

// testTx returns a signed transfer of p; n varies its id and keys.
func testTx(p *params.Params, n byte) *tx.Tx {
	priv, from := key(p, n)
	_, to := key(p, n+100)
	t := &tx.Tx{Sender: from, Receiver: to, Amount: 100_000_000 + uint64(n), Fee: 1000, Timestamp: p.Timestamp + int64(n)}
	t.ID[0], t.ID[15] = n, 0xcc
	t.Sign(p.Hash(), priv)
	return t
}

// testBlock returns a block of p with the given transfers; it is not mined
// (decoding does not look at the proof).
func testBlock(p *params.Params, txs ...*tx.Tx) *block.Block {
	_, miner := key(p, 200)
	b := &block.Block{Header: block.Header{Index: 1, Timestamp: p.Timestamp + 2, Miner: miner, Proof: 7, PrevHash: p.Hash(), Target: p.InitialTarget}}
	b.Reward = tx.Reward{Receiver: miner, Amount: p.Subsidy(1), Index: 1}
	b.Txs = txs
	b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, b.Txs)
	b.Hash = b.ComputeHash()
	b.JSON()
	return b
}

// smallNet is main with the smallest block limit, so that tests can reach it.
func smallNet(t testing.TB) *params.Params {
	p := params.Main()
	p.MaxBlockBytes = 4096
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// pad inserts spaces after the first ':' of a JSON line until it is n bytes.
func pad(line []byte, n int) []byte {
	i := bytes.IndexByte(line, ':') + 1
	out := append([]byte(nil), line[:i]...)
	out = append(out, bytes.Repeat([]byte{' '}, n-len(line))...)
	return append(out, line[i:]...)
}

func TestDecodePrefix(t *testing.T) {
	p := params.Main()
	j := string(testTx(p, 1).AppendJSON(nil))
	tests := []struct {
		name string
		line string
		from string // "" for bare
		code rule.Code
	}{
		{"bare", j, "", ""},
		{"ipv4", "127.0.0.2 " + j, "127.0.0.2", ""},
		{"ipv6", "2001:db8::7 " + j, "2001:db8::7", ""},
		{"ipv6 loopback", "::1 " + j, "::1", ""},
		{"ipv4-mapped ipv6", "::ffff:127.0.0.2 " + j, "::ffff:127.0.0.2", ""},
		{"bad ipv4", "127.0.0.256 " + j, "", rule.BadJSON},
		{"hostname", "localhost " + j, "", rule.BadJSON},
		{"ipv4 with port", "127.0.0.2:5050 " + j, "", rule.BadJSON},
		{"ipv6 with port", "[::1]:5050 " + j, "", rule.BadJSON},
		{"bracketed ipv6", "[::1] " + j, "", rule.BadJSON},
		{"ipv6 zone", "fe80::1%eth0 " + j, "", rule.BadJSON},
		{"ipv6 uppercase", "2001:DB8::7 " + j, "", rule.BadJSON},
		{"ipv6 not compressed", "2001:db8:0:0:0:0:0:7 " + j, "", rule.BadJSON},
		{"ipv4 leading zero", "127.0.0.02 " + j, "", rule.BadJSON},
		{"two spaces", "127.0.0.2  " + j, "", rule.BadJSON},
		{"tab", "127.0.0.2\t" + j, "", rule.BadJSON},
		{"space then tab", "127.0.0.2 \t" + j, "", rule.BadJSON},
		{"empty json after ip", "127.0.0.2 ", "", rule.BadJSON},
		{"ip alone", "127.0.0.2", "", rule.BadJSON},
		{"not json after ip", "127.0.0.2 tx", "", rule.BadJSON},
		{"leading space", " " + j, "", rule.BadJSON},
		{"trailing space", j + " ", "", rule.BadJSON},
		{"trailing cr", j + "\r", "", rule.BadJSON},
		{"empty line", "", "", rule.BadJSON},
		{"space only", " ", "", rule.BadJSON},
		{"two tags", "127.0.0.2 127.0.0.3 " + j, "", rule.BadJSON},
		{"long tag", strings.Repeat("1", 100) + " " + j, "", rule.BadJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Decode([]byte(tc.line), p)
			if tc.code != "" {
				if rule.CodeOf(err) != tc.code || l != nil {
					t.Fatalf("Decode = %v, %v; want code %s", l, err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if string(l.Raw) != j || l.Tx == nil || l.Block != nil {
				t.Fatalf("Decode = raw %q tx %v block %v", l.Raw, l.Tx, l.Block)
			}
			var want netip.Addr
			if tc.from != "" {
				want = netip.MustParseAddr(tc.from)
			}
			if l.From != want {
				t.Fatalf("From = %v, want %v", l.From, want)
			}
			if got := Tag(l.From, l.Raw); string(got) != tc.line {
				t.Fatalf("Tag = %q, want the line back", got)
			}
		})
	}
}

func TestDecodeTypes(t *testing.T) {
	p := params.Main()
	tt := testTx(p, 1)
	b := testBlock(p, tt, testTx(p, 2))
	tests := []struct {
		name string
		line []byte
		code rule.Code
	}{
		{"tx", tt.AppendJSON(nil), ""},
		{"block", b.JSON(), ""},
		{"reward", b.Reward.AppendJSON(nil), rule.BadType},
		{"genesis", p.JSON(), rule.BadType},
		{"hello", (&Hello{Version: 1, Address: "127.0.0.2:5050"}).Encode(), rule.BadType},
		{"unknown type", []byte(`{"type":"ping"}`), rule.BadType},
		{"type not a string", []byte(`{"type":1}`), rule.BadField},
		{"no type", []byte(`{"id":"00"}`), rule.MissingField},
		{"array", []byte(`[]`), rule.BadJSON},
		{"tx unknown field", append(bytes.TrimSuffix(tt.AppendJSON(nil), []byte("}")), `,"memo":"x"}`...), rule.UnknownField},
		{"tx uppercase hex", bytes.Replace(tt.AppendJSON(nil), []byte(`"id":"01`), []byte(`"id":"0A`), 1), rule.BadHex},
		{"tx float", bytes.Replace(tt.AppendJSON(nil), []byte(`"fee":1000`), []byte(`"fee":1000.0`), 1), rule.BadNumber},
		{"block without reward", bytes.Replace(b.JSON(), b.Reward.AppendJSON(nil), nil, 1), rule.BadJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Decode(tc.line, p)
			if rule.CodeOf(err) != tc.code {
				t.Fatalf("Decode: %v, want code %q", err, tc.code)
			}
			if (l == nil) == (err == nil) {
				t.Fatalf("Decode = %v, %v: want exactly one", l, err)
			}
		})
	}
}

func TestDecodeBlock(t *testing.T) {
	p := params.Main()
	b := testBlock(p, testTx(p, 1), testTx(p, 2))
	line := Tag(netip.MustParseAddr("10.0.0.1"), b.JSON())
	l, err := Decode(line, p)
	if err != nil {
		t.Fatal(err)
	}
	if l.Block == nil || l.Tx != nil || l.Block.Hash != b.Hash || len(l.Block.Txs) != 2 || l.Block.Size != b.Size {
		t.Fatalf("Decode = %+v", l)
	}
}

func TestDecodeLimits(t *testing.T) {
	p := smallNet(t)
	tx1 := testTx(p, 1).AppendJSON(nil)
	b := testBlock(p, testTx(p, 1), testTx(p, 2)).JSON()
	max := int(p.MaxBlockBytes)
	longIP := "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff " // longest canonical form netip writes, 40 bytes
	tests := []struct {
		name string
		line []byte
		code rule.Code
	}{
		{"tx at the limit", pad(tx1, params.MaxTxLine), ""},
		{"tx one past", pad(tx1, params.MaxTxLine+1), rule.TooLarge},
		{"tagged tx at the limit", append([]byte(longIP), pad(tx1, params.MaxTxLine)...), ""},
		// A block's size is its canonical line's (consensus checks it):
		// blanks up to the reader's cap are not the block's.
		{"block padded to the limit", pad(b, max), ""},
		{"block padded one past", pad(b, max+1), ""},
		{"tagged block padded to the limit", append([]byte(longIP), pad(b, max)...), ""},
		{"tagged block padded one past", append([]byte(longIP), pad(b, max+1)...), ""},
		{"block padded to the cap", pad(b, max+MaxPrefix), ""},
		{"line at the cap", append([]byte(strings.Repeat("x", MaxPrefix)), pad(b, max)...), rule.BadJSON},
		{"line one past the cap", append([]byte(strings.Repeat("x", MaxPrefix+1)), pad(b, max)...), rule.TooLarge},
		{"garbage past the block limit", pad([]byte(`{"type":"block",`), max+1), rule.TooLarge},
		{"garbage under the block limit", pad([]byte(`{"type":"block",`), max), rule.BadJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Decode(tc.line, p)
			if rule.CodeOf(err) != tc.code || (l == nil) == (err == nil) {
				t.Fatalf("Decode (%d bytes) = %v, %v; want code %q", len(tc.line), l, err, tc.code)
			}
			if l != nil && l.Block != nil && (!bytes.Equal(l.Raw, b) || l.Block.CanonicalSize() != len(b)) {
				t.Fatalf("Decode (%d bytes): Raw of %d bytes, size %d; want the canonical line of %d", len(tc.line), len(l.Raw), l.Block.CanonicalSize(), len(b))
			}
		})
	}
	if MaxLine(p) != max+MaxPrefix {
		t.Errorf("MaxLine = %d", MaxLine(p))
	}
}

func TestTag(t *testing.T) {
	raw := []byte(`{"type":"tx"}`)
	for _, tc := range []struct {
		from netip.Addr
		want string
	}{
		{netip.Addr{}, `{"type":"tx"}`},
		{netip.MustParseAddr("127.0.0.2"), `127.0.0.2 {"type":"tx"}`},
		{netip.MustParseAddr("2001:db8::7"), `2001:db8::7 {"type":"tx"}`},
		{netip.MustParseAddr("fe80::1%eth0"), `{"type":"tx"}`},
	} {
		if got := Tag(tc.from, raw); string(got) != tc.want {
			t.Errorf("Tag(%v) = %q, want %q", tc.from, got, tc.want)
		}
	}
}

func TestHello(t *testing.T) {
	p := params.Main()
	h := &Hello{Network: p.Hash(), Version: Version, Address: "127.0.0.2:5050"}
	line := h.Encode()
	want := fmt.Sprintf(`{"type":"hello","network":"%x","version":1,"address":"127.0.0.2:5050"}`, p.Hash())
	if string(line) != want {
		t.Fatalf("Encode = %s\nwant     %s", line, want)
	}
	got, err := DecodeHello(line)
	if err != nil || *got != *h {
		t.Fatalf("DecodeHello = %+v, %v", got, err)
	}
	net := fmt.Sprintf("%x", p.Hash())
	mk := func(fields string) string { return `{"type":"hello",` + fields + `}` }
	tests := []struct {
		name string
		line string
		code rule.Code
	}{
		{"ipv6", mk(`"network":"` + net + `","version":1,"address":"[2001:db8::7]:5050"`), ""},
		{"any order", `{"address":"127.0.0.2:1","version":2,"network":"` + net + `","type":"hello"}`, ""},
		{"version 0", mk(`"network":"` + net + `","version":0,"address":"127.0.0.2:5050"`), rule.BadField},
		{"version string", mk(`"network":"` + net + `","version":"1","address":"127.0.0.2:5050"`), rule.BadField},
		{"version negative", mk(`"network":"` + net + `","version":-1,"address":"127.0.0.2:5050"`), rule.BadNumber},
		{"no port", mk(`"network":"` + net + `","version":1,"address":"127.0.0.2"`), rule.BadField},
		{"port 0", mk(`"network":"` + net + `","version":1,"address":"127.0.0.2:0"`), rule.BadField},
		{"port too big", mk(`"network":"` + net + `","version":1,"address":"127.0.0.2:65536"`), rule.BadField},
		{"hostname", mk(`"network":"` + net + `","version":1,"address":"localhost:5050"`), rule.BadField},
		{"zone", mk(`"network":"` + net + `","version":1,"address":"[fe80::1%eth0]:5050"`), rule.BadField},
		{"unbracketed ipv6", mk(`"network":"` + net + `","version":1,"address":"::1:5050"`), rule.BadField},
		{"port leading zero", mk(`"network":"` + net + `","version":1,"address":"127.0.0.2:05050"`), rule.BadField},
		{"uppercase ipv6", mk(`"network":"` + net + `","version":1,"address":"[2001:DB8::7]:5050"`), rule.BadField},
		{"uppercase network", mk(`"network":"` + strings.ToUpper(net) + `","version":1,"address":"127.0.0.2:5050"`), rule.BadHex},
		{"short network", mk(`"network":"` + net[2:] + `","version":1,"address":"127.0.0.2:5050"`), rule.BadHex},
		{"missing address", mk(`"network":"` + net + `","version":1`), rule.MissingField},
		{"extra field", mk(`"network":"` + net + `","version":1,"address":"127.0.0.2:5050","agent":"x"`), rule.UnknownField},
		{"duplicate", mk(`"network":"` + net + `","version":1,"version":1,"address":"127.0.0.2:5050"`), rule.DuplicateKey},
		{"wrong type", `{"type":"tx","network":"` + net + `","version":1,"address":"127.0.0.2:5050"}`, rule.BadType},
		{"tagged", "127.0.0.2 " + string(line), rule.BadJSON},
		{"too large", mk(`"network":"` + net + `","version":1,"address":"127.0.0.2:5050"` + strings.Repeat(" ", MaxHelloLine)), rule.TooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := DecodeHello([]byte(tc.line))
			if rule.CodeOf(err) != tc.code || (h == nil) == (err == nil) {
				t.Fatalf("DecodeHello = %+v, %v; want code %q", h, err, tc.code)
			}
		})
	}
}

// checkDecode holds the invariants of Decode for any input.
func checkDecode(t *testing.T, data []byte, p *params.Params) {
	l, err := Decode(data, p)
	if (l == nil) == (err == nil) {
		t.Fatalf("Decode = %v, %v: want exactly one of value and error", l, err)
	}
	if err != nil {
		if rule.CodeOf(err) == "" {
			t.Fatalf("Decode error without a code: %v", err)
		}
		return
	}
	if (l.Tx == nil) == (l.Block == nil) {
		t.Fatalf("Decode: want exactly one of Tx and Block")
	}
	// Raw is the line's JSON, but for a block with blanks between its
	// tokens: then it is the block's canonical line.
	if !bytes.Equal(Tag(l.From, l.Raw), data) && (l.Block == nil || !bytes.Equal(l.Raw, l.Block.AppendJSON(nil)) || len(l.Raw) >= len(data)) {
		t.Fatalf("Tag(From, Raw) = %q, want the line", Tag(l.From, l.Raw))
	}
	if l.Tx != nil {
		again, err := Decode(l.Tx.AppendJSON(nil), p)
		if err != nil || again.Tx == nil {
			t.Fatalf("re-encoded tx does not decode: %v", err)
		}
		g := p.Hash()
		if !bytes.Equal(again.Tx.Canonical(g), l.Tx.Canonical(g)) || again.Tx.Hash != l.Tx.Hash {
			t.Fatalf("re-encoded tx decodes to other canonical bytes")
		}
		return
	}
	again, err := Decode(l.Block.AppendJSON(nil), p)
	if err != nil || again.Block == nil {
		t.Fatalf("re-encoded block does not decode: %v", err)
	}
	a, b := again.Block, l.Block
	if a.Bytes() != b.Bytes() || a.Hash != b.Hash || !bytes.Equal(a.Reward.Canonical(), b.Reward.Canonical()) || len(a.Txs) != len(b.Txs) {
		t.Fatalf("re-encoded block decodes to another block")
	}
	for i := range a.Txs {
		g := p.Hash()
		if !bytes.Equal(a.Txs[i].Canonical(g), b.Txs[i].Canonical(g)) || a.Txs[i].Hash != b.Txs[i].Hash {
			t.Fatalf("re-encoded block: transaction %d differs", i+1)
		}
	}
}

func FuzzDecode(f *testing.F) {
	p := smallNet(f)
	f.Add(testTx(p, 1).AppendJSON(nil))
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data, p) })
}

func FuzzDecodeHello(f *testing.F) {
	f.Add((&Hello{Version: 1, Address: "127.0.0.2:5050"}).Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DecodeHello(data)
		if (h == nil) == (err == nil) {
			t.Fatalf("DecodeHello = %v, %v: want exactly one of value and error", h, err)
		}
		if err != nil {
			if rule.CodeOf(err) == "" {
				t.Fatalf("DecodeHello error without a code: %v", err)
			}
			return
		}
		line := h.Encode()
		again, err := DecodeHello(line)
		if err != nil || *again != *h || !bytes.Equal(again.Encode(), line) {
			t.Fatalf("re-encoded hello %s: %+v, %v", line, again, err)
		}
	})
}

// seeds are the inputs kept in testdata/fuzz; go test -run TestSeeds
// -update-seeds rewrites them.
func seeds(t testing.TB) map[string]map[string][]byte {
	p := smallNet(t)
	tx1 := testTx(p, 1).AppendJSON(nil)
	b := testBlock(p, testTx(p, 1), testTx(p, 2)).JSON()
	h := (&Hello{Network: p.Hash(), Version: 1, Address: "127.0.0.2:5050"}).Encode()
	return map[string]map[string][]byte{
		"FuzzDecode": {
			"tx":              tx1,
			"tx_tagged":       Tag(netip.MustParseAddr("127.0.0.2"), tx1),
			"tx_tagged_ipv6":  Tag(netip.MustParseAddr("2001:db8::7"), tx1),
			"tx_two_spaces":   append([]byte("127.0.0.2  "), tx1...),
			"tx_tab":          append([]byte("127.0.0.2\t"), tx1...),
			"tx_port":         append([]byte("127.0.0.2:5050 "), tx1...),
			"tx_padded":       pad(tx1, params.MaxTxLine),
			"tx_too_large":    pad(tx1, params.MaxTxLine+1),
			"empty_after_ip":  []byte("127.0.0.2 "),
			"block":           b,
			"block_tagged":    Tag(netip.MustParseAddr("10.1.2.3"), b),
			"block_too_large": pad(b, int(p.MaxBlockBytes)+1),
			"reward":          testBlock(p).Reward.AppendJSON(nil),
			"genesis":         p.JSON(),
			"hello":           h,
		},
		"FuzzDecodeHello": {
			"hello":      h,
			"hello_ipv6": (&Hello{Network: p.Hash(), Version: 1, Address: "[2001:db8::7]:5050"}).Encode(),
			"version_0":  (&Hello{Network: p.Hash(), Version: 0, Address: "127.0.0.2:5050"}).Encode(),
			"no_port":    (&Hello{Network: p.Hash(), Version: 1, Address: "127.0.0.2"}).Encode(),
			"tx":         tx1,
		},
	}
}

// TestSeeds checks that the seed corpora are the ones seeds describes, and
// that each holds the fuzz invariants (go test runs them as well).
func TestSeeds(t *testing.T) {
	for target, files := range seeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, data := range files {
			want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
			path := filepath.Join(dir, name)
			if *updateSeeds {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestSeeds -update-seeds)", err)
			}
			if string(got) != want {
				t.Errorf("%s is stale (run go test -run TestSeeds -update-seeds)", path)
			}
		}
	}
}
