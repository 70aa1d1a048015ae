package rule_test

import (
	"crypto/ed25519"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/ruletest"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chain"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/mempool"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/pow"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// The rule tables live beside the code that refuses: TestDecodeRuleCodes
// (lib/jsonl), TestAddressRuleCodes (lib/keys), TestTxLineRuleCodes
// (lib/tx), TestBlockLineRuleCodes (lib/block), TestGenesisRuleCodes
// (lib/params), TestTxRuleCodes, TestHeaderRuleCodes, TestBodyRuleCodes and
// TestTimeRuleCodes (lib/consensus), TestLedgerRuleCodes (lib/ledger).
// The chain's and the chain directory's codes are here, through the public
// API of chain and node, whose own tests belong to their scenarios.

const (
	ruleImport     = "github.com/coniunctum/cnj/lib/rule"
	ruletestImport = "github.com/coniunctum/cnj/internal/ruletest"
)

// testName is the name of a test that holds a rule table.
var testName = regexp.MustCompile(`^Test\w*RuleCodes$`)

// TestEveryCodeHasTests: every Code constant of rule.go has a case in a
// Test*RuleCodes table somewhere in the module, with both a Produce and a
// Miss: a code added without one, or a case deleted, fails here.
func TestEveryCodeHasTests(t *testing.T) {
	codes := codeConstants(t, "rule.go")
	if !slices.Contains(codes, "Corrupt") || !slices.Contains(codes, "BadJSON") {
		t.Fatalf("read %d codes from rule.go, not the ones it holds: %v", len(codes), codes)
	}
	covered := tableCases(t, moduleRoot(t))
	for _, c := range codes {
		if len(covered[c]) == 0 {
			t.Errorf("rule.%s has no case in a Test*RuleCodes table that produces it and one that only just misses it", c)
			continue
		}
		t.Logf("rule.%s: %s", c, strings.Join(covered[c], ", "))
	}
}

// codeConstants returns the names of the constants of type Code in file.
func codeConstants(t *testing.T, file string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		isCode := false // a spec without type or value repeats the one before
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			switch {
			case v.Type != nil:
				id, ok := v.Type.(*ast.Ident)
				isCode = ok && id.Name == "Code"
			case len(v.Values) > 0:
				isCode = false
				if call, ok := v.Values[0].(*ast.CallExpr); ok {
					id, ok := call.Fun.(*ast.Ident)
					isCode = ok && id.Name == "Code"
				}
			}
			if isCode {
				for _, n := range v.Names {
					names = append(names, n.Name)
				}
			}
		}
	}
	return names
}

// moduleRoot returns the directory of the go.mod above the test.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = up
	}
}

// tableCases reads every _test.go file under root and returns, for each
// code name, the tests whose table has a case for it: a composite literal
// with keys Code (rule.Name), Produce and Miss, neither nil, inside a
// function named Test*RuleCodes that calls ruletest.Run.
func tableCases(t *testing.T, root string) map[string][]string {
	covered := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ruleName, runName := importName(f, ruleImport), importName(f, ruletestImport)
		if ruleName == "" || runName == "" {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || !testName.MatchString(fn.Name.Name) || !calls(fn.Body, runName, "Run") {
				continue
			}
			where := rel + "." + fn.Name.Name
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if lit, ok := n.(*ast.CompositeLit); ok {
					if code := caseCode(lit, ruleName); code != "" && !slices.Contains(covered[code], where) {
						covered[code] = append(covered[code], where)
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return covered
}

// importName returns the name under which f imports path, or "".
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
}

// calls reports whether body calls pkg.fn.
func calls(body *ast.BlockStmt, pkg, fn string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == fn {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// caseCode returns the code name of a case literal {Code: rule.X,
// Produce: ..., Miss: ...} with Produce and Miss not nil, or "".
func caseCode(lit *ast.CompositeLit, ruleName string) string {
	var code string
	var produce, miss bool
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok {
			continue
		}
		isNil := false
		if id, ok := kv.Value.(*ast.Ident); ok && id.Name == "nil" {
			isNil = true
		}
		switch key.Name {
		case "Code":
			if sel, ok := kv.Value.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == ruleName {
					code = sel.Sel.Name
				}
			}
		case "Produce":
			produce = !isNil
		case "Miss":
			miss = !isNil
		}
	}
	if produce && miss {
		return code
	}
	return ""
}

// TestChainRuleCodes: the chain's codes for where a block attaches,
// produced through chain.Add on a chain in memory and only just missed.
func TestChainRuleCodes(t *testing.T) {
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: 1_800_000_000, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	now := p.Timestamp + 1_000_000
	m, poor := newKey(p, 1), newKey(p, 2)
	add := func(c *chain.Chain, b *block.Block) error { _, err := c.Add(b, nil, now); return err }
	// unknown: a block 1 whose previous_hash is the genesis hash with
	// its last bit flipped when flip is set.
	unknown := func(flip bool) func() error {
		return func() error {
			c := chain.New(p, chain.NewMemStore())
			prev := p.Hash()
			if flip {
				prev[31] ^= 1
			}
			return add(c, mine(p, prev, 1, m.addr))
		}
	}
	// onInvalid: g-a1 is the tip; g-x1-x2 outworks it, but x2 has a
	// transfer from an address that holds nothing, so the reorganization
	// finds x2 invalid. The last block builds on x2, or on x1 when
	// sibling is set.
	onInvalid := func(sibling bool) func() error {
		return func() error {
			c := chain.New(p, chain.NewMemStore())
			x1 := mine(p, p.Hash(), 1, m.addr)
			pay := &tx.Tx{ID: [16]byte{1}, Sender: poor.addr, Receiver: m.addr, Amount: amount.Coin, Fee: p.MinFee, Timestamp: x1.Timestamp}
			pay.Sign(p.Hash(), poor.priv)
			x2 := mine(p, x1.Hash, 2, m.addr, pay)
			if err := add(c, mine(p, p.Hash(), 1, poor.addr)); err != nil {
				return err
			}
			if err := add(c, x1); err != nil {
				return err
			}
			if err := add(c, x2); rule.CodeOf(err) != rule.InsufficientFunds {
				return fmt.Errorf("x2: %v, want insufficient-funds", err)
			}
			if sibling {
				return add(c, mine(p, x1.Hash, 2, poor.addr))
			}
			return add(c, mine(p, x2.Hash, 3, m.addr))
		}
	}
	// easy: a block on an unknown parent (genesis hash, last bit flipped)
	// with its target raised by one unit past the network's limit when
	// over is set, else at the limit, mined to meet it. The target is
	// checked before the parent is looked up.
	easy := func(over bool) func() error {
		return func() error {
			c := chain.New(p, chain.NewMemStore())
			prev := p.Hash()
			prev[31] ^= 1
			b := mine(p, prev, 1, m.addr)
			if over {
				b.Target = plusOne(b.Target)
				b.Proof = 0
				for b.Hash = b.ComputeHash(); !pow.Meets(&b.Hash, &b.Target); b.Hash = b.ComputeHash() {
					b.Proof++
				}
			}
			return add(c, b)
		}
	}
	// deep: a main chain of 5 blocks, then, under a fork depth of 2, a
	// block of another miner on the main-chain block that lies below
	// blocks under the tip.
	deep := func(below uint64) func() error {
		return func() error {
			c := chain.New(p, chain.NewMemStore())
			prev := p.Hash()
			for h := uint64(1); h <= 5; h++ {
				b := mine(p, prev, h, m.addr)
				if err := add(c, b); err != nil {
					return err
				}
				prev = b.Hash
			}
			at := c.AtHeight(5 - below)
			_, err := c.AddWith(mine(p, at.Hash, at.Height+1, poor.addr), nil, now, chain.Limits{MaxForkDepth: 2})
			return err
		}
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "a side block leaving the main chain 3 blocks below the tip, the limit 2",
			Code:    rule.ForkTooDeep,
			Produce: deep(3),
			Miss:    deep(2),
		},
		{
			Name:     "target one above the limit on an unknown parent, refused before the lookup",
			Code:     rule.BadTarget,
			Produce:  easy(true),
			Miss:     easy(false),
			MissCode: rule.UnknownParent,
		},
		{
			Name:    "previous_hash one bit off the genesis hash",
			Code:    rule.UnknownParent,
			Produce: unknown(true),
			Miss:    unknown(false),
		},
		{
			Name:    "a block on a block the chain found invalid, not on its parent",
			Code:    rule.InvalidAncestor,
			Produce: onInvalid(false),
			Miss:    onInvalid(true),
		},
	})
}

// TestStorageRuleCodes: damage in a chain directory, produced through
// node.Open and only just missed.
func TestStorageRuleCodes(t *testing.T) {
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: 1_800_000_000})
	if err != nil {
		t.Fatal(err)
	}
	// open opens a directory holding only genesis.json.
	open := func(genesis []byte) func() error {
		return func() error {
			dir, err := os.MkdirTemp("", "cnj-rule-codes-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := os.WriteFile(filepath.Join(dir, "genesis.json"), genesis, 0o644); err != nil {
				return err
			}
			n, err := node.Open(dir)
			if err != nil {
				return err
			}
			return n.Close()
		}
	}
	good := append(p.JSON(), '\n')
	ruletest.Run(t, []ruletest.Case{
		{
			Name:    "genesis.json with its closing brace cut off",
			Code:    rule.Corrupt,
			Produce: open(good[:len(good)-2]),
			Miss:    open(good),
		},
		{
			Name:    "genesis.json of garbage",
			Code:    rule.Corrupt,
			Produce: open([]byte("\x00garbage\xff\n")),
			Miss:    open(good),
		},
	})
}

// TestNodeRuleCodes: the node's policy on its mempool, produced through
// node.Submit as cnj-verify feeds it and only just missed.
func TestNodeRuleCodes(t *testing.T) {
	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: time.Now().Unix() - 1000, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	m, to := newKey(p, 1), newKey(p, 2)
	// full: a node whose pool holds 2 transfers, both at the minimum fee,
	// is sent a third paying fee; an eviction it causes is what
	// rejects.log says, else the verdict on the third.
	full := func(fee uint64) func() error {
		return func() error {
			dir := filepath.Join(t.TempDir(), "chain")
			if err := node.Create(dir, p); err != nil {
				return err
			}
			n, err := node.OpenWith(dir, node.Options{MaxPool: 2})
			if err != nil {
				return err
			}
			defer n.Close()
			prev := p.Hash()
			for h := uint64(1); h <= p.Maturity+1; h++ {
				b := mine(p, prev, h, m.addr)
				b.Timestamp = p.Timestamp + int64(h)
				b.Proof = 0
				for b.Hash = b.ComputeHash(); !pow.Meets(&b.Hash, &b.Target); b.Hash = b.ComputeHash() {
					b.Proof++
				}
				if v, _, err := n.AddMined(b); err != nil || v.Err != nil {
					return fmt.Errorf("block %d: %v %v", h, err, v.Err)
				}
				prev = b.Hash
			}
			var last node.Verdict
			for i, f := range []uint64{p.MinFee, p.MinFee, fee} {
				x := &tx.Tx{ID: [16]byte{byte(i)}, Sender: m.addr, Receiver: to.addr, Amount: amount.Coin, Fee: f, Timestamp: time.Now().Unix()}
				x.Sign(p.Hash(), m.priv)
				vs, err := n.Submit([]node.Item{{Line: &wire.Line{Raw: x.AppendJSON(nil), Tx: x}, Number: 1, Relayed: true}}, false)
				if err != nil {
					return err
				}
				last = vs[0]
			}
			entries, _, _, err := chaindir.Dir(dir).TailRejects(false).Read()
			if err != nil {
				return err
			}
			for _, e := range entries {
				return rule.Errorf(e.Reason, "rejects.log")
			}
			return last.Err
		}
	}
	ruletest.Run(t, []ruletest.Case{
		{
			Name:     "a full pool sent a transfer one unit of fee above its cheapest",
			Code:     rule.Evicted,
			Produce:  full(p.MinFee + 1),
			Miss:     full(p.MinFee),
			MissCode: mempool.MempoolFull,
		},
	})
}

// key is a test key and its address.
type key struct {
	priv ed25519.PrivateKey
	addr string
}

func newKey(p *params.Params, seed byte) key {
	var s [32]byte
	s[0] = seed
	priv := ed25519.NewKeyFromSeed(s[:])
	return key{priv, keys.Address(p.AddressPrefix, priv.Public().(ed25519.PublicKey))}
}

// plusOne returns x+1 as a 256-bit big-endian number; x is not all ones.
func plusOne(x [32]byte) [32]byte {
	for i := 31; i >= 0; i-- {
		x[i]++
		if x[i] != 0 {
			break
		}
	}
	return x
}

// mine returns block index on prev, stamped two seconds a block after
// genesis, carrying txs and the whole reward to miner, with its proof. p
// must not retarget.
func mine(p *params.Params, prev [32]byte, index uint64, miner string, txs ...*tx.Tx) *block.Block {
	b := &block.Block{Header: block.Header{Index: index, Timestamp: p.Timestamp + 2*int64(index), Miner: miner, PrevHash: prev, Target: p.InitialTarget}, Txs: txs}
	var fees uint64
	for _, t := range txs {
		fees += t.Fee
	}
	b.Reward = tx.Reward{Receiver: miner, Amount: p.Subsidy(index) + fees, Index: index}
	b.MerkleRoot = block.MerkleRoot(p.Hash(), &b.Reward, b.Txs)
	for b.Hash = b.ComputeHash(); !pow.Meets(&b.Hash, &b.Target); b.Hash = b.ComputeHash() {
		b.Proof++
	}
	return b
}
