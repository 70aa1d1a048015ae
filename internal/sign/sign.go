// Package sign is cnj-sign: it turns payment intents into signed transfer
// lines for one key, checking each as a validator would before printing it.
//
// With a chain directory it also checks funds: the sender's spendable
// balance must cover this transfer, every earlier one of the same run, and
// what the sender already spends in the mempool. With only a genesis file it
// checks everything but funds. It needs no network.
package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/coniunctum/cnj/internal/wallet"
	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/jsonl"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/ledger"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
)

// MaxIntents bounds one run.
const MaxIntents = 100_000

// Intent is one payment to sign. HasFee false means the network minimum.
type Intent struct {
	To     string
	Amount uint64
	Fee    uint64
	HasFee bool
	Line   int // input line, 0 for flags
}

// FlagIntent builds the intent of --to/--amount/--fee.
func FlagIntent(to, amt, fee string) (Intent, error) {
	in := Intent{To: to}
	var err error
	if in.Amount, err = amount.Parse(amt); err != nil {
		return in, fmt.Errorf("--amount: %v", err)
	}
	if fee != "" {
		if in.Fee, err = amount.Parse(fee); err != nil {
			return in, fmt.Errorf("--fee: %v", err)
		}
		in.HasFee = true
	}
	return in, nil
}

// ReadIntents reads {"to":ADDR,"amount":UNITS[,"fee":UNITS]} lines. fee,
// when set, is the default fee in CNJ for intents without one.
func ReadIntents(r io.Reader, fee string) ([]Intent, error) {
	var def Intent
	if fee != "" {
		f, err := amount.Parse(fee)
		if err != nil {
			return nil, fmt.Errorf("--fee: %v", err)
		}
		def.Fee, def.HasFee = f, true
	}
	var out []Intent
	jr := jsonl.NewReader(r, 1024)
	for {
		line, err := jr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("intent line %d: %w", jr.Line(), err)
		}
		in, err := parseIntent(line)
		if err != nil {
			return nil, fmt.Errorf("intent line %d: %w", jr.Line(), err)
		}
		if !in.HasFee {
			in.Fee, in.HasFee = def.Fee, def.HasFee
		}
		in.Line = jr.Line()
		if len(out) == MaxIntents {
			return nil, fmt.Errorf("more than %d intents in one run", MaxIntents)
		}
		out = append(out, in)
	}
}

func parseIntent(line []byte) (Intent, error) {
	v, err := jsonl.Parse(line)
	if err != nil {
		return Intent{}, err
	}
	o, err := v.Object()
	if err != nil {
		return Intent{}, err
	}
	var in Intent
	if in.To, err = o.String("to"); err != nil {
		return in, err
	}
	if in.Amount, err = o.Uint("amount"); err != nil {
		return in, err
	}
	if o.Has("fee") {
		if in.Fee, err = o.Uint("fee"); err != nil {
			return in, err
		}
		in.HasFee = true
	}
	return in, o.Done()
}

// Options say which key signs and against what.
type Options struct {
	KeyFile, PassphraseFile string
	// Params is the network to sign for, when the caller has it (a
	// wallet, from its source); else Genesis, a genesis file; else
	// Chain. Only with Chain are funds checked.
	Params  *params.Params
	Genesis string
	Chain   string
	Now     func() int64
}

// Run signs every intent and writes the transfer lines to w, all or
// nothing: the first intent the chain would refuse stops the run before
// anything is printed.
func Run(o Options, intents []Intent, w io.Writer) error {
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().Unix() }
	}
	p := o.Params
	var led *ledger.Ledger
	var pendingOut uint64
	if p == nil && o.Genesis != "" {
		line, err := os.ReadFile(o.Genesis)
		if err != nil {
			return err
		}
		if p, err = params.Parse([]byte(strings.TrimSuffix(string(line), "\n"))); err != nil {
			return fmt.Errorf("--genesis %s: %w", o.Genesis, err)
		}
	}
	priv, err := wallet.OpenKey(o.KeyFile, o.PassphraseFile)
	if err != nil {
		return err
	}
	pub := priv.Public().(ed25519.PublicKey)
	if p == nil {
		n, err := node.Open(o.Chain)
		if err != nil {
			return err
		}
		defer n.Close()
		p = n.Params()
		led = n.Chain().Ledger()
		pendingOut = n.PendingOut(keys.Address(p.AddressPrefix, pub))
	}
	sender := keys.Address(p.AddressPrefix, pub)
	var out bytes.Buffer // all or nothing: printed only when every intent passed
	spent := pendingOut
	for _, in := range intents {
		t, err := build(p, priv, sender, in, o.Now())
		if err == nil {
			err = consensus.CheckTx(t, p)
		}
		if err == nil && led != nil {
			need, aerr := amount.Add(t.Amount, t.Fee)
			if aerr == nil {
				need, aerr = amount.Add(need, spent)
			}
			if aerr != nil {
				err = rule.Errorf(rule.Overflow, "amounts above the maximum")
			} else if err = led.CanSpend(sender, need); err == nil {
				spent = need
			} else if pendingOut > 0 {
				err = fmt.Errorf("%w, of which %s CNJ already pending in the mempool", err, amount.Format(pendingOut))
			}
		}
		if err != nil {
			if in.Line > 0 {
				return fmt.Errorf("intent line %d: %w", in.Line, err)
			}
			return err
		}
		out.Write(t.AppendJSON(nil))
		out.WriteByte('\n')
	}
	_, err = w.Write(out.Bytes())
	return err
}

func build(p *params.Params, priv ed25519.PrivateKey, sender string, in Intent, now int64) (*tx.Tx, error) {
	if err := keys.CheckAddress(in.To, p.AddressPrefix); err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	fee := p.MinFee
	if in.HasFee {
		fee = in.Fee
	}
	t := &tx.Tx{Sender: sender, Receiver: in.To, Amount: in.Amount, Fee: fee, Timestamp: now}
	if _, err := rand.Read(t.ID[:]); err != nil {
		return nil, err
	}
	t.Sign(p.Hash(), priv)
	return t, nil
}
