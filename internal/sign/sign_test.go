package sign_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/internal/sign"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

func TestFlagIntent(t *testing.T) {
	const to = "dcnj1332a1dc4765ba687d2cad109c8d6251402f1e458879f65b6"
	good := []struct {
		amt, fee string
		want     sign.Intent
	}{
		{"1.5", "", sign.Intent{To: to, Amount: 150_000_000}},
		{"0.00000001", "", sign.Intent{To: to, Amount: 1}},
		{"21000000", "", sign.Intent{To: to, Amount: amount.MaxMoney}},
		{"1", "0.00001", sign.Intent{To: to, Amount: amount.Coin, Fee: 1000, HasFee: true}},
		// A fee of 0 is a fee given: Run refuses it as low-fee.
		{"1", "0", sign.Intent{To: to, Amount: amount.Coin, HasFee: true}},
	}
	for _, tt := range good {
		in, err := sign.FlagIntent(to, tt.amt, tt.fee)
		if err != nil || !reflect.DeepEqual(in, tt.want) {
			t.Errorf("FlagIntent(%q, %q) = %+v, %v; want %+v", tt.amt, tt.fee, in, err, tt.want)
		}
	}
	bad := []struct{ amt, fee, flag string }{
		{"0.000000001", "", "--amount"},
		{"-1", "", "--amount"},
		{"1e3", "", "--amount"},
		{"", "", "--amount"},
		{"1.", "", "--amount"},
		{".5", "", "--amount"},
		{"01", "", "--amount"},
		{"1,5", "", "--amount"},
		{" 1", "", "--amount"},
		{"21000000.00000001", "", "--amount"},
		{"1", "x", "--fee"},
		{"1", "-0.1", "--fee"},
		{"1", "0.000000001", "--fee"},
		{"1", "1e-5", "--fee"},
	}
	for _, tt := range bad {
		if in, err := sign.FlagIntent(to, tt.amt, tt.fee); err == nil || !strings.HasPrefix(err.Error(), tt.flag+": ") {
			t.Errorf("FlagIntent(%q, %q) = %+v, %v; want a %s error", tt.amt, tt.fee, in, err, tt.flag)
		}
	}
}

func TestReadIntents(t *testing.T) {
	const (
		a = "dcnj1332a1dc4765ba687d2cad109c8d6251402f1e458879f65b6"
		b = "cnj1332a1dc4765ba687d2cad109c8d6251402f1e45805ba9769"
	)
	input := `{"to":"` + a + `","amount":100000000}` + "\n" + `{"to":"` + b + `","amount":2000,"fee":5000}` + "\n"
	tests := []struct {
		fee  string
		want []sign.Intent
	}{
		{"", []sign.Intent{{To: a, Amount: 100000000, Line: 1}, {To: b, Amount: 2000, Fee: 5000, HasFee: true, Line: 2}}},
		// --fee is the fee of the intents that give none.
		{"0.0001", []sign.Intent{{To: a, Amount: 100000000, Fee: 10000, HasFee: true, Line: 1},
			{To: b, Amount: 2000, Fee: 5000, HasFee: true, Line: 2}}},
	}
	for _, tt := range tests {
		got, err := sign.ReadIntents(strings.NewReader(input), tt.fee)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ReadIntents(fee %q) = %+v, %v; want %+v", tt.fee, got, err, tt.want)
		}
	}
	if got, err := sign.ReadIntents(strings.NewReader(""), ""); err != nil || len(got) != 0 {
		t.Errorf("ReadIntents(nothing) = %+v, %v", got, err)
	}
	if _, err := sign.ReadIntents(strings.NewReader(input), "1e3"); err == nil || !strings.HasPrefix(err.Error(), "--fee: ") {
		t.Errorf("ReadIntents(fee 1e3) = %v, want a --fee error", err)
	}

	// One run holds at most MaxIntents.
	line := `{"to":"` + a + `","amount":1}` + "\n"
	if got, err := sign.ReadIntents(strings.NewReader(strings.Repeat(line, sign.MaxIntents)), ""); err != nil || len(got) != sign.MaxIntents {
		t.Errorf("ReadIntents(MaxIntents lines) = %d intents, %v", len(got), err)
	}
	if got, err := sign.ReadIntents(strings.NewReader(strings.Repeat(line, sign.MaxIntents+1)), ""); err == nil || got != nil {
		t.Errorf("ReadIntents(MaxIntents+1 lines) = %d intents, %v", len(got), err)
	}

	bad := []struct {
		name, line string
		code       rule.Code
	}{
		{"unknown field", `{"to":"` + a + `","amount":1,"memo":"x"}`, rule.UnknownField},
		{"float", `{"to":"` + a + `","amount":1.5}`, rule.BadNumber},
		{"exponent", `{"to":"` + a + `","amount":1e3}`, rule.BadNumber},
		{"negative", `{"to":"` + a + `","amount":-1}`, rule.BadNumber},
		{"leading zero", `{"to":"` + a + `","amount":01}`, rule.BadNumber},
		{"above uint64", `{"to":"` + a + `","amount":18446744073709551616}`, rule.BadNumber},
		{"float fee", `{"to":"` + a + `","amount":1,"fee":0.5}`, rule.BadNumber},
		{"duplicate key", `{"to":"` + a + `","amount":1,"amount":2}`, rule.DuplicateKey},
		{"case-variant key", `{"to":"` + a + `","amount":1,"Amount":2}`, rule.DuplicateKey},
		{"amount a string", `{"to":"` + a + `","amount":"1"}`, rule.BadField},
		{"to a number", `{"to":1,"amount":1}`, rule.BadField},
		{"no amount", `{"to":"` + a + `"}`, rule.MissingField},
		{"no to", `{"amount":1}`, rule.MissingField},
		{"not an object", `[1]`, rule.BadJSON},
		{"empty line", ``, rule.BadJSON},
		{"trailing bytes", `{"to":"` + a + `","amount":1} x`, rule.BadJSON},
		{"CRLF", `{"to":"` + a + `","amount":1}` + "\r", rule.BadJSON},
		{"longer than 1024 bytes", `{"to":"` + strings.Repeat("a", 1020) + `","amount":1}`, rule.TooLarge},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			// A good line first: the error names line 2.
			in := `{"to":"` + a + `","amount":1}` + "\n" + tt.line + "\n"
			got, err := sign.ReadIntents(strings.NewReader(in), "")
			if rule.CodeOf(err) != tt.code || got != nil || !strings.HasPrefix(err.Error(), "intent line 2: ") {
				t.Fatalf("ReadIntents = %+v, %v (code %q); want intent line 2: %s", got, err, rule.CodeOf(err), tt.code)
			}
		})
	}
}

// snapshot returns every file under dir with its contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkSigned asserts that out holds one transfer line per intent, each
// strict, valid on network p (consensus.CheckTx), from sender, as the
// intent says, stamped now, and returns them.
func checkSigned(t *testing.T, out []byte, p *params.Params, sender string, now int64, intents []sign.Intent) []*tx.Tx {
	t.Helper()
	if len(intents) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
		t.Fatalf("output %q does not end with a newline", out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(out) == 0 {
		lines = nil
	}
	if len(lines) != len(intents) {
		t.Fatalf("%d lines for %d intents:\n%s", len(lines), len(intents), out)
	}
	var txs []*tx.Tx
	ids := map[[16]byte]bool{}
	for i, line := range lines {
		x, err := tx.Parse([]byte(line))
		if err != nil {
			t.Fatalf("line %d does not parse: %v\n%s", i+1, err, line)
		}
		if string(x.AppendJSON(nil)) != line {
			t.Fatalf("line %d is not canonical:\n%s", i+1, line)
		}
		if err := consensus.CheckTx(x, p); err != nil {
			t.Fatalf("line %d does not verify: %v", i+1, err)
		}
		in := intents[i]
		fee := p.MinFee
		if in.HasFee {
			fee = in.Fee
		}
		if x.Sender != sender || x.Receiver != in.To || x.Amount != in.Amount || x.Fee != fee || x.Timestamp != now {
			t.Fatalf("line %d = %+v, want %+v from %s at %d", i+1, x, in, sender, now)
		}
		if ids[x.ID] || x.ID == ([16]byte{}) {
			t.Fatalf("line %d: id %x again", i+1, x.ID)
		}
		ids[x.ID] = true
		txs = append(txs, x)
	}
	return txs
}

func TestRun(t *testing.T) {
	c := newChain(t)
	now := time.Now().Unix()
	opts := sign.Options{KeyFile: c.key, PassphraseFile: c.pass, Chain: c.dir, Now: func() int64 { return now }}
	before := snapshot(t, c.dir)
	flag := func(to, amt, fee string) sign.Intent {
		t.Helper()
		in, err := sign.FlagIntent(to, amt, fee)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	fee := c.p.MinFee
	good := []struct {
		name    string
		intents []sign.Intent
	}{
		{"--to and --amount", []sign.Intent{flag(c.payee, "1.5", "")}},
		{"--fee", []sign.Intent{flag(c.payee, "1.5", "0.0001")}},
		{"intents", []sign.Intent{{To: c.payee, Amount: 1, Line: 1}, {To: c.signer, Amount: 2, Fee: 5000, HasFee: true, Line: 2}}},
		// Every unit that the mempool's pending transfer leaves.
		{"all that is left", []sign.Intent{{To: c.payee, Amount: c.spendFor - fee}}},
		{"all that is left in two", []sign.Intent{{To: c.payee, Amount: 10 * amount.Coin, Line: 1},
			{To: c.payee, Amount: c.spendFor - 10*amount.Coin - 2*fee, Line: 2}}},
		{"nothing to sign", nil},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := sign.Run(opts, tt.intents, &out); err != nil {
				t.Fatal(err)
			}
			checkSigned(t, out.Bytes(), c.p, c.signer, now, tt.intents)
		})
	}

	mainAddr := keys.Address(keys.MainHRP, make(ed25519.PublicKey, ed25519.PublicKeySize))
	typo := c.payee[:len(c.payee)-1] + "0" // one digit changed: the checksum fails
	if strings.HasSuffix(c.payee, "0") {
		typo = c.payee[:len(c.payee)-1] + "1"
	}
	bad := []struct {
		name    string
		intents []sign.Intent
		code    rule.Code
		prefix  string // the error's start
	}{
		// One unit more than what is left once the pending transfer counts.
		{"one unit more than left", []sign.Intent{{To: c.payee, Amount: c.spendFor - fee + 1}},
			rule.InsufficientFunds, "insufficient-funds: "},
		{"more than left in two", []sign.Intent{{To: c.payee, Amount: 15 * amount.Coin, Line: 1},
			{To: c.payee, Amount: 15 * amount.Coin, Line: 2}}, rule.InsufficientFunds, "intent line 2: insufficient-funds: "},
		{"another network's address", []sign.Intent{flag(mainAddr, "1", "")}, rule.WrongNetwork, "--to: wrong-network: "},
		{"a mistyped address", []sign.Intent{{To: typo, Amount: 1, Line: 3}}, rule.BadAddress, "intent line 3: --to: bad-address: "},
		{"a fee below the minimum", []sign.Intent{flag(c.payee, "1", "0.00000999")}, rule.LowFee, "low-fee: "},
		{"a fee of 0", []sign.Intent{flag(c.payee, "1", "0")}, rule.LowFee, "low-fee: "},
		{"zero amount", []sign.Intent{flag(c.payee, "0", "")}, rule.ZeroAmount, "zero-amount: "},
		{"overflow", []sign.Intent{{To: c.payee, Amount: amount.MaxMoney, Fee: 1000, HasFee: true}}, rule.Overflow, "overflow: "},
		// The first refusal stops the run: nothing of it is printed.
		{"good then bad", []sign.Intent{{To: c.payee, Amount: 1, Line: 1}, {To: mainAddr, Amount: 1, Line: 2}},
			rule.WrongNetwork, "intent line 2: --to: wrong-network: "},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := sign.Run(opts, tt.intents, &out)
			if rule.CodeOf(err) != tt.code || !strings.HasPrefix(err.Error(), tt.prefix) || out.Len() != 0 {
				t.Fatalf("Run = %v (code %q), printed %q; want %s...", err, rule.CodeOf(err), out.Bytes(), tt.prefix)
			}
		})
	}
	t.Run("the pending transfer is named", func(t *testing.T) {
		err := sign.Run(opts, []sign.Intent{{To: c.payee, Amount: c.spendFor - fee + 1}}, &bytes.Buffer{})
		if !strings.HasSuffix(err.Error(), ", of which "+amount.Format(c.pending.Amount+c.pending.Fee)+" CNJ already pending in the mempool") {
			t.Fatalf("Run = %v", err)
		}
	})

	if after := snapshot(t, c.dir); !reflect.DeepEqual(after, before) {
		t.Fatal("signing changed the chain directory")
	}
}

// TestRunNetwork: a transfer is signed for the chain's network and no
// other.
func TestRunNetwork(t *testing.T) {
	c := newChain(t)
	var out bytes.Buffer
	opts := sign.Options{KeyFile: c.key, PassphraseFile: c.pass, Chain: c.dir}
	in := sign.Intent{To: c.payee, Amount: 1}
	if err := sign.Run(opts, []sign.Intent{in}, &out); err != nil {
		t.Fatal(err)
	}
	x, err := tx.Parse(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	other, err := params.NewDevnet(params.DevnetOptions{Timestamp: c.p.Timestamp, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := consensus.CheckTx(x, other); rule.CodeOf(err) != rule.BadHash {
		t.Fatalf("on another devnet: %v, want bad-hash", err)
	}
	if d := time.Now().Unix() - x.Timestamp; d < 0 || d > 24*60*60 {
		t.Fatalf("timestamp %d is not the clock's", x.Timestamp)
	}
}

// TestRunGenesis: with --genesis, Run reads no chain directory: it signs
// for the genesis file's network without a funds check, and still refuses
// what every node would.
func TestRunGenesis(t *testing.T) {
	c := newChain(t)
	now := time.Now().Unix()
	opts := sign.Options{KeyFile: c.key, PassphraseFile: c.pass, Genesis: c.genesis,
		Chain: filepath.Join(t.TempDir(), "no-chain"), Now: func() int64 { return now }}
	// Far more than the signer has: no chain, no balance check.
	intents := []sign.Intent{{To: c.payee, Amount: 1000 * amount.Coin, Line: 1}, {To: c.payee, Amount: 1000 * amount.Coin, Line: 2}}
	var out bytes.Buffer
	if err := sign.Run(opts, intents, &out); err != nil {
		t.Fatal(err)
	}
	checkSigned(t, out.Bytes(), c.p, c.signer, now, intents)

	out.Reset()
	mainAddr := keys.Address(keys.MainHRP, make(ed25519.PublicKey, ed25519.PublicKeySize))
	if err := sign.Run(opts, []sign.Intent{{To: mainAddr, Amount: 1}}, &out); rule.CodeOf(err) != rule.WrongNetwork || out.Len() != 0 {
		t.Fatalf("Run(main address) = %v", err)
	}
	if err := sign.Run(opts, []sign.Intent{{To: c.payee, Amount: 1, Fee: 1, HasFee: true}}, &out); rule.CodeOf(err) != rule.LowFee || out.Len() != 0 {
		t.Fatalf("Run(fee 1) = %v", err)
	}

	damaged := filepath.Join(t.TempDir(), "genesis.json")
	if err := os.WriteFile(damaged, []byte(`{"type":"genesis"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := opts
	o.Genesis = damaged
	if err := sign.Run(o, intents, &out); err == nil || rule.CodeOf(err) == "" ||
		!strings.HasPrefix(err.Error(), "--genesis "+damaged+": ") || out.Len() != 0 {
		t.Fatalf("Run(damaged genesis) = %v", err)
	}
	o.Genesis = filepath.Join(t.TempDir(), "none.json")
	if err := sign.Run(o, intents, &out); !errors.Is(err, fs.ErrNotExist) || out.Len() != 0 {
		t.Fatalf("Run(missing genesis) = %v", err)
	}
	// Without --genesis, the directory is needed.
	o.Genesis = ""
	if err := sign.Run(o, intents, &out); err == nil || out.Len() != 0 {
		t.Fatalf("Run(no chain directory) = %v", err)
	}
}

func TestRunKey(t *testing.T) {
	c := newChain(t)
	intents := []sign.Intent{{To: c.payee, Amount: 1}}
	var out bytes.Buffer
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not the passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := sign.Run(sign.Options{KeyFile: c.key, PassphraseFile: wrong, Chain: c.dir}, intents, &out)
	if !errors.Is(err, keys.ErrWrongPassphrase) || out.Len() != 0 {
		t.Fatalf("Run(wrong passphrase) = %v, printed %q", err, out.Bytes())
	}
	if err := os.Chmod(c.key, 0o640); err != nil {
		t.Fatal(err)
	}
	err = sign.Run(sign.Options{KeyFile: c.key, PassphraseFile: c.pass, Chain: c.dir}, intents, &out)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || out.Len() != 0 {
		t.Fatalf("Run(group-readable key) = %v", err)
	}
}
