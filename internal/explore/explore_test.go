package explore_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// checkLines asserts that out is exactly the lines want, each ended by a
// newline: every line strict JSON (package jsonl), with the fields of its
// wanted line, in the same order and form.
func checkLines(t *testing.T, out []byte, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if len(out) != 0 {
			t.Fatalf("printed %q, want nothing", out)
		}
		return
	}
	if !bytes.HasSuffix(out, []byte("\n")) {
		t.Fatalf("output %q does not end with a newline", out)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i := range got {
		if err := strictJSON(got[i]); err != nil {
			t.Fatalf("line %d is not strict JSON: %v\n%s", i+1, err, got[i])
		}
		g, w := decode(t, got[i]), decode(t, want[i])
		for k, v := range w {
			if gv, ok := g[k]; !ok || !reflect.DeepEqual(gv, v) {
				t.Errorf("line %d: %q = %v, want %v", i+1, k, gv, v)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("line %d: unexpected field %q", i+1, k)
			}
		}
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

// strictJSON checks that line is one JSON object, alone on its line, with
// no key twice (up to case) in any object and only integers for numbers
// (negative ones allowed: a balance's pending part is signed).
func strictJSON(line string) error {
	if !json.Valid([]byte(line)) {
		return errors.New("not JSON")
	}
	if !strings.HasPrefix(line, "{") {
		return errors.New("not an object")
	}
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	type frame struct {
		obj  bool
		key  bool // the next string of an object is a key
		keys map[string]bool
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.obj && top.key
		if top != nil && top.obj {
			top.key = !top.key
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, &frame{obj: v == '{', key: true, keys: map[string]bool{}})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if isKey {
				k := strings.ToLower(v)
				if top.keys[k] {
					return fmt.Errorf("key %q twice", v)
				}
				top.keys[k] = true
			}
		case json.Number:
			if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
				if _, err := strconv.ParseUint(string(v), 10, 64); err != nil {
					return fmt.Errorf("number %s is not an integer", v)
				}
			}
		}
	}
}

func decode(t *testing.T, line string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return m
}

// upperOne returns h with its last letter in upper case.
func upperOne(h string) string {
	i := strings.LastIndexAny(h, "abcdef")
	return h[:i] + strings.ToUpper(h[i:i+1]) + h[i+1:]
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func TestTip(t *testing.T) {
	c := newChain(t)
	n := open(t, c.dir)
	var out bytes.Buffer
	if err := explore.Tip(n, &out); err != nil {
		t.Fatal(err)
	}
	// Work counts genesis and the 6 main-chain blocks, all at the fixed
	// target: 7 * floor(2^256 / (target+1)). The side branch adds none.
	target := new(big.Int).SetBytes(c.p.InitialTarget[:])
	one := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 256), target.Add(target, big.NewInt(1)))
	work := one.Mul(one, big.NewInt(7))
	b6 := c.blocks[6]
	checkLines(t, out.Bytes(), fmt.Sprintf(`{"height":6,"hash":"%s","timestamp":%d,"target":"%s","work":"%s","mempool":1}`,
		hexOf(b6.Hash[:]), b6.Timestamp, hexOf(b6.Target[:]), work.Text(16)))
}

func TestBlock(t *testing.T) {
	c := newChain(t)
	n := open(t, c.dir)
	line := func(h int) string { return string(c.blocks[h].JSON()) }
	tests := []struct {
		name, ref, want string
	}{
		{"index 0 is the genesis", "0", string(c.p.JSON())},
		{"index 1", "1", line(1)},
		{"index of the tip", "6", line(6)},
		{"hash of a main-chain block", hexOf(c.blocks[5].Hash[:]), line(5)},
		{"hash of the genesis", hexOf(func() []byte { h := c.p.Hash(); return h[:] }()), string(c.p.JSON())},
		{"hash of a side-branch block", hexOf(c.side.Hash[:]), string(c.side.JSON())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := explore.Block(n, tt.ref, &out); err != nil {
				t.Fatal(err)
			}
			checkLines(t, out.Bytes(), tt.want)
		})
	}
	// The side block is not the main chain's block 3.
	if nd, err := explore.FindBlock(n, "3"); err != nil || nd.Hash != c.blocks[3].Hash {
		t.Fatalf("FindBlock(3) = %v, %v; want the main-chain block", nd, err)
	}

	h1 := hexOf(c.blocks[1].Hash[:])
	bad := []struct {
		name, ref string
		want      error
	}{
		{"uppercase hash", strings.ToUpper(h1), explore.ErrBadRef},
		{"one uppercase digit", upperOne(h1), explore.ErrBadRef},
		{"short hash", h1[:16], explore.ErrBadRef},
		{"63 digits", h1[:63], explore.ErrBadRef},
		{"65 digits", h1 + "0", explore.ErrBadRef},
		{"not hex", "g" + h1[1:], explore.ErrBadRef},
		{"empty", "", explore.ErrBadRef},
		{"negative index", "-1", explore.ErrBadRef},
		{"signed index", "+1", explore.ErrBadRef},
		{"index above uint64", "18446744073709551616", explore.ErrBadRef},
		{"unknown hash", strings.Repeat("0", 64), explore.ErrNotFound},
		{"index above the tip", "7", explore.ErrNotFound},
		{"side-branch height above the tip", "18446744073709551615", explore.ErrNotFound},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := explore.Block(n, tt.ref, &out)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Block(%q) = %v, want %v", tt.ref, err, tt.want)
			}
			other := explore.ErrNotFound
			if tt.want == explore.ErrNotFound {
				other = explore.ErrBadRef
			}
			if errors.Is(err, other) || strings.Contains(err.Error(), "\n") || out.Len() != 0 {
				t.Fatalf("Block(%q): error %q, printed %q", tt.ref, err, out.Bytes())
			}
		})
	}
}

func TestTx(t *testing.T) {
	c := newChain(t)
	n := open(t, c.dir)
	mined, pending := hexOf(c.mined.ID[:]), hexOf(c.pending.ID[:])
	tests := []struct {
		name, id, want string
	}{
		// Block 5 of a chain of 6: two confirmations.
		{"mined", mined, fmt.Sprintf(`{"height":5,"block":"%s","confirmations":2,"tx":%s}`,
			hexOf(c.blocks[5].Hash[:]), c.mined.AppendJSON(nil))},
		{"pending", pending, fmt.Sprintf(`{"pending":true,"tx":%s}`, c.pending.AppendJSON(nil))},
		// A reward's txid is its merkle leaf.
		{"reward", hexOf(rewardLeaf(c.blocks[6])), fmt.Sprintf(`{"height":6,"block":"%s","confirmations":1,"tx":%s}`,
			hexOf(c.blocks[6].Hash[:]), c.blocks[6].Reward.AppendJSON(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := explore.Tx(lookup(t, n), tt.id, &out); err != nil {
				t.Fatal(err)
			}
			checkLines(t, out.Bytes(), tt.want)
			v, _ := jsonl.Parse(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
			o, _ := v.Object()
			inner, ok := o.Get("tx")
			if !ok {
				t.Fatal("no tx field")
			}
			if _, err := tx.FromValue(inner); err != nil && tt.name != "reward" {
				t.Fatalf("the tx field is not a transfer line: %v", err)
			}
		})
	}

	bad := []struct {
		name, id string
		want     error
	}{
		{"uppercase", strings.ToUpper(mined), explore.ErrBadRef},
		{"one uppercase digit", upperOne(mined), explore.ErrBadRef},
		{"short", mined[:31], explore.ErrBadRef},
		{"long", mined + "0", explore.ErrBadRef},
		{"a block hash", hexOf(c.blocks[5].Hash[:]), explore.ErrNotFound},
		{"not hex", "z" + mined[1:], explore.ErrBadRef},
		{"empty", "", explore.ErrBadRef},
		{"unknown", strings.Repeat("0", 32), explore.ErrNotFound},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := explore.Tx(lookup(t, n), tt.id, &out)
			if !errors.Is(err, tt.want) || out.Len() != 0 {
				t.Fatalf("Tx(%q) = %v, printed %q; want %v", tt.id, err, out.Bytes(), tt.want)
			}
			if tt.want == explore.ErrBadRef {
				if _, err := explore.ParseTxRef(tt.id); !errors.Is(err, explore.ErrBadRef) {
					t.Fatalf("ParseTxRef(%q) = %v", tt.id, err)
				}
			}
		})
	}
	if id, err := explore.ParseTxID(mined); err != nil || id != c.mined.ID {
		t.Fatalf("ParseTxID(%s) = %x, %v", mined, id, err)
	}
}

// otherAddresses returns addresses explore must refuse: malformed ones
// (bad-address) and main's address of a devnet key (wrong-network).
func otherAddresses(c *testChain) []struct{ name, addr, code string } {
	a := c.alice.addr
	flip := "0"
	if a[len(a)-1] == '0' {
		flip = "1"
	}
	return []struct{ name, addr, code string }{
		{"bad checksum", a[:len(a)-1] + flip, string(rule.BadAddress)},
		{"uppercase", strings.ToUpper(a), string(rule.BadAddress)},
		{"truncated", a[:len(a)-2], string(rule.BadAddress)},
		{"empty", "", string(rule.BadAddress)},
		{"not an address", "hello", string(rule.BadAddress)},
		{"main address", keys.Address(keys.MainHRP, c.alice.priv.Public().(ed25519.PublicKey)), string(rule.WrongNetwork)},
	}
}

func TestBalance(t *testing.T) {
	c := newChain(t)
	n := open(t, c.dir)
	fee := c.p.MinFee
	r := c.p.Subsidy(1) // every block here pays the same subsidy
	tests := []struct {
		name, addr         string
		confirmed, immatur uint64
		pending            int64
	}{
		// Rewards 1..3 matured and 4 matures at the next block; 5 is
		// immature and carries the fee of the transfer to bob.
		{"miner that paid", c.alice.addr, 4*r - 10*amount.Coin - fee, r + fee, 0},
		{"receiver with a pending payment out", c.bob.addr, 10 * amount.Coin, 0, -int64(amount.Coin + fee)},
		{"immature miner with a pending payment in", c.carol.addr, 0, r, int64(amount.Coin)},
		{"paid only on a side branch", c.dave.addr, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := explore.Balance(n, tt.addr, &out); err != nil {
				t.Fatal(err)
			}
			checkLines(t, out.Bytes(), fmt.Sprintf(`{"address":"%s","confirmed":%d,"immature":%d,"pending":%d,"height":6}`,
				tt.addr, tt.confirmed, tt.immatur, tt.pending))
		})
	}
	for _, tt := range otherAddresses(c) {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := explore.Balance(n, tt.addr, &out)
			if got := rule.CodeOf(err); string(got) != tt.code || out.Len() != 0 {
				t.Fatalf("Balance(%q) = %v (code %q), printed %q; want %s", tt.addr, err, got, out.Bytes(), tt.code)
			}
		})
	}
}

func TestHistory(t *testing.T) {
	c := newChain(t)
	n := open(t, c.dir)
	fee := c.p.MinFee
	reward := func(h int) string {
		b := c.blocks[h]
		return fmt.Sprintf(`{"height":%d,"block":"%s","id":null,"kind":"reward","amount":%d,"fee":0,"counterparty":null}`,
			h, hexOf(b.Hash[:]), b.Reward.Amount)
	}
	transfer := func(h int, x *tx.Tx, kind, other string) string {
		where := `"height":null,"block":null`
		if h > 0 {
			where = fmt.Sprintf(`"height":%d,"block":"%s"`, h, hexOf(c.blocks[h].Hash[:]))
		}
		return fmt.Sprintf(`{%s,"id":"%s","kind":"%s","amount":%d,"fee":%d,"counterparty":"%s"}`,
			where, hexOf(x.ID[:]), kind, x.Amount, fee, other)
	}
	tests := []struct {
		name, addr string
		want       []string
	}{
		// Oldest first; in a block, its reward before its transfers.
		{"miner", c.alice.addr, []string{reward(1), reward(2), reward(3), reward(4), reward(5),
			transfer(5, c.mined, "out", c.bob.addr)}},
		// Main-chain events, then the mempool's.
		{"received then sends pending", c.bob.addr, []string{transfer(5, c.mined, "in", c.alice.addr),
			transfer(0, c.pending, "out", c.carol.addr)}},
		{"reward then pending receipt", c.carol.addr, []string{reward(6), transfer(0, c.pending, "in", c.bob.addr)}},
		{"side branch only", c.dave.addr, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := explore.History(lookup(t, n), tt.addr, &out); err != nil {
				t.Fatal(err)
			}
			checkLines(t, out.Bytes(), tt.want...)
		})
	}
	for _, tt := range otherAddresses(c) {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := explore.History(lookup(t, n), tt.addr, &out)
			if got := rule.CodeOf(err); string(got) != tt.code || out.Len() != 0 {
				t.Fatalf("History(%q) = %v (code %q), printed %q; want %s", tt.addr, err, got, out.Bytes(), tt.code)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	c := newChain(t)
	var out bytes.Buffer
	if err := explore.Check(c.dir, &out); err != nil {
		t.Fatal(err)
	}
	// 6 main-chain blocks and the side block.
	checkLines(t, out.Bytes(), `{"ok":true,"height":6,"blocks":7}`)

	// Damage block 4's line (the fourth of the segment) without changing
	// its length: its proof no longer gives its hash.
	seg := filepath.Join(c.dir, "blocks", "000000.jsonl")
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) < 4 || !bytes.Equal(bytes.TrimSuffix(lines[3], []byte("\n")), c.blocks[4].JSON()) {
		t.Fatalf("block 4 is not the segment's line 4")
	}
	proof := fmt.Appendf(nil, `"proof":%d,`, c.blocks[4].Proof)
	i := bytes.Index(lines[3], proof)
	digit := &lines[3][i+len(proof)-2]
	*digit = '0' + (*digit-'0'+1)%10
	if err := os.WriteFile(seg, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = explore.Check(c.dir, &out)
	var ce *chaindir.CorruptError
	if !errors.As(err, &ce) || ce.File != "blocks/000000.jsonl" || ce.Line != 4 {
		t.Fatalf("Check after damage = %v, want a corrupt error at blocks/000000.jsonl line 4", err)
	}
	if rule.CodeOf(err) != rule.Corrupt || !strings.Contains(err.Error(), "blocks/000000.jsonl line 4") || out.Len() != 0 {
		t.Fatalf("Check after damage: error %q, printed %q", err, out.Bytes())
	}
}

func TestReindex(t *testing.T) {
	c := newChain(t)
	index := filepath.Join(c.dir, "index")
	want, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(index); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := explore.Reindex(c.dir, &out); err != nil {
		t.Fatal(err)
	}
	checkLines(t, out.Bytes(), `{"ok":true,"height":6,"blocks":7,"lost":[]}`)
	got, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("rebuilt index of %d bytes differs from the one deleted (%d bytes)", len(got), len(want))
	}
	out.Reset()
	if err := explore.Check(c.dir, &out); err != nil {
		t.Fatalf("Check after Reindex: %v", err)
	}
	n := open(t, c.dir)
	if tip := n.Chain().Tip(); tip.Hash != c.blocks[6].Hash {
		t.Fatalf("tip after Reindex is at height %d", tip.Height)
	}
}

// rewardLeaf is the txid of b's reward.
func rewardLeaf(b *block.Block) []byte {
	l := block.Leaf(b.Reward.Canonical())
	return l[:]
}
