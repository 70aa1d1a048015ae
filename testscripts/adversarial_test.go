package testscripts

// The adversarial suite: every way an attacker (or a broken peer) can word a
// line, a transfer, a block or damage a chain file, one row each, with the
// outcome the node must give: Accepted, Accepted-known (passed over quietly)
// or Rejected(code).
//
// It runs in process against real chain directories (node.Create with
// devnet parameters, max_block_bytes 4096) through the entry points the
// commands use:
//
//   - lines: verify.Stream, exactly the loop of cnj-verify, with rejects
//     logged as the command logs them. Each step of a row is also fed with
//     --dry-run semantics to a second Node on the same directory first; that
//     run must give the same outcomes and write nothing (counted as its own
//     try, "(dry-run)").
//   - blocks: crafted with a miner address on the real tip, mined with the
//     midstate search, then mutated and re-mined (advRemine) so that the proof
//     of work holds and the rule under test is the one that fails.
//   - chain files (adversarial_files_test.go): a torn or damaged segment,
//     deleted or damaged derived files. The directory must open with the
//     balances of a fresh replay, or fail with code corrupt naming the file.
//
// Every row starts from a fresh copy of the base chain (advBuildBase). A row
// whose last step is refused must leave the chain, ledger and tip as they
// were; every row's directory must reopen to the state the node had.
//
// Counts: tried; accepted-invalid (a reject was expected, the line was
// accepted or passed over as known); rejected-valid (an accept was
// expected, the line was refused, or a new valid line was called known);
// wrong-reason (refused with another code). The test fails when any of the
// last three is not zero and writes the summary line to $CNJ_ADVERSARIAL_OUT.
//
// Rows that cannot be built here, and why:
//   - a block hash exactly equal to its target needs a SHA-256 preimage;
//     the <= boundary is lib/pow's TestMeets (and midstate's tie tests).
//   - a valid Ed25519 signature under a non-canonical encoding of a point of
//     large order: such encodings exist only for y < 19, and nobody knows
//     the discrete log of those points. Non-canonical and small-order
//     encodings of small-order points are covered (ZIP-215 accepts them).
//   - amounts or balances that overflow uint64 inside the ledger: no more
//     than MaxMoney can ever exist, and every amount, fee and sum above it
//     is refused first (overflow rows).
//   - mempool-full: needs 50,000 pooled transfers; lib/mempool's tests
//     cover eviction.
//   - a transfer replayed after its id left the recent set, inside a block:
//     covered below (bad-tx-time), since the 24 h window closes first.

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/amount"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/keys"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/params"
	"github.com/coniunctum/cnj/lib/rule"
	"github.com/coniunctum/cnj/lib/tx"
	"github.com/coniunctum/cnj/lib/wire"
)

// advStep is one input of a row: one or more lines (a single line without its
// newline is given one; noNL at the end means "no final newline") and the
// outcome of each line.
type advStep struct {
	in   func(f *advFixture) string
	want []advOutcome
	// noDry says why --dry-run would legitimately differ on this step;
	// "" = it is also fed to a dry-run Node and must give the same.
	noDry string
}

// advNoDry marks a step that --dry-run cannot judge like the real run.
func advNoDry(why string, s advStep) advStep { s.noDry = why; return s }

// Why --dry-run cannot judge some steps like the real run.
const (
	advDryChain = "later lines build on blocks of the same input, which --dry-run does not store"
	advDryReorg = "--dry-run does not reorganize: a heavier side block is judged on its header and body only"
)

// advNoNL ends an input that must reach EOF without a final newline.
const advNoNL = "\x00<eof>"

type advRow struct {
	name     string
	retarget bool // on the retargeting network instead of the fixed-target one
	parts    []advStep
}

func advOne(name string, in func(f *advFixture) string, want advOutcome) advRow {
	return advRow{name: name, parts: []advStep{{in: in, want: []advOutcome{want}}}}
}

func advSteps(name string, ss ...advStep) advRow { return advRow{name: name, parts: ss} }

func advSt(in func(f *advFixture) string, want ...advOutcome) advStep {
	return advStep{in: in, want: want}
}

// advTally counts the suite's verdicts.
type advTally struct {
	tried, acceptedInvalid, rejectedValid, wrongReason int
	dry                                                int // tries that were dry runs
}

const (
	advClsAcceptedInvalid = "accepted-invalid"
	advClsRejectedValid   = "rejected-valid"
	advClsWrongReason     = "wrong-reason"
)

func advClassify(want, got advOutcome) string {
	switch {
	case want == got:
		return ""
	case want.code != "" && got.code == "":
		return advClsAcceptedInvalid
	case want.code != "":
		return advClsWrongReason
	case got.code != "":
		return advClsRejectedValid
	case want.isKnown: // got a new accept of what the node already has
		return advClsAcceptedInvalid
	}
	return advClsRejectedValid // a new valid record passed over as known
}

func (c *advTally) add(cls string) {
	c.tried++
	switch cls {
	case advClsAcceptedInvalid:
		c.acceptedInvalid++
	case advClsRejectedValid:
		c.rejectedValid++
	case advClsWrongReason:
		c.wrongReason++
	}
}

func (c *advTally) String() string {
	return fmt.Sprintf("adversarial: %d tried, %d accepted-invalid, %d rejected-valid, %d wrong-reason",
		c.tried, c.acceptedInvalid, c.rejectedValid, c.wrongReason)
}

func TestAdversarial(t *testing.T) {
	start := time.Now()
	root := t.TempDir()
	now := time.Now().Unix()

	p, err := params.NewDevnet(params.DevnetOptions{Timestamp: now - 1000, NoRetarget: true})
	if err != nil {
		t.Fatal(err)
	}
	p.MaxBlockBytes = advBlockBytes
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	fixed := advBuildBase(t, root, p, now)

	pr, err := params.NewDevnet(params.DevnetOptions{Timestamp: now - 1000})
	if err != nil {
		t.Fatal(err)
	}
	pr.MaxBlockBytes = advBlockBytes
	if err := pr.Validate(); err != nil {
		t.Fatal(err)
	}
	retarget := advBuildBase(t, root, pr, now)

	var c advTally
	rows, files := adversarialRows(), fileRows()
	for _, r := range rows {
		bs := fixed
		if r.retarget {
			bs = retarget
		}
		t.Run(r.name, func(t *testing.T) { advRunRow(t, &c, bs, root, r) })
	}
	for _, r := range files {
		t.Run(r.name, func(t *testing.T) { runFileRow(t, &c, fixed, root, r) })
	}

	summary := c.String()
	t.Log(summary)
	t.Logf("%d line/transfer/block rows (%d dry-run tries besides), %d chain-file rows; took %v",
		len(rows), c.dry, len(files), time.Since(start).Round(time.Millisecond))
	if out := os.Getenv("CNJ_ADVERSARIAL_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(summary+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	if c.acceptedInvalid+c.rejectedValid+c.wrongReason > 0 {
		t.Errorf("%s", summary)
	}
}

// advRunRow feeds a row's steps, each first as --dry-run to another Node, then
// for real, and counts the row (and its dry run) once.
func advRunRow(t *testing.T, c *advTally, bs *advBase, root string, r advRow) {
	f := advNewFixture(t, bs, root)
	defer func() {
		if f.n != nil {
			f.n.Close()
		}
	}()
	realCls, dryCls, dryRan := "", "", false
	fail := func(cls *string, kind string, i int, format string, args ...any) {
		if *cls == "" {
			*cls = kind
		}
		t.Errorf("step %d: %s: %s", i+1, kind, fmt.Sprintf(format, args...))
	}
	for i, s := range r.parts {
		in := s.in(f)
		if strings.HasSuffix(in, advNoNL) {
			in = strings.TrimSuffix(in, advNoNL)
		} else if !strings.HasSuffix(in, "\n") {
			in += "\n"
		}
		if s.noDry == "" {
			dryRan = true
			before := advFingerprint(t, f.dir)
			dn := f.open()
			got, msgs, err := advFeed(dn, in, true)
			dn.Close()
			if err != nil {
				t.Fatalf("step %d (dry-run): %v", i+1, err)
			}
			for k := range max(len(got), len(s.want)) {
				w, g, m := advOutcomeAt(s.want, k), advOutcomeAt(got, k), advMsgAt(msgs, k)
				if cls := advClassify(w, g); cls != "" {
					fail(&dryCls, cls, i, "dry-run line %d: want %v, got %v %s", k+1, w, g, m)
				}
			}
			if after := advFingerprint(t, f.dir); after != before {
				fail(&dryCls, advClsAcceptedInvalid, i, "dry-run wrote to the chain directory:\n%s\n%s", before, after)
			}
		}
		before := advChainState(t, f.n)
		got, msgs, err := advFeed(f.n, in, false)
		if err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
		allRefused := true
		for k := range max(len(got), len(s.want)) {
			w, g, m := advOutcomeAt(s.want, k), advOutcomeAt(got, k), advMsgAt(msgs, k)
			allRefused = allRefused && w.code != ""
			if cls := advClassify(w, g); cls != "" {
				fail(&realCls, cls, i, "line %d: want %v, got %v %s", k+1, w, g, m)
			} else {
				t.Logf("step %d line %d: %v %s", i+1, k+1, g, m)
			}
		}
		if realCls != "" {
			break // later steps build on this one
		}
		// A refused block may be stored marked invalid (a failed
		// reorganization); the tip and the ledger must not move.
		if after := advChainState(t, f.n); allRefused && after != before {
			fail(&realCls, advClsAcceptedInvalid, i, "refused input changed the chain:\n%s\n%s", before, after)
		}
	}
	// Whatever was accepted must survive a reopen; nothing else may appear.
	if realCls == "" {
		want := advState(t, f.n)
		if err := f.n.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		f.n = nil
		n, err := node.Open(f.dir)
		if err != nil {
			fail(&realCls, advClsRejectedValid, len(r.parts)-1, "reopening: %v", err)
		} else {
			if got := advState(t, n); got != want {
				fail(&realCls, advClsRejectedValid, len(r.parts)-1, "state after reopen differs:\n%s\n%s", want, got)
			}
			n.Close()
		}
	}
	c.add(realCls)
	if dryRan {
		c.add(dryCls)
		c.dry++
	}
}

func advOutcomeAt(o []advOutcome, k int) advOutcome {
	if k < len(o) {
		return o[k]
	}
	return advRejected("(no verdict)")
}

func advMsgAt(s []string, k int) string {
	if k < len(s) {
		return s[k]
	}
	return ""
}

// advFingerprint names every file of a chain directory with its size and
// modification time: what a dry run must leave alone.
func advFingerprint(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() && fi.Name() != "LOCK" {
			fmt.Fprintf(&b, "%s %d %d\n", path, fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// ---- the rows ----

// advVt is the valid transfer the line rows mutate: A pays D 5000 at the
// minimum fee, stamped now.
func advVt(f *advFixture) string { return advTxLine(f.pay(advWA, 5000)) }

// advMut returns vt with old replaced by new.
func advMut(old, new string) func(f *advFixture) string {
	return func(f *advFixture) string { return f.rep(advVt(f), old, new) }
}

// advMutf is mut with the strings computed from the transfer.
func advMutf(g func(f *advFixture, t *tx.Tx, line string) string) func(f *advFixture) string {
	return func(f *advFixture) string {
		t := f.pay(advWA, 5000)
		return g(f, t, advTxLine(t))
	}
}

// advVb is a valid block on the tip carrying one transfer.
func advVb(f *advFixture) string { return advBlockLine(f.block(advWA.addr, f.pay(advWA, 5000))) }

func advBlk(g func(f *advFixture, b *block.Block)) func(f *advFixture) string {
	return func(f *advFixture) string {
		b := f.block(advWA.addr, f.pay(advWA, 5000))
		g(f, b)
		return advBlockLine(b)
	}
}

// advBlkTxs is a block on the tip with the transfers txs(f) returns, as built
// (consistent and mined).
func advBlkTxs(txs func(f *advFixture) []*tx.Tx) func(f *advFixture) string {
	return func(f *advFixture) string { return advBlockLine(f.block(advWA.addr, txs(f)...)) }
}

// advBmut is a valid block with one transfer, as a line that g edits.
func advBmut(g func(f *advFixture, b *block.Block, l string) string) func(f *advFixture) string {
	return func(f *advFixture) string {
		b := f.block(advWA.addr, f.pay(advWA, 5000))
		return g(f, b, advBlockLine(b))
	}
}

func adversarialRows() []advRow {
	var rows []advRow
	rows = append(rows, advLineRows()...)
	rows = append(rows, advTransferRows()...)
	rows = append(rows, advBlockRows()...)
	return rows
}

// advLineRows: the encoding of a line (lib/wire, lib/jsonl, lib/tx, lib/block).
func advLineRows() []advRow {
	rows := []advRow{
		advOne("line/valid transfer", advVt, advAccepted),
		advOne("line/valid transfer, no final newline", func(f *advFixture) string { return advVt(f) + advNoNL }, advAccepted),
		advOne("line/valid transfer, fields in another order", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return fmt.Sprintf(`{"signature":"%x","hash":"%x","timestamp":%d,"fee":%d,"amount":%d,"receiver":"%s","pubkey":"%x","sender":"%s","id":"%x","type":"tx"}`,
				t.Signature, t.Hash, t.Timestamp, t.Fee, t.Amount, t.Receiver, t.PubKey, t.Sender, t.ID)
		}), advAccepted),
		advOne("line/valid transfer, spaces and tabs between tokens", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			l = strings.ReplaceAll(l, `":`, "\" :\t")
			return strings.ReplaceAll(l, `,"`, ` , "`)
		}), advAccepted),
		advOne("line/tag ipv4", func(f *advFixture) string { return "127.0.0.2 " + advVt(f) }, advAccepted),
		advOne("line/tag ipv6", func(f *advFixture) string { return "2001:db8::7 " + advVt(f) }, advAccepted),
		advOne("line/tag ipv4-mapped ipv6", func(f *advFixture) string { return "::ffff:1.2.3.4 " + advVt(f) }, advAccepted),
		advOne("line/tag with port", func(f *advFixture) string { return "127.0.0.2:5050 " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/tag then two spaces", func(f *advFixture) string { return "127.0.0.2  " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/tag then tab", func(f *advFixture) string { return "127.0.0.2\t" + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/tag with leading zero", func(f *advFixture) string { return "127.0.0.02 " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/tag ipv6 uppercase", func(f *advFixture) string { return "2001:DB8::7 " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/tag ipv6 not compressed", func(f *advFixture) string { return "2001:db8:0:0:0:0:0:7 " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/tag with zone", func(f *advFixture) string { return "fe80::1%eth0 " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/tag is a name", func(f *advFixture) string { return "peer " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/tag then nothing", func(f *advFixture) string { return "127.0.0.2 " }, advRejected(rule.BadJSON)),
		advOne("line/tag of 64 bytes", func(f *advFixture) string { return strings.Repeat("1", 64) + " " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/empty", func(f *advFixture) string { return "" }, advRejected(rule.BadJSON)),
		advOne("line/spaces only", func(f *advFixture) string { return "   " }, advRejected(rule.BadJSON)),
		advOne("line/not json", func(f *advFixture) string { return "hello world" }, advRejected(rule.BadJSON)),
		advOne("line/top-level array", func(f *advFixture) string { return "[" + advVt(f) + "]" }, advRejected(rule.BadJSON)),
		advOne("line/top-level string", func(f *advFixture) string { return `"tx"` }, advRejected(rule.BadJSON)),
		advOne("line/empty object", func(f *advFixture) string { return "{}" }, advRejected(rule.MissingField)),
		advOne("line/trailing comma", func(f *advFixture) string { s := advVt(f); return s[:len(s)-1] + ",}" }, advRejected(rule.BadJSON)),
		advOne("line/missing colon", advMut(`"fee":`, `"fee" `), advRejected(rule.BadJSON)),
		advOne("line/bad literal", advMut(`"fee":1000`, `"fee":tru`), advRejected(rule.BadJSON)),
		advOne("line/CRLF", func(f *advFixture) string { return advVt(f) + "\r\n" }, advRejected(rule.BadJSON)),
		advOne("line/leading space", func(f *advFixture) string { return " " + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/trailing space", func(f *advFixture) string { return advVt(f) + " " }, advRejected(rule.BadJSON)),
		advOne("line/trailing garbage", func(f *advFixture) string { return advVt(f) + "x" }, advRejected(rule.BadJSON)),
		advOne("line/two objects", func(f *advFixture) string { return advVt(f) + advVt(f) }, advRejected(rule.BadJSON)),
		advOne("line/NUL in a string", advMut(`"type":"tx"`, "\"type\":\"t\x00x\""), advRejected(rule.BadJSON)),
		advOne("line/NUL between tokens", advMut(`"type":"tx",`, "\"type\":\"tx\",\x00"), advRejected(rule.BadJSON)),
		advOne("line/NUL alone", func(f *advFixture) string { return "\x00" }, advRejected(rule.BadJSON)),
		advOne("line/DEL in a string", advMut(`"type":"tx"`, "\"type\":\"t\x7fx\""), advRejected(rule.BadJSON)),
		advOne("line/tab in a string", advMut(`"type":"tx"`, "\"type\":\"t\tx\""), advRejected(rule.BadJSON)),
		advOne("line/non-ascii in a string", advMut(`"type":"tx"`, `"type":"tx é"`), advRejected(rule.BadJSON)),
		advOne("line/invalid utf-8", advMut(`"type":"tx"`, "\"type\":\"t\xffx\""), advRejected(rule.BadJSON)),
		advOne("line/escape \\u in an address", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return f.rep(l, `"receiver":"d`, `"receiver":"\u0064`)
		}), advRejected(rule.BadJSON)),
		advOne("line/escape \\\" in a string", advMut(`"type":"tx"`, `"type":"t\"x"`), advRejected(rule.BadJSON)),
		advOne("line/escape \\/ in a key", advMut(`"fee":`, `"f\/ee":`), advRejected(rule.BadJSON)),
		advOne("line/string of 257 bytes", advMut(`"type":"tx"`, `"type":"`+strings.Repeat("t", 257)+`"`), advRejected(rule.BadJSON)),
		advOne("line/key of 257 bytes", advMut(`"type":"tx",`, `"type":"tx","`+strings.Repeat("k", 257)+`":1,`), advRejected(rule.BadJSON)),
		advOne("line/65 keys", advMut(`"type":"tx",`, `"type":"tx",`+advManyKeys(55)), advRejected(rule.BadJSON)),
		advOne("line/64 keys", advMut(`"type":"tx",`, `"type":"tx",`+advManyKeys(54)), advRejected(rule.UnknownField)),
		advOne("line/nested 5 deep", advMut(`"fee":1000`, `"fee":[[[[1]]]]`), advRejected(rule.BadJSON)),
		advOne("line/nested 4 deep (parses; wrong kind)", advMut(`"fee":1000`, `"fee":[[[1]]]`), advRejected(rule.BadField)),
		advOne("line/duplicate key", advMut(`"fee":1000`, `"fee":1000,"fee":1000`), advRejected(rule.DuplicateKey)),
		advOne("line/duplicate type", advMut(`"type":"tx"`, `"type":"tx","type":"tx"`), advRejected(rule.DuplicateKey)),
		advOne("line/case-variant key Amount beside amount", advMut(`"fee":1000`, `"fee":1000,"Amount":5000`), advRejected(rule.DuplicateKey)),
		advOne("line/case-variant key FEE beside fee", advMut(`"fee":1000`, `"FEE":1,"fee":1000`), advRejected(rule.DuplicateKey)),
		advOne("line/key Amount instead of amount", advMut(`"amount":`, `"Amount":`), advRejected(rule.MissingField)),
		advOne("line/float amount", advMut(`"amount":5000`, `"amount":5000.0`), advRejected(rule.BadNumber)),
		advOne("line/exponent amount", advMut(`"amount":5000`, `"amount":5e3`), advRejected(rule.BadNumber)),
		advOne("line/negative amount", advMut(`"amount":5000`, `"amount":-5000`), advRejected(rule.BadNumber)),
		advOne("line/negative zero fee", advMut(`"fee":1000`, `"fee":-0`), advRejected(rule.BadNumber)),
		advOne("line/plus sign", advMut(`"amount":5000`, `"amount":+5000`), advRejected(rule.BadJSON)),
		advOne("line/leading zero amount", advMut(`"amount":5000`, `"amount":05000`), advRejected(rule.BadNumber)),
		advOne("line/amount 2^64 (overflows uint64)", advMut(`"amount":5000`, `"amount":18446744073709551616`), advRejected(rule.BadNumber)),
		advOne("line/amount of 30 digits", advMut(`"amount":5000`, `"amount":`+strings.Repeat("9", 30)), advRejected(rule.BadNumber)),
		advOne("line/amount 2^64-1 (fits, above MaxMoney)", advMut(`"amount":5000`, `"amount":18446744073709551615`), advRejected(rule.Overflow)),
		advOne("line/float timestamp", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return f.rep(l, fmt.Sprintf(`"timestamp":%d`, t.Timestamp), fmt.Sprintf(`"timestamp":%d.5`, t.Timestamp))
		}), advRejected(rule.BadNumber)),
		advOne("line/timestamp 2^40+1 (out of range)", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return f.rep(l, fmt.Sprintf(`"timestamp":%d`, t.Timestamp), fmt.Sprintf(`"timestamp":%d`, tx.MaxTimestamp+1))
		}), advRejected(rule.BadField)),
		advOne("line/bad number and duplicate key: first wins", advMut(`"amount":5000`, `"amount":-1,"amount":5000`), advRejected(rule.BadNumber)),
		advOne("line/bad number and bad syntax: syntax wins", advMut(`"amount":5000,`, `"amount":-1,,`), advRejected(rule.BadJSON)),
		advOne("line/unknown type", advMut(`"type":"tx"`, `"type":"transfer"`), advRejected(rule.BadType)),
		advOne("line/type TX", advMut(`"type":"tx"`, `"type":"TX"`), advRejected(rule.BadType)),
		advOne("line/type reward alone", func(f *advFixture) string {
			return fmt.Sprintf(`{"type":"reward","receiver":"%s","amount":1,"index":8}`, advWA.addr)
		}, advRejected(rule.BadType)),
		advOne("line/type genesis", func(f *advFixture) string { return string(f.p.JSON()) }, advRejected(rule.BadType)),
		advOne("line/type hello", func(f *advFixture) string {
			g := f.p.Hash()
			return fmt.Sprintf(`{"type":"hello","network":"%x","version":1,"address":"127.0.0.2:5050"}`, g)
		}, advRejected(rule.BadType)),
		advOne("line/type is a number", advMut(`"type":"tx"`, `"type":1`), advRejected(rule.BadField)),
		advOne("line/type missing", advMut(`"type":"tx",`, ``), advRejected(rule.MissingField)),
		advOne("line/unknown field", advMut(`"fee":1000`, `"fee":1000,"memo":"hi"`), advRejected(rule.UnknownField)),
		advOne("line/unknown field first", advMut(`{"type":"tx"`, `{"memo":"hi","type":"tx"`), advRejected(rule.UnknownField)),
		advOne("line/missing fee", advMut(`"fee":1000,`, ``), advRejected(rule.MissingField)),
		advOne("line/missing id", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return f.rep(l, fmt.Sprintf(`"id":"%x",`, t.ID), ``)
		}), advRejected(rule.MissingField)),
		advOne("line/missing signature", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return f.rep(l, fmt.Sprintf(`,"signature":"%x"`, t.Signature), ``)
		}), advRejected(rule.MissingField)),
		advOne("line/string amount", advMut(`"amount":5000`, `"amount":"5000"`), advRejected(rule.BadField)),
		advOne("line/null amount", advMut(`"amount":5000`, `"amount":null`), advRejected(rule.BadField)),
		advOne("line/boolean fee", advMut(`"fee":1000`, `"fee":true`), advRejected(rule.BadField)),
		advOne("line/object sender", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return f.rep(l, `"sender":"`+t.Sender+`"`, `"sender":{}`)
		}), advRejected(rule.BadField)),
		advOne("line/number id", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return f.rep(l, fmt.Sprintf(`"id":"%x"`, t.ID), `"id":12345`)
		}), advRejected(rule.BadField)),
		advOne("line/array timestamp", advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			return f.rep(l, fmt.Sprintf(`"timestamp":%d`, t.Timestamp), fmt.Sprintf(`"timestamp":[%d]`, t.Timestamp))
		}), advRejected(rule.BadField)),
	}
	hexRows := []struct {
		name, field string
		edit        func(h string) string
	}{
		{"id of 31 hex digits", "id", func(h string) string { return h[:31] }},
		{"id of 33 hex digits", "id", func(h string) string { return h + "0" }},
		{"id of 30 hex digits", "id", func(h string) string { return h[:30] }},
		{"id of 34 hex digits", "id", func(h string) string { return h + "00" }},
		{"id empty", "id", func(h string) string { return "" }},
		{"id uppercase", "id", func(h string) string { return "A" + h[1:] }},
		{"id with a g", "id", func(h string) string { return "g" + h[1:] }},
		{"id with 0x", "id", func(h string) string { return "0x" + h[2:] }},
		{"pubkey of 62 hex digits", "pubkey", func(h string) string { return h[:62] }},
		{"hash of 63 hex digits", "hash", func(h string) string { return h[:63] }},
		{"hash of 65 hex digits", "hash", func(h string) string { return h + "0" }},
		{"hash uppercase", "hash", func(h string) string { return strings.ToUpper(h) }},
		{"signature short (126 hex digits)", "signature", func(h string) string { return h[:126] }},
		{"signature long (130 hex digits)", "signature", func(h string) string { return h + "00" }},
		{"signature uppercase", "signature", func(h string) string { return strings.ToUpper(h) }},
	}
	for _, hr := range hexRows {
		rows = append(rows, advOne("line/"+hr.name, advMutf(func(f *advFixture, t *tx.Tx, l string) string {
			var v []byte
			switch hr.field {
			case "id":
				v = t.ID[:]
			case "pubkey":
				v = t.PubKey[:]
			case "hash":
				v = t.Hash[:]
			case "signature":
				v = t.Signature[:]
			}
			return f.rep(l, `"`+hr.field+`":"`+advHexOf(v)+`"`, `"`+hr.field+`":"`+hr.edit(advHexOf(v))+`"`)
		}), advRejected(rule.BadHex)))
	}
	// Truncation at several cut points, for a transfer and a block line.
	for _, cut := range []struct {
		name string
		at   func(l string) int
	}{
		{"after 1 byte", func(l string) int { return 1 }},
		{"inside \"type\"", func(l string) int { return 4 }},
		{"after a key", func(l string) int { return strings.Index(l, `"id"`) + 4 }},
		{"after a colon", func(l string) int { return strings.Index(l, `"id":`) + 5 }},
		{"inside a hex string", func(l string) int { return strings.Index(l, `"pubkey":"`) + 20 }},
		{"inside an address", func(l string) int { return strings.Index(l, `"receiver":"`) + 20 }},
		{"inside a number", func(l string) int { return strings.Index(l, `"amount":`) + 10 }},
		{"after a comma", func(l string) int { return strings.Index(l, `"fee":`) }},
		{"before the last quote", func(l string) int { return len(l) - 2 }},
		{"before the closing brace", func(l string) int { return len(l) - 1 }},
	} {
		rows = append(rows, advOne("line/truncated transfer "+cut.name, func(f *advFixture) string {
			l := advVt(f)
			return l[:cut.at(l)]
		}, advRejected(rule.BadJSON)))
		rows = append(rows, advOne("line/truncated block "+cut.name, func(f *advFixture) string {
			l := advVb(f)
			return l[:cut.at(l)]
		}, advRejected(rule.BadJSON)))
	}
	for _, cut := range []struct {
		name string
		at   func(l string) int
	}{
		{"inside the transactions array", func(l string) int { return strings.Index(l, `"transactions":[`) + 16 }},
		{"between transactions", func(l string) int { return strings.Index(l, `},{"type":"tx"`) + 2 }},
		{"before the closing bracket", func(l string) int { return len(l) - 2 }},
	} {
		rows = append(rows, advOne("line/truncated block "+cut.name, func(f *advFixture) string {
			l := advVb(f)
			return l[:cut.at(l)]
		}, advRejected(rule.BadJSON)))
	}
	capLen := advBlockBytes + wire.MaxPrefix // the reader's cap
	rows = append(rows,
		advSteps("line/huge line (1 MiB), then a valid one", advSt(func(f *advFixture) string {
			return `{"type":"tx","pad":"` + strings.Repeat("x", 1<<20) + `"}` + "\n" + advVt(f) + "\n"
		}, advRejected(rule.TooLarge), advAccepted)),
		advSteps("line/huge line without newline at EOF", advSt(func(f *advFixture) string {
			return strings.Repeat("{", 1<<20) + advNoNL
		}, advRejected(rule.TooLarge))),
		advOne("line/transfer padded to 1024 bytes (the limit)", func(f *advFixture) string { return advPadTx(f, advVt(f), params.MaxTxLine) }, advAccepted),
		advOne("line/transfer padded to 1025 bytes", func(f *advFixture) string { return advPadTx(f, advVt(f), params.MaxTxLine+1) }, advRejected(rule.TooLarge)),
		advOne("line/tagged transfer padded to 1024 bytes", func(f *advFixture) string { return "127.0.0.2 " + advPadTx(f, advVt(f), params.MaxTxLine) }, advAccepted),
		advOne("line/transfer padded to the reader cap", func(f *advFixture) string { return advPadTx(f, advVt(f), capLen) }, advRejected(rule.TooLarge)),
		advOne("line/transfer padded past the reader cap", func(f *advFixture) string { return advPadTx(f, advVt(f), capLen+1) }, advRejected(rule.TooLarge)),
	)
	return rows
}

func advManyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `"x%d":1,`, i)
	}
	return b.String()
}

// advPadTx pads a transfer line with spaces after its first comma to size.
func advPadTx(f *advFixture, line string, size int) string {
	i := strings.IndexByte(line, ',') + 1
	return line[:i] + strings.Repeat(" ", size-len(line)) + line[i:]
}

// advTransferRows: transfers that decode but must not be accepted, and the
// valid ones at each limit.
func advTransferRows() []advRow {
	minFee := func(f *advFixture) uint64 { return f.p.MinFee }
	rows := []advRow{
		// Signatures and hashes.
		advOne("tx/bad signature: flipped bit in R", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Signature[3] ^= 0x10
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/bad signature: flipped bit in S", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Signature[40] ^= 0x01
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/bad signature: all zero", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Signature = [64]byte{}
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/bad signature: another key's", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			o := *t
			f.resign(&o, advWC)
			t.Signature = o.Signature
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/bad signature: another transfer's", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Signature = f.pay(advWA, 5000).Signature
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/signature S + L (non-canonical scalar, ZIP-215 refuses)", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Signature = advNonCanonicalS(t.Signature)
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/signature S = L", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			copy(t.Signature[32:], advLeBytes(advGroupL, 32))
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/amount changed, hash kept", func(f *advFixture) string { t := f.pay(advWA, 5000); t.Amount++; return advTxLine(t) }, advRejected(rule.BadHash)),
		advOne("tx/receiver changed, hash kept", func(f *advFixture) string { t := f.pay(advWA, 5000); t.Receiver = advWC.addr; return advTxLine(t) }, advRejected(rule.BadHash)),
		advOne("tx/fee changed, hash kept", func(f *advFixture) string { t := f.pay(advWA, 5000); t.Fee++; return advTxLine(t) }, advRejected(rule.BadHash)),
		advOne("tx/timestamp changed, hash kept", func(f *advFixture) string { t := f.pay(advWA, 5000); t.Timestamp--; return advTxLine(t) }, advRejected(rule.BadHash)),
		advOne("tx/id changed, hash kept", func(f *advFixture) string { t := f.pay(advWA, 5000); t.ID[0] ^= 1; return advTxLine(t) }, advRejected(rule.BadHash)),
		advOne("tx/hash field flipped", func(f *advFixture) string { t := f.pay(advWA, 5000); t.Hash[31] ^= 1; return advTxLine(t) }, advRejected(rule.BadHash)),
		advOne("tx/amount changed, hash recomputed, signature kept", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Amount = 4_000_000_000
			t.Hash = t.ComputeHash(f.p.Hash())
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/receiver changed, hash recomputed, signature kept", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Receiver = advWC.addr
			t.Hash = t.ComputeHash(f.p.Hash())
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/fee changed, hash recomputed, signature kept", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Fee = 1_000_000
			t.Hash = t.ComputeHash(f.p.Hash())
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/signed for another devnet's genesis", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Sign(f.other.Hash(), advWA.priv)
			return advTxLine(t)
		}, advRejected(rule.BadHash)),
		advOne("tx/signed for the main network's genesis", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Sign(params.Main().Hash(), advWA.priv)
			return advTxLine(t)
		}, advRejected(rule.BadHash)),
		// Addresses.
		advOne("tx/sender is not the address of pubkey", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Sender = advWC.addr
			return advTxLine(f.resign(t, advWA))
		}, advRejected(rule.SenderMismatch)),
		advOne("tx/pubkey of another key, sender kept", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.PubKey = advWC.pub
			return advTxLine(t)
		}, advRejected(rule.SenderMismatch)),
		advOne("tx/receiver with the main prefix", func(f *advFixture) string {
			return advTxLine(f.tx(advWA, keys.Address(keys.MainHRP, advWD.pub[:]), 5000, f.p.MinFee))
		}, advRejected(rule.WrongNetwork)),
		advOne("tx/sender with the main prefix", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			t.Sender = keys.Address(keys.MainHRP, advWA.pub[:])
			return advTxLine(f.resign(t, advWA))
		}, advRejected(rule.WrongNetwork)),
		advOne("tx/receiver of an unknown network", func(f *advFixture) string {
			return advTxLine(f.tx(advWA, keys.Address("xyz", advWD.pub[:]), 5000, f.p.MinFee))
		}, advRejected(rule.WrongNetwork)),
		advOne("tx/receiver with a bad checksum", func(f *advFixture) string {
			a := []byte(advWD.addr)
			a[len(a)-1] = advOtherHexDigit(a[len(a)-1])
			return advTxLine(f.tx(advWA, string(a), 5000, f.p.MinFee))
		}, advRejected(rule.BadAddress)),
		advOne("tx/receiver in uppercase hex", func(f *advFixture) string {
			return advTxLine(f.tx(advWA, "dcnj1"+strings.ToUpper(advWD.addr[5:]), 5000, f.p.MinFee))
		}, advRejected(rule.BadAddress)),
		advOne("tx/receiver with an uppercase prefix", func(f *advFixture) string {
			return advTxLine(f.tx(advWA, "DCNJ"+advWD.addr[4:], 5000, f.p.MinFee))
		}, advRejected(rule.BadAddress)),
		advOne("tx/receiver without separator", func(f *advFixture) string {
			return advTxLine(f.tx(advWA, strings.Replace(advWD.addr, "1", "", 1), 5000, f.p.MinFee))
		}, advRejected(rule.BadAddress)),
		advOne("tx/receiver empty", func(f *advFixture) string { return advTxLine(f.tx(advWA, "", 5000, f.p.MinFee)) }, advRejected(rule.BadAddress)),
		advOne("tx/receiver one hex digit short", func(f *advFixture) string {
			return advTxLine(f.tx(advWA, advWD.addr[:len(advWD.addr)-1], 5000, f.p.MinFee))
		}, advRejected(rule.BadAddress)),
		advOne("tx/sender with a bad checksum", func(f *advFixture) string {
			t := f.pay(advWA, 5000)
			a := []byte(t.Sender)
			a[10] = advOtherHexDigit(a[10])
			t.Sender = string(a)
			return advTxLine(f.resign(t, advWA))
		}, advRejected(rule.BadAddress)),
		advOne("tx/pay to self", func(f *advFixture) string { return advTxLine(f.tx(advWA, advWA.addr, 5000, f.p.MinFee)) }, advAccepted),
		// Amounts and fees.
		advOne("tx/zero amount", func(f *advFixture) string { return advTxLine(f.pay(advWA, 0)) }, advRejected(rule.ZeroAmount)),
		advOne("tx/amount 1 (smallest)", func(f *advFixture) string { return advTxLine(f.pay(advWA, 1)) }, advAccepted),
		advOne("tx/fee 0", func(f *advFixture) string { return advTxLine(f.tx(advWA, advWD.addr, 5000, 0)) }, advRejected(rule.LowFee)),
		advOne("tx/fee one below the minimum", func(f *advFixture) string { return advTxLine(f.tx(advWA, advWD.addr, 5000, minFee(f)-1)) }, advRejected(rule.LowFee)),
		advOne("tx/fee at the minimum", func(f *advFixture) string { return advTxLine(f.tx(advWA, advWD.addr, 5000, minFee(f))) }, advAccepted),
		advOne("tx/fee above the minimum", func(f *advFixture) string { return advTxLine(f.tx(advWA, advWD.addr, 5000, minFee(f)+1)) }, advAccepted),
		advOne("tx/amount MaxMoney + min fee (sum overflows)", func(f *advFixture) string { return advTxLine(f.pay(advWA, amount.MaxMoney)) }, advRejected(rule.Overflow)),
		advOne("tx/amount MaxMoney+1", func(f *advFixture) string { return advTxLine(f.tx(advWA, advWD.addr, amount.MaxMoney+1, minFee(f))) }, advRejected(rule.Overflow)),
		advOne("tx/amount 2^64-1", func(f *advFixture) string { return advTxLine(f.tx(advWA, advWD.addr, 1<<64-1, minFee(f))) }, advRejected(rule.Overflow)),
		advOne("tx/fee MaxMoney+1", func(f *advFixture) string { return advTxLine(f.tx(advWA, advWD.addr, 1, amount.MaxMoney+1)) }, advRejected(rule.Overflow)),
		advOne("tx/amount + fee = MaxMoney (no overflow; no funds)", func(f *advFixture) string {
			return advTxLine(f.pay(advWA, amount.MaxMoney-f.p.MinFee))
		}, advRejected(rule.InsufficientFunds)),
		advOne("tx/overspend", func(f *advFixture) string { return advTxLine(f.pay(advWA, 10_000*amount.Coin)) }, advRejected(rule.InsufficientFunds)),
		advOne("tx/from an address that holds nothing", func(f *advFixture) string { return advTxLine(f.tx(advWD, advWC.addr, 1, minFee(f))) }, advRejected(rule.InsufficientFunds)),
		advOne("tx/exactly the spendable balance", func(f *advFixture) string {
			return advTxLine(f.tx(advWC, advWD.addr, f.confirmed(advWC.addr)-f.p.MinFee, f.p.MinFee))
		}, advAccepted),
		advOne("tx/one unit over the spendable balance", func(f *advFixture) string {
			return advTxLine(f.tx(advWC, advWD.addr, f.confirmed(advWC.addr)-f.p.MinFee+1, f.p.MinFee))
		}, advRejected(rule.InsufficientFunds)),
		advOne("tx/exactly what matures by the next block", func(f *advFixture) string {
			return advTxLine(f.pay(advWA, f.confirmed(advWA.addr)-f.p.MinFee))
		}, advAccepted),
		advOne("tx/one unit into the immature rewards", func(f *advFixture) string {
			return advTxLine(f.pay(advWA, f.confirmed(advWA.addr)-f.p.MinFee+1))
		}, advRejected(rule.ImmatureSpend)),
		advOne("tx/immature reward spend", func(f *advFixture) string { return advTxLine(f.pay(advWB, 1)) }, advRejected(rule.ImmatureSpend)),
		advOne("tx/beyond spendable and immature together", func(f *advFixture) string {
			l := f.n.Chain().Ledger().Balance(advWB.addr)
			return advTxLine(f.pay(advWB, l.Confirmed+l.Immature))
		}, advRejected(rule.InsufficientFunds)),
		advSteps("tx/two transfers that together overspend (mempool)",
			advSt(func(f *advFixture) string { return advTxLine(f.tx(advWC, advWD.addr, 50_000, f.p.MinFee)) }, advAccepted),
			advSt(func(f *advFixture) string { return advTxLine(f.tx(advWC, advWD.addr, 49_000, f.p.MinFee)) }, advRejected(rule.InsufficientFunds))),
		advSteps("tx/two transfers that together spend exactly the balance (mempool)",
			advSt(func(f *advFixture) string { return advTxLine(f.tx(advWC, advWD.addr, 50_000, f.p.MinFee)) }, advAccepted),
			advSt(func(f *advFixture) string { return advTxLine(f.tx(advWC, advWD.addr, 48_000, f.p.MinFee)) }, advAccepted)),
		advSteps("tx/two transfers overspending in one input (one batch)",
			advSt(func(f *advFixture) string {
				return advTxLine(f.tx(advWC, advWD.addr, 50_000, f.p.MinFee)) + "\n" + advTxLine(f.tx(advWC, advWD.addr, 49_000, f.p.MinFee)) + "\n"
			}, advAccepted, advRejected(rule.InsufficientFunds))),
		advSteps("tx/spending a pending incoming transfer (mempool counts no pending credit)",
			advSt(func(f *advFixture) string { return advTxLine(f.pay(advWA, 50_000)) }, advAccepted),
			advSt(func(f *advFixture) string { return advTxLine(f.tx(advWD, advWC.addr, 10_000, f.p.MinFee)) }, advRejected(rule.InsufficientFunds))),
		// Time window (mempool: a block stamped now could carry it).
		advOne("tx/timestamp now+2h (the limit)", func(f *advFixture) string {
			return advTxLine(f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, f.now+params.TxWindowBefore))
		}, advAccepted),
		advOne("tx/timestamp now+2h+1", func(f *advFixture) string {
			return advTxLine(f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, f.now+params.TxWindowBefore+1))
		}, advRejected(rule.BadTxTime)),
		advOne("tx/timestamp now-24h (the limit)", func(f *advFixture) string {
			return advTxLine(f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, f.now-params.TxWindowAfter))
		}, advAccepted),
		advOne("tx/timestamp now-24h-1", func(f *advFixture) string {
			return advTxLine(f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, f.now-params.TxWindowAfter-1))
		}, advRejected(rule.BadTxTime)),
		advOne("tx/timestamp 0", func(f *advFixture) string { return advTxLine(f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, 0)) }, advRejected(rule.BadTxTime)),
		advOne("tx/timestamp 2^40 (largest that decodes)", func(f *advFixture) string {
			return advTxLine(f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, tx.MaxTimestamp))
		}, advRejected(rule.BadTxTime)),
		// Ids and replays.
		advOne("tx/replay of a mined transfer (passed over quietly)", func(f *advFixture) string { return advTxLine(f.mined) }, advKnown),
		advOne("tx/replay of a mined transfer from a peer", func(f *advFixture) string { return "10.1.2.3 " + advTxLine(f.mined) }, advKnown),
		advOne("tx/other transfer reusing a mined id", func(f *advFixture) string {
			t := f.tx(advWA, advWC.addr, 100_000, f.p.MinFee)
			t.ID = f.mined.ID
			return advTxLine(f.resign(t, advWA))
		}, advRejected(rule.DuplicateID)),
		// Ids are scoped to their sender: a mined or pooled id does not
		// stop another key's transfer.
		advOne("tx/another sender's transfer under a mined id", func(f *advFixture) string {
			t := f.tx(advWC, advWD.addr, 50_000, f.p.MinFee)
			t.ID = f.mined.ID
			return advTxLine(f.resign(t, advWC))
		}, advAccepted),
		advSteps("tx/another sender's transfer under a pooled id",
			advSt(func(f *advFixture) string { return advTxLine(f.pay(advWA, 5000)) }, advAccepted),
			advSt(func(f *advFixture) string {
				f.seq--
				t := f.tx(advWC, advWD.addr, 50_000, f.p.MinFee)
				return advTxLine(t)
			}, advAccepted)),
		advOne("tx/mined transfer with the amount changed, hash kept", func(f *advFixture) string {
			t := *f.mined
			t.Amount = 200_000
			return advTxLine(&t)
		}, advRejected(rule.BadHash)),
		advOne("tx/mined transfer with S + L", func(f *advFixture) string {
			t := *f.mined
			t.Signature = advNonCanonicalS(t.Signature)
			return advTxLine(&t)
		}, advRejected(rule.BadSignature)),
		advSteps("tx/resent while in the mempool",
			advSt(func(f *advFixture) string { return advTxLine(f.pay(advWA, 5000)) }, advAccepted),
			advSt(func(f *advFixture) string { f.seq--; return advTxLine(f.pay(advWA, 5000)) }, advKnown)),
		advSteps("tx/other transfer reusing a pooled id",
			advSt(func(f *advFixture) string { return advTxLine(f.pay(advWA, 5000)) }, advAccepted),
			advSt(func(f *advFixture) string { f.seq--; return advTxLine(f.pay(advWA, 6000)) }, advRejected(rule.DuplicateID))),
		advSteps("tx/two transfers with one id in one input",
			advSt(func(f *advFixture) string {
				t := f.pay(advWA, 5000)
				f.seq--
				return advTxLine(t) + "\n" + advTxLine(f.pay(advWA, 6000)) + "\n"
			}, advAccepted, advRejected(rule.DuplicateID))),
		advSteps("tx/the same transfer twice in one input",
			advSt(func(f *advFixture) string { l := advTxLine(f.pay(advWA, 5000)); return l + "\n" + l + "\n" }, advAccepted, advKnown)),
		// A line that claims the hash of a pooled transfer is not that
		// transfer: it must be judged, not passed over as known.
		advSteps("tx/pooled transfer with the amount changed, hash kept",
			advSt(func(f *advFixture) string { return advTxLine(f.pay(advWA, 5000)) }, advAccepted),
			advSt(func(f *advFixture) string { f.seq--; t := f.pay(advWA, 5000); t.Amount = 6000; return advTxLine(t) }, advRejected(rule.BadHash))),
		advSteps("tx/pooled transfer with S + L",
			advSt(func(f *advFixture) string { return advTxLine(f.pay(advWA, 5000)) }, advAccepted),
			advSt(func(f *advFixture) string {
				f.seq--
				t := f.pay(advWA, 5000)
				t.Signature = advNonCanonicalS(t.Signature)
				return advTxLine(t)
			}, advRejected(rule.BadSignature))),
		func() advRow {
			// The chain's median time past is pushed above the node's clock
			// by blocks stamped up to 2 h ahead (allowed), until the id of a
			// transfer stamped now-24h leaves the recent set. No block can
			// carry that transfer any more (its window closed at now), so
			// the resent transfer must be refused, not taken as new.
			var old *tx.Tx
			r := advSteps("tx/replay after its id left the recent set (chain time above the clock)",
				advSt(func(f *advFixture) string {
					old = f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, f.now-params.TxWindowAfter)
					return advBlockLine(f.block(advWA.addr, old))
				}, advAccepted),
				advNoDry(advDryChain, advSt(func(f *advFixture) string { return advFutureBlocks(f, 7) }, advRepeat(advAccepted, 7)...)),
				advSt(func(f *advFixture) string {
					if f.n.Chain().Ledger().HasID(old.Sender, old.ID) {
						f.t.Fatal("setup: the id is still in the recent set")
					}
					return advTxLine(old)
				}, advRejected(rule.BadTxTime)))
			return r
		}(),
	}
	rows = append(rows, advSteps("tx/stamped now-24h while the chain's median time is above the clock (no block can carry it)",
		advNoDry(advDryChain, advSt(func(f *advFixture) string { return advFutureBlocks(f, 7) }, advRepeat(advAccepted, 7)...)),
		advSt(func(f *advFixture) string {
			if mtp := f.n.Chain().MedianTime(f.n.Chain().Tip()); mtp <= f.now {
				f.t.Fatalf("setup: median time past %d not above the clock %d", mtp, f.now)
			}
			return advTxLine(f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, f.now-params.TxWindowAfter+50))
		}, advRejected(rule.BadTxTime))))
	// ZIP-215 specifics: small-order and non-canonical public keys with the
	// trivial signature verify (documented behaviour, not a bug: such an
	// address is anyone-can-spend, so nobody should pay to it). With no
	// funds there, the verdict is insufficient-funds, which shows that
	// form, hash and signature passed.
	for _, so := range advSmallOrder {
		rows = append(rows, advOne("tx/ZIP-215 small-order pubkey "+so.name+", trivial signature (verifies)", func(f *advFixture) string {
			t := f.keyTx(so.enc, advWD.addr, 5000)
			t.Signature = advTrivialSig()
			return advTxLine(t)
		}, advRejected(rule.InsufficientFunds)))
	}
	rows = append(rows,
		advOne("tx/ZIP-215 small-order pubkey, R not small-order", func(f *advFixture) string {
			t := f.keyTx(advSmallOrder[0].enc, advWD.addr, 5000)
			t.Signature = advTrivialSig()
			copy(t.Signature[:32], advWA.pub[:]) // a point of large order
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/ZIP-215 small-order pubkey, S = L", func(f *advFixture) string {
			t := f.keyTx(advSmallOrder[0].enc, advWD.addr, 5000)
			t.Signature = advTrivialSig()
			copy(t.Signature[32:], advLeBytes(advGroupL, 32))
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/pubkey that is not a curve point", func(f *advFixture) string {
			t := f.keyTx(advNotAPoint(), advWD.addr, 5000)
			t.Signature = advTrivialSig()
			return advTxLine(t)
		}, advRejected(rule.BadSignature)),
		advOne("tx/ZIP-215 mixed-order pubkey (A + order-2 point), signed with A's scalar (verifies)", func(f *advFixture) string {
			t := f.keyTx(advMixedKey(advWA), advWD.addr, 5000)
			advSignMixed(t, advWA)
			return advTxLine(t)
		}, advRejected(rule.InsufficientFunds)),
		advSteps("tx/ZIP-215 anyone-can-spend: identity-pubkey address funded, then spent with the trivial signature",
			advSt(func(f *advFixture) string {
				idAddr := keys.Address(f.p.AddressPrefix, advSmallOrder[0].enc[:])
				return advBlockLine(f.block(advWA.addr, f.tx(advWA, idAddr, 50_000, f.p.MinFee)))
			}, advAccepted),
			advSt(func(f *advFixture) string {
				t := f.keyTx(advSmallOrder[0].enc, advWD.addr, 40_000)
				t.Signature = advTrivialSig()
				return advTxLine(t)
			}, advAccepted)),
		advSteps("tx/ZIP-215 mixed-order address funded, then spent by the holder of A",
			advSt(func(f *advFixture) string {
				addr := keys.Address(f.p.AddressPrefix, func() []byte { k := advMixedKey(advWA); return k[:] }())
				return advBlockLine(f.block(advWA.addr, f.tx(advWA, addr, 50_000, f.p.MinFee)))
			}, advAccepted),
			advSt(func(f *advFixture) string {
				t := f.keyTx(advMixedKey(advWA), advWD.addr, 40_000)
				advSignMixed(t, advWA)
				return advTxLine(t)
			}, advAccepted)),
	)
	return rows
}

func advRepeat(o advOutcome, n int) []advOutcome {
	out := make([]advOutcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

// advFutureBlocks mines k empty blocks on the tip stamped 100 s apart after
// now (at most 2 h ahead) and returns their lines, one per line.
func advFutureBlocks(f *advFixture, k int) string {
	var b strings.Builder
	parent := f.n.Chain().Tip()
	for i := range k {
		advBlk := f.blockOn(parent, advWB.addr)
		advBlk.Timestamp = f.now + 100*int64(i+1)
		advSeal(f.p, advBlk)
		b.WriteString(advBlockLine(advBlk) + "\n")
		parent = advPseudoNode(advBlk, parent)
	}
	return b.String()
}

func advOtherHexDigit(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

// advBlockRows: blocks crafted on the real tip, mutated, re-mined.
func advBlockRows() []advRow {
	setTarget := func(b *block.Block, t [32]byte) { b.Target = t; advRemine(b) }
	rows := []advRow{
		advOne("block/valid, one transfer", advVb, advAccepted),
		advOne("block/valid, empty", func(f *advFixture) string { return advBlockLine(f.block(advWA.addr)) }, advAccepted),
		advOne("block/valid, from a peer", func(f *advFixture) string { return "127.0.0.2 " + advVb(f) }, advAccepted),
		advOne("block/valid, paying a new miner", func(f *advFixture) string { return advBlockLine(f.block(advWD.addr)) }, advAccepted),
		advOne("block/valid, five transfers", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.pay(advWA, 1), f.pay(advWA, 2), f.pay(advWA, 3), f.pay(advWC, 4), f.tx(advWC, advWA.addr, 5, f.p.MinFee)}
		}), advAccepted),
		advSteps("block/resent (passed over quietly)",
			advSt(advVb, advAccepted),
			advSt(func(f *advFixture) string {
				b, _ := f.n.Chain().Block(f.n.Chain().Tip())
				return advBlockLine(b)
			}, advKnown)),
		advSteps("block/resent from a peer",
			advSt(advVb, advAccepted),
			advSt(func(f *advFixture) string {
				b, _ := f.n.Chain().Block(f.n.Chain().Tip())
				return "10.0.0.9 " + advBlockLine(b)
			}, advKnown)),
		// Proof of work and hashes.
		advOne("block/proof not meeting the target", advBlk(func(f *advFixture, b *block.Block) { advUnmine(b) }), advRejected(rule.HighHash)),
		advOne("block/easier target (all ones), re-mined", advBlk(func(f *advFixture, b *block.Block) {
			var t [32]byte
			for i := range t {
				t[i] = 0xff
			}
			setTarget(b, t)
		}), advRejected(rule.BadTarget)),
		advOne("block/target one above the limit, re-mined", advBlk(func(f *advFixture, b *block.Block) {
			setTarget(b, advAddTarget(b.Target, 1))
		}), advRejected(rule.BadTarget)),
		advOne("block/harder target (half), re-mined", advBlk(func(f *advFixture, b *block.Block) {
			setTarget(b, advShrTarget(b.Target))
		}), advRejected(rule.BadTarget)),
		advOne("block/hash field of another header", advBlk(func(f *advFixture, b *block.Block) {
			b.Hash = f.n.Chain().Tip().Hash
		}), advRejected(rule.BadBlockHash)),
		advOne("block/hash field zero", advBlk(func(f *advFixture, b *block.Block) { b.Hash = [32]byte{} }), advRejected(rule.BadBlockHash)),
		advOne("block/timestamp changed after mining", advBlk(func(f *advFixture, b *block.Block) { b.Timestamp++ }), advRejected(rule.BadBlockHash)),
		advOne("block/proof changed after mining", advBlk(func(f *advFixture, b *block.Block) { b.Proof++ }), advRejected(rule.BadBlockHash)),
		advOne("block/miner changed after mining", advBlk(func(f *advFixture, b *block.Block) {
			b.Miner = advWD.addr
			b.Reward.Receiver = advWD.addr
			b.MerkleRoot = block.MerkleRoot(f.p.Hash(), &b.Reward, b.Txs)
		}), advRejected(rule.BadBlockHash)),
		// Merkle root.
		advOne("block/bad merkle root, re-mined", advBlk(func(f *advFixture, b *block.Block) {
			b.MerkleRoot[0] ^= 1
			advRemine(b)
		}), advRejected(rule.BadMerkle)),
		advOne("block/transfer amount changed under the same header", advBlk(func(f *advFixture, b *block.Block) {
			b.Txs[0].Amount++
		}), advRejected(rule.BadMerkle)),
		advOne("block/transfer signature changed under the same header", advBlk(func(f *advFixture, b *block.Block) {
			b.Txs[0].Signature = advNonCanonicalS(b.Txs[0].Signature)
		}), advRejected(rule.BadMerkle)),
		advOne("block/transfer removed under the same header", advBlk(func(f *advFixture, b *block.Block) {
			b.Txs = nil
		}), advRejected(rule.BadMerkle)),
		advOne("block/transfer added under the same header", advBlk(func(f *advFixture, b *block.Block) {
			b.Txs = append(b.Txs, f.pay(advWA, 7))
		}), advRejected(rule.BadMerkle)),
		advOne("block/transfers swapped under the same header", func(f *advFixture) string {
			b := f.block(advWA.addr, f.pay(advWA, 1), f.pay(advWA, 2))
			b.Txs[0], b.Txs[1] = b.Txs[1], b.Txs[0]
			return advBlockLine(b)
		}, advRejected(rule.BadMerkle)),
		advOne("block/reward amount changed under the same header", advBlk(func(f *advFixture, b *block.Block) {
			b.Reward.Amount--
		}), advRejected(rule.BadMerkle)),
		// The same header with other transactions is not the known block:
		// it must be refused, not passed over.
		func() advRow {
			var good string
			return advSteps("block/transactions changed under the header of a stored block",
				advSt(func(f *advFixture) string { good = advVb(f); return good }, advAccepted),
				advSt(func(f *advFixture) string {
					b, err := block.Parse([]byte(good))
					if err != nil {
						f.t.Fatal(err)
					}
					b.Txs[0].Amount++
					return advBlockLine(b)
				}, advRejected(rule.BadMerkle)))
		}(),
		func() advRow {
			var good string
			return advSteps("block/header of a stored block with another proof, hash kept",
				advSt(func(f *advFixture) string { good = advVb(f); return good }, advAccepted),
				advSt(func(f *advFixture) string {
					b, err := block.Parse([]byte(good))
					if err != nil {
						f.t.Fatal(err)
					}
					b.Proof++
					return advBlockLine(b)
				}, advRejected(rule.BadBlockHash)))
		}(),
		// The reward.
		advOne("block/reward one above subsidy + fees", advBlk(func(f *advFixture, b *block.Block) {
			b.Reward.Amount++
			advSeal(f.p, b)
		}), advRejected(rule.BadReward)),
		advOne("block/reward exactly subsidy + fees", advVb, advAccepted),
		advOne("block/reward below subsidy + fees (rest burned)", advBlk(func(f *advFixture, b *block.Block) {
			b.Reward.Amount -= 12345
			advSeal(f.p, b)
		}), advAccepted),
		advOne("block/reward zero", advBlk(func(f *advFixture, b *block.Block) {
			b.Reward.Amount = 0
			advSeal(f.p, b)
		}), advAccepted),
		advOne("block/reward 2^64-1", advBlk(func(f *advFixture, b *block.Block) {
			b.Reward.Amount = 1<<64 - 1
			advSeal(f.p, b)
		}), advRejected(rule.BadReward)),
		advOne("block/reward index one below", advBlk(func(f *advFixture, b *block.Block) {
			b.Reward.Index--
			advSeal(f.p, b)
		}), advRejected(rule.BadReward)),
		advOne("block/reward index one above", advBlk(func(f *advFixture, b *block.Block) {
			b.Reward.Index++
			advSeal(f.p, b)
		}), advRejected(rule.BadReward)),
		advOne("block/reward to someone other than the miner", advBlk(func(f *advFixture, b *block.Block) {
			b.Reward.Receiver = advWD.addr
			advSeal(f.p, b)
		}), advRejected(rule.BadReward)),
		// Rows that need surgery on the line rather than the struct.
		advOne("block/no transactions at all (no reward)", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return l[:strings.Index(l, `"transactions":[`)+16] + "]}"
		}), advRejected(rule.NoReward)),
		advOne("block/first transaction a transfer (no reward)", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, string(b.Reward.AppendJSON(nil))+",", "")
		}), advRejected(rule.NoReward)),
		advOne("block/reward not first", advBmut(func(f *advFixture, b *block.Block, l string) string {
			rw := string(b.Reward.AppendJSON(nil))
			t := advTxLine(b.Txs[0])
			return f.rep(l, rw+","+t, t+","+rw)
		}), advRejected(rule.NoReward)),
		advOne("block/second reward", advBmut(func(f *advFixture, b *block.Block, l string) string {
			rw := string(b.Reward.AppendJSON(nil))
			return f.rep(l, rw, rw+","+rw)
		}), advRejected(rule.ExtraReward)),
		advOne("block/second reward with a bad field", advBmut(func(f *advFixture, b *block.Block, l string) string {
			rw := string(b.Reward.AppendJSON(nil))
			return f.rep(l, rw, rw+`,{"type":"reward","receiver":"x","amount":1}`)
		}), advRejected(rule.ExtraReward)),
		advOne("block/reward with an unknown field", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, `{"type":"reward",`, `{"type":"reward","memo":1,`)
		}), advRejected(rule.UnknownField)),
		advOne("block/reward amount float", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`"amount":%d,"index"`, b.Reward.Amount), fmt.Sprintf(`"amount":%d.0,"index"`, b.Reward.Amount))
		}), advRejected(rule.BadNumber)),
	}
	// Decoding of the block's own fields.
	rows = append(rows,
		advOne("block/CRLF", func(f *advFixture) string { return advVb(f) + "\r\n" }, advRejected(rule.BadJSON)),
		advOne("block/index with a leading zero", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`"index":%d,"timestamp"`, b.Index), fmt.Sprintf(`"index":0%d,"timestamp"`, b.Index))
		}), advRejected(rule.BadNumber)),
		advOne("block/unknown field", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, `{"type":"block",`, `{"type":"block","nonce":1,`)
		}), advRejected(rule.UnknownField)),
		advOne("block/missing hash", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`,"hash":"%x"`, b.Hash), ``)
		}), advRejected(rule.MissingField)),
		advOne("block/missing transactions", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return l[:strings.Index(l, `,"transactions":[`)] + "}"
		}), advRejected(rule.MissingField)),
		advOne("block/transactions is an object", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return l[:strings.Index(l, `"transactions":[`)] + `"transactions":{}}`
		}), advRejected(rule.BadField)),
		advOne("block/negative proof", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`"proof":%d`, b.Proof), `"proof":-1`)
		}), advRejected(rule.BadNumber)),
		advOne("block/proof 2^64", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`"proof":%d`, b.Proof), `"proof":18446744073709551616`)
		}), advRejected(rule.BadNumber)),
		advOne("block/proof with a leading zero", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`"proof":%d`, b.Proof), fmt.Sprintf(`"proof":0%d`, b.Proof))
		}), advRejected(rule.BadNumber)),
		advOne("block/index as a string", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`"index":%d,"timestamp"`, b.Index), fmt.Sprintf(`"index":"%d","timestamp"`, b.Index))
		}), advRejected(rule.BadField)),
		advOne("block/target of 63 hex digits", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`"target":"%x"`, b.Target), fmt.Sprintf(`"target":"%x"`, b.Target)[:len(`"target":"`)+63]+`"`)
		}), advRejected(rule.BadHex)),
		advOne("block/previous_hash uppercase", advBmut(func(f *advFixture, b *block.Block, l string) string {
			h := fmt.Sprintf("%x", b.PrevHash)
			return f.rep(l, h, strings.ToUpper(h))
		}), advRejected(rule.BadHex)),
		advOne("block/duplicate key", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, `{"type":"block",`, fmt.Sprintf(`{"type":"block","index":%d,`, b.Index))
		}), advRejected(rule.DuplicateKey)),
		advOne("block/case-variant key", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, `{"type":"block",`, `{"type":"block","Proof":1,`)
		}), advRejected(rule.DuplicateKey)),
		advOne("block/duplicate key inside a transfer", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, `"fee":1000`, `"fee":1000,"fee":1000`)
		}), advRejected(rule.DuplicateKey)),
		advOne("block/unknown field inside a transfer", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, `"fee":1000`, `"fee":1000,"memo":1`)
		}), advRejected(rule.UnknownField)),
		advOne("block/a block where a transfer should be", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, `{"type":"tx",`, `{"type":"block",`)
		}), advRejected(rule.BadType)),
		advOne("block/timestamp 2^40+1", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, fmt.Sprintf(`"timestamp":%d,"miner"`, b.Timestamp), fmt.Sprintf(`"timestamp":%d,"miner"`, tx.MaxTimestamp+1))
		}), advRejected(rule.BadField)),
		advOne("block/miner of 72 bytes", advBmut(func(f *advFixture, b *block.Block, l string) string {
			return f.rep(l, `"miner":"`+b.Miner+`"`, `"miner":"`+strings.Repeat("a", 72)+`"`)
		}), advRejected(rule.BadAddress)),
		// Header against the chain.
		advOne("block/of another devnet (on its genesis)", func(f *advFixture) string {
			b := f.block(advWA.addr)
			b.PrevHash = f.other.Hash()
			b.Index, b.Reward.Index = 1, 1
			advSeal(f.p, b)
			return advBlockLine(b)
		}, advRejected(rule.UnknownParent)),
		advOne("block/unknown parent", advBlk(func(f *advFixture, b *block.Block) { b.PrevHash[0] ^= 1; advRemine(b) }), advRejected(rule.UnknownParent)),
		advOne("block/index two above the tip", advBlk(func(f *advFixture, b *block.Block) {
			b.Index++
			b.Reward.Index++
			advSeal(f.p, b)
		}), advRejected(rule.BadIndex)),
		advOne("block/index of the tip", advBlk(func(f *advFixture, b *block.Block) {
			b.Index--
			b.Reward.Index--
			advSeal(f.p, b)
		}), advRejected(rule.BadIndex)),
		advOne("block/index 0", advBlk(func(f *advFixture, b *block.Block) {
			b.Index, b.Reward.Index = 0, 0
			advSeal(f.p, b)
		}), advRejected(rule.BadIndex)),
		advOne("block/index 2^64-1", advBlk(func(f *advFixture, b *block.Block) {
			b.Index, b.Reward.Index = 1<<64-1, 1<<64-1
			advSeal(f.p, b)
		}), advRejected(rule.BadIndex)),
		advOne("block/timestamp equal to the median time past", advBlk(func(f *advFixture, b *block.Block) {
			b.Timestamp = f.n.Chain().MedianTime(f.n.Chain().Tip())
			advSeal(f.p, b)
		}), advRejected(rule.TimeTooOld)),
		advOne("block/timestamp below the median time past", advBlk(func(f *advFixture, b *block.Block) {
			b.Timestamp = f.n.Chain().MedianTime(f.n.Chain().Tip()) - 1
			advSeal(f.p, b)
		}), advRejected(rule.TimeTooOld)),
		advOne("block/timestamp 0", advBlk(func(f *advFixture, b *block.Block) {
			b.Timestamp = 0
			b.Txs = nil
			b.Reward.Amount = f.p.Subsidy(b.Index)
			advSeal(f.p, b)
		}), advRejected(rule.TimeTooOld)),
		advOne("block/timestamp one above the median time past", advBlk(func(f *advFixture, b *block.Block) {
			b.Timestamp = f.n.Chain().MedianTime(f.n.Chain().Tip()) + 1
			b.Txs = nil
			b.Reward.Amount = f.p.Subsidy(b.Index)
			advSeal(f.p, b)
		}), advAccepted),
		advOne("block/timestamp now+2h (the limit)", advBlk(func(f *advFixture, b *block.Block) {
			b.Timestamp = f.now + params.MaxFuture
			advSeal(f.p, b)
		}), advAccepted),
		advOne("block/timestamp now+2h+1", advBlk(func(f *advFixture, b *block.Block) {
			b.Timestamp = f.now + params.MaxFuture + 1
			advSeal(f.p, b)
		}), advRejected(rule.TimeTooNew)),
		advOne("block/miner of the main network", func(f *advFixture) string {
			return advBlockLine(f.block(keys.Address(keys.MainHRP, advWA.pub[:]), f.pay(advWA, 5000)))
		}, advRejected(rule.WrongNetwork)),
		advOne("block/miner with a bad checksum", func(f *advFixture) string {
			a := []byte(advWA.addr)
			a[12] = advOtherHexDigit(a[12])
			return advBlockLine(f.block(string(a)))
		}, advRejected(rule.BadAddress)),
		advOne("block/miner empty", func(f *advFixture) string { return advBlockLine(f.block("")) }, advRejected(rule.BadAddress)),
		// Size: max_block_bytes limits the block, its canonical line; blanks
		// between tokens are not the block's, so a padded copy is judged
		// as the block is, up to the reader's cap on the line.
		advOne("block/padded to max_block_bytes (the limit)", func(f *advFixture) string {
			return advPadBlock(f.t, f.block(advWA.addr, f.pay(advWA, 5000)), advBlockBytes)
		}, advAccepted),
		advOne("block/padded to max_block_bytes+1, judged as the block", func(f *advFixture) string {
			return advPadBlock(f.t, f.block(advWA.addr, f.pay(advWA, 5000)), advBlockBytes+1)
		}, advAccepted),
		advOne("block/padded with tabs to max_block_bytes+1, judged as the block", func(f *advFixture) string {
			return strings.Replace(advPadBlock(f.t, f.block(advWA.addr), advBlockBytes+1), " ", "\t", -1)
		}, advAccepted),
		advOne("block/from a peer, padded to max_block_bytes", func(f *advFixture) string {
			return "2001:db8::1 " + advPadBlock(f.t, f.block(advWA.addr), advBlockBytes)
		}, advAccepted),
		advOne("block/full of transfers, padded to max_block_bytes", func(f *advFixture) string {
			return advPadBlock(f.t, advFullBlock(f), advBlockBytes)
		}, advAccepted),
		advOne("block/full of transfers, padded to max_block_bytes+1, judged as the block", func(f *advFixture) string {
			return advPadBlock(f.t, advFullBlock(f), advBlockBytes+1)
		}, advAccepted),
		// One transfer more than full is a line past the reader's cap
		// (too-large, refused before it is decoded); the block-too-large
		// byte boundary, padded and not, is lib/consensus's
		// TestBodyRuleCodes.
		advOne("block/one transfer more than full, past the reader cap", func(f *advFixture) string {
			return advBlockLine(advOverfullBlock(f))
		}, advRejected(rule.TooLarge)),
		advOne("block/padded to the reader cap, judged as the block", func(f *advFixture) string {
			return advPadBlock(f.t, f.block(advWA.addr), advBlockBytes+wire.MaxPrefix)
		}, advAccepted),
		advOne("block/padded past the reader cap", func(f *advFixture) string {
			return advPadBlock(f.t, f.block(advWA.addr), advBlockBytes+wire.MaxPrefix+1)
		}, advRejected(rule.TooLarge)),
		// Transfers inside a block.
		advOne("block/immature reward spend", advBlkTxs(func(f *advFixture) []*tx.Tx { return []*tx.Tx{f.pay(advWB, 1)} }), advRejected(rule.ImmatureSpend)),
		advOne("block/miner spends the reward of this very block", func(f *advFixture) string {
			return advBlockLine(f.block(advWD.addr, f.tx(advWD, advWC.addr, 1, f.p.MinFee)))
		}, advRejected(rule.InsufficientFunds)),
		advOne("block/spends exactly what matures in this block", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.pay(advWA, f.confirmed(advWA.addr)-f.p.MinFee)}
		}), advAccepted),
		advOne("block/one unit into the immature rewards", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.pay(advWA, f.confirmed(advWA.addr)-f.p.MinFee+1)}
		}), advRejected(rule.ImmatureSpend)),
		advOne("block/two transfers that together overspend", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.tx(advWC, advWD.addr, 50_000, f.p.MinFee), f.tx(advWC, advWD.addr, 49_000, f.p.MinFee)}
		}), advRejected(rule.InsufficientFunds)),
		advOne("block/two transfers that together spend exactly the balance", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.tx(advWC, advWD.addr, 50_000, f.p.MinFee), f.tx(advWC, advWD.addr, 48_000, f.p.MinFee)}
		}), advAccepted),
		advOne("block/spends what an earlier transfer in it pays", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.pay(advWA, 50_000), f.tx(advWD, advWC.addr, 49_000, f.p.MinFee)}
		}), advAccepted),
		advOne("block/spends what a later transfer in it pays", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.tx(advWD, advWC.addr, 49_000, f.p.MinFee), f.pay(advWA, 50_000)}
		}), advRejected(rule.InsufficientFunds)),
		advOne("block/duplicate id inside the block", advBlkTxs(func(f *advFixture) []*tx.Tx {
			a, b := f.pay(advWA, 1), f.pay(advWA, 2)
			b.ID = a.ID
			f.resign(b, advWA)
			return []*tx.Tx{a, b}
		}), advRejected(rule.DuplicateID)),
		advOne("block/the same transfer twice", advBlkTxs(func(f *advFixture) []*tx.Tx { a := f.pay(advWA, 1); return []*tx.Tx{a, a} }), advRejected(rule.DuplicateID)),
		advOne("block/a mined transfer again", advBlkTxs(func(f *advFixture) []*tx.Tx { return []*tx.Tx{f.mined} }), advRejected(rule.DuplicateID)),
		advOne("block/another transfer with a mined id", advBlkTxs(func(f *advFixture) []*tx.Tx {
			t := f.pay(advWA, 7)
			t.ID = f.mined.ID
			return []*tx.Tx{f.resign(t, advWA)}
		}), advRejected(rule.DuplicateID)),
		advOne("block/two senders under one id", advBlkTxs(func(f *advFixture) []*tx.Tx {
			a, b := f.pay(advWA, 1), f.tx(advWC, advWD.addr, 2, f.p.MinFee)
			b.ID = a.ID
			return []*tx.Tx{a, f.resign(b, advWC)}
		}), advAccepted),
		advOne("block/another sender's transfer under a mined id", advBlkTxs(func(f *advFixture) []*tx.Tx {
			t := f.tx(advWC, advWD.addr, 7, f.p.MinFee)
			t.ID = f.mined.ID
			return []*tx.Tx{f.resign(t, advWC)}
		}), advAccepted),
		advOne("block/bad signature among several (batch verification)", advBlkTxs(func(f *advFixture) []*tx.Tx {
			a, b, c := f.pay(advWA, 1), f.pay(advWA, 2), f.pay(advWA, 3)
			b.Signature[5] ^= 4
			return []*tx.Tx{a, b, c}
		}), advRejected(rule.BadSignature)),
		advOne("block/S + L among several (batch verification)", advBlkTxs(func(f *advFixture) []*tx.Tx {
			a, b := f.pay(advWA, 1), f.pay(advWA, 2)
			b.Signature = advNonCanonicalS(b.Signature)
			return []*tx.Tx{a, b}
		}), advRejected(rule.BadSignature)),
		advOne("block/ZIP-215 small-order key among several (batch agrees: verifies)", advBlkTxs(func(f *advFixture) []*tx.Tx {
			t := f.keyTx(advSmallOrder[3].enc, advWD.addr, 5000)
			t.Signature = advTrivialSig()
			return []*tx.Tx{f.pay(advWA, 1), t}
		}), advRejected(rule.InsufficientFunds)),
		advOne("block/ZIP-215 mixed-order key among several (batch agrees: verifies)", advBlkTxs(func(f *advFixture) []*tx.Tx {
			t := f.keyTx(advMixedKey(advWA), advWD.addr, 5000)
			advSignMixed(t, advWA)
			return []*tx.Tx{f.pay(advWA, 1), t, f.pay(advWA, 2)}
		}), advRejected(rule.InsufficientFunds)),
		advOne("block/transfer with a bad hash", advBlkTxs(func(f *advFixture) []*tx.Tx { t := f.pay(advWA, 1); t.Amount = 2; return []*tx.Tx{t} }), advRejected(rule.BadHash)),
		advOne("block/transfer of another network", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.tx(advWA, keys.Address(keys.MainHRP, advWD.pub[:]), 5, f.p.MinFee)}
		}), advRejected(rule.WrongNetwork)),
		advOne("block/transfer signed for another devnet", advBlkTxs(func(f *advFixture) []*tx.Tx {
			t := f.pay(advWA, 5)
			t.Sign(f.other.Hash(), advWA.priv)
			return []*tx.Tx{t}
		}), advRejected(rule.BadHash)),
		advOne("block/transfer of zero", advBlkTxs(func(f *advFixture) []*tx.Tx { return []*tx.Tx{f.pay(advWA, 0)} }), advRejected(rule.ZeroAmount)),
		advOne("block/transfer below the minimum fee", advBlkTxs(func(f *advFixture) []*tx.Tx { return []*tx.Tx{f.tx(advWA, advWD.addr, 5, f.p.MinFee-1)} }), advRejected(rule.LowFee)),
		advOne("block/transfer amount MaxMoney", advBlkTxs(func(f *advFixture) []*tx.Tx { return []*tx.Tx{f.pay(advWA, amount.MaxMoney)} }), advRejected(rule.Overflow)),
		advOne("block/transfer sender mismatch", advBlkTxs(func(f *advFixture) []*tx.Tx {
			t := f.pay(advWA, 5)
			t.Sender = advWC.addr
			return []*tx.Tx{f.resign(t, advWA)}
		}), advRejected(rule.SenderMismatch)),
		advOne("block/transfer stamped block time + 2h (the limit)", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.txAt(advWA, advWD.addr, 5, f.p.MinFee, f.now+params.TxWindowBefore)}
		}), advAccepted),
		advOne("block/transfer stamped block time + 2h + 1", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.txAt(advWA, advWD.addr, 5, f.p.MinFee, f.now+params.TxWindowBefore+1)}
		}), advRejected(rule.BadTxTime)),
		advOne("block/transfer stamped block time - 24h (the limit)", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.txAt(advWA, advWD.addr, 5, f.p.MinFee, f.now-params.TxWindowAfter)}
		}), advAccepted),
		advOne("block/transfer stamped block time - 24h - 1", advBlkTxs(func(f *advFixture) []*tx.Tx {
			return []*tx.Tx{f.txAt(advWA, advWD.addr, 5, f.p.MinFee, f.now-params.TxWindowAfter-1)}
		}), advRejected(rule.BadTxTime)),
		func() advRow {
			var old *tx.Tx
			return advSteps("block/a transfer replayed after its id left the recent set",
				advSt(func(f *advFixture) string {
					old = f.txAt(advWA, advWD.addr, 5000, f.p.MinFee, f.now-params.TxWindowAfter)
					return advBlockLine(f.block(advWA.addr, old))
				}, advAccepted),
				advNoDry(advDryChain, advSt(func(f *advFixture) string { return advFutureBlocks(f, 7) }, advRepeat(advAccepted, 7)...)),
				advSt(func(f *advFixture) string { return advBlockLine(f.block(advWA.addr, old)) }, advRejected(rule.BadTxTime)))
		}(),
		advSteps("block/a block takes a pooled transfer's id with another transfer",
			advSt(func(f *advFixture) string { return advTxLine(f.pay(advWA, 5000)) }, advAccepted),
			advSt(func(f *advFixture) string {
				f.seq--
				return advBlockLine(f.block(advWA.addr, f.pay(advWA, 6000)))
			}, advAccepted),
			advSt(func(f *advFixture) string { f.seq--; return advTxLine(f.pay(advWA, 5000)) }, advRejected(rule.DuplicateID))),
		advOne("block/at now+2h carrying a transfer stamped now+4h (its window holds)", func(f *advFixture) string {
			b := f.block(advWA.addr, f.txAt(advWA, advWD.addr, 5, f.p.MinFee, f.now+params.MaxFuture+params.TxWindowBefore))
			b.Timestamp = f.now + params.MaxFuture
			advSeal(f.p, b)
			return advBlockLine(b)
		}, advAccepted),
		advSteps("block/a block, then a transfer spending what it paid, in one input",
			advNoDry(advDryChain, advSt(func(f *advFixture) string {
				b := f.block(advWA.addr, f.pay(advWA, 50_000))
				return advBlockLine(b) + "\n" + advTxLine(f.tx(advWD, advWC.addr, 10_000, f.p.MinFee)) + "\n"
			}, advAccepted, advAccepted))),
		advSteps("block/a transfer, then a block carrying it, in one input",
			advSt(func(f *advFixture) string {
				t := f.pay(advWA, 50_000)
				return advTxLine(t) + "\n" + advBlockLine(f.block(advWA.addr, t)) + "\n"
			}, advAccepted, advAccepted)),
		advSteps("block/a pooled transfer mined, then resent (passed over quietly)",
			advSt(func(f *advFixture) string { return advTxLine(f.pay(advWA, 5000)) }, advAccepted),
			advSt(func(f *advFixture) string {
				f.seq--
				return advBlockLine(f.block(advWA.addr, f.pay(advWA, 5000)))
			}, advAccepted),
			advSt(func(f *advFixture) string { f.seq--; return advTxLine(f.pay(advWA, 5000)) }, advKnown)),
	)
	// Forks: a side block, a side branch that would overtake the tip but
	// breaks a ledger rule, and a block on that invalid branch.
	rows = append(rows, func() advRow {
		var s1, s2 *block.Block
		return advRow{name: "block/reorg onto an invalid branch", parts: []advStep{
			advSt(func(f *advFixture) string {
				// A side block at the tip's height: C overspends there, which
				// only the ledger (on connect) can tell.
				s1 = f.blockOn(f.n.Chain().AtHeight(6), advWA.addr, f.tx(advWC, advWD.addr, 200_000, f.p.MinFee))
				return advBlockLine(s1)
			}, advAccepted),
			advNoDry(advDryReorg, advSt(func(f *advFixture) string {
				s2 = f.blockOn(f.n.Chain().Node(s1.Hash), advWA.addr)
				return advBlockLine(s2)
			}, advRejected(rule.InsufficientFunds))),
			advSt(func(f *advFixture) string {
				parent := f.n.Chain().Node(s2.Hash)
				if parent == nil {
					f.t.Fatal("setup: the invalid block is not stored")
				}
				return advBlockLine(f.blockOn(parent, advWA.addr))
			}, advRejected(rule.InvalidAncestor)),
			advSt(func(f *advFixture) string { return advBlockLine(f.block(advWA.addr)) }, advAccepted),
		}}
	}())
	rows = append(rows,
		advOne("block/side block on the tip's parent (kept, tip unchanged)", func(f *advFixture) string {
			return advBlockLine(f.blockOn(f.n.Chain().AtHeight(6), advWA.addr))
		}, advAccepted),
		advOne("block/side block on genesis", func(f *advFixture) string {
			return advBlockLine(f.blockOn(f.n.Chain().Genesis(), advWD.addr))
		}, advAccepted),
		func() advRow {
			var s1 *block.Block
			return advSteps("block/side branch overtakes the tip (reorg)",
				advSt(func(f *advFixture) string {
					s1 = f.blockOn(f.n.Chain().AtHeight(6), advWD.addr, f.tx(advWC, advWD.addr, 50_000, f.p.MinFee))
					return advBlockLine(s1)
				}, advAccepted),
				advSt(func(f *advFixture) string {
					return advBlockLine(f.blockOn(f.n.Chain().Node(s1.Hash), advWD.addr))
				}, advAccepted))
		}(),
	)
	// Retargeting network: the target must be exactly the rule's.
	retarget := func(name string, g func(f *advFixture, b *block.Block), want advOutcome) advRow {
		r := advOne("block/retarget: "+name, func(f *advFixture) string {
			b := f.block(advWA.addr)
			lim := f.p.InitialTarget
			if b.Target == lim {
				f.t.Fatal("setup: the retarget rule gives the limit; stamp the base faster")
			}
			g(f, b)
			return advBlockLine(b)
		}, want)
		r.retarget = true
		return r
	}
	rows = append(rows,
		retarget("the rule's target", func(f *advFixture, b *block.Block) {}, advAccepted),
		retarget("one unit easier than the rule's", func(f *advFixture, b *block.Block) { setTarget(b, advAddTarget(b.Target, 1)) }, advRejected(rule.BadTarget)),
		retarget("one unit harder than the rule's", func(f *advFixture, b *block.Block) { setTarget(b, advAddTarget(b.Target, -1)) }, advRejected(rule.BadTarget)),
		retarget("the limit", func(f *advFixture, b *block.Block) { setTarget(b, f.p.InitialTarget) }, advRejected(rule.BadTarget)),
		retarget("the parent's target", func(f *advFixture, b *block.Block) { setTarget(b, f.n.Chain().Tip().Target) }, advRejected(rule.BadTarget)),
	)
	return rows
}

// advFullBlock is a block on the tip holding as many transfers as fit in
// max_block_bytes.
func advFullBlock(f *advFixture) *block.Block {
	var txs []*tx.Tx
	for {
		t := f.pay(advWA, uint64(len(txs)+1))
		b := f.block(advWA.addr, append(txs, t)...)
		if len(advBlockLine(b)) > advBlockBytes {
			f.seq--
			return f.block(advWA.addr, txs...)
		}
		txs = append(txs, t)
	}
}

// advOverfullBlock is advFullBlock with one more transfer: its canonical
// line is above the limit.
func advOverfullBlock(f *advFixture) *block.Block {
	full := advFullBlock(f)
	return f.block(advWA.addr, append(full.Txs, f.pay(advWA, uint64(len(full.Txs)+1)))...)
}

func advAddTarget(t [32]byte, d int64) [32]byte {
	x := new(big.Int).SetBytes(t[:])
	x.Add(x, big.NewInt(d))
	var out [32]byte
	if x.BitLen() > 256 {
		for i := range out {
			out[i] = 0xff
		}
		return out
	}
	x.FillBytes(out[:])
	return out
}

func advShrTarget(t [32]byte) [32]byte {
	x := new(big.Int).SetBytes(t[:])
	x.Rsh(x, 1)
	var out [32]byte
	x.FillBytes(out[:])
	return out
}
