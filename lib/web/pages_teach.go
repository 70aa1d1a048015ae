package web

import (
	"crypto/sha256"
	"html"
	"html/template"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coniunctum/cnj/internal/explore"
	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/consensus"
	"github.com/coniunctum/cnj/lib/node"
	"github.com/coniunctum/cnj/lib/pow"
)

// Pages that teach: a block page shows its header byte by byte and the
// proof-of-work check, a transfer page its merkle path, /retarget the
// computation of the next target; each with the shell commands that
// recompute it from what cnj-chain --remote prints (jq, od, xxd,
// sha256sum and sort beside it). The testscripts run those commands as
// the pages print them.

var lessons = template.Must(pages.New("lessons").Parse(`
{{define "header"}}<h2 id="header">The header, byte by byte</h2>
<p>The block's hash is SHA-256 of these 200 bytes (cnj-format(5)); the transactions enter through the merkle root.</p>
<table><tr><th>Bytes</th><th>Field</th><th>Hex</th><th>Value</th></tr>
{{range .Fields}}<tr><td>{{.From}}{{if ne .From .To}}–{{.To}}{{end}}</td><td>{{.Name}}</td><td class="h">{{.Hex}}</td><td>{{.Value}}</td></tr>
{{end}}</table>
<h2 id="pow">Proof of work</h2>
<table>
<tr><th>SHA-256 of the header</th><td class="h">{{.Hash}}</td></tr>
<tr><th>Target</th><td class="h">{{.Target}}</td></tr>
<tr><th>Below the target</th><td>{{if .Meets}}<span class="yes">below the target: yes</span>{{else}}below the target: no{{end}}: read as 256-bit numbers, the hash is at most the target{{if .Leading}} (it starts with {{.Leading}} zero bits){{end}}</td></tr>
<tr><th>The block's hash</th><td>{{if .Same}}the same as the hash above: yes{{else}}differs from the hash above{{end}}</td></tr>
</table>
<p>The same check in a shell, from the block line the node gives (cnj-chain --remote prints it):</p>
<pre id="pow-sh">{{.Pipeline}}</pre>
{{end}}

{{define "merkle"}}<h2 id="merkle">In the block's merkle root</h2>
<p>Leaf {{.Pos}} of {{.Count}} of block {{.Height}}: its leaf is SHA-256 of 0x00 and the {{.Kind}}'s canonical bytes (cnj-format(5)); each step up hashes 0x01 and the two children, left then right (RFC 9162). {{if .Steps}}The path to the root has {{plural (len .Steps) "sibling"}}:{{else}}It is the only leaf: it is the root.{{end}}</p>
{{.SVG}}
<table><tr><th>Step</th><th>Sibling</th><th>Side</th><th>Gives</th></tr>
<tr><td>leaf</td><td></td><td></td><td class="h">{{.Leaf}}</td></tr>
{{range $i, $s := .Steps}}<tr><td>{{$s.N}}</td><td class="h">{{$s.Sibling}}</td><td>{{if $s.Left}}left{{else}}right{{end}}</td><td class="h">{{$s.Gives}}</td></tr>
{{end}}<tr><th>Merkle root</th><td colspan="3" class="h">{{.Root}} {{if .Same}}<span class="yes">the block's merkle root: yes</span>{{end}}</td></tr>
</table>
<p>The same check in a shell, from what cnj-chain --remote prints:</p>
<pre id="merkle-sh">{{.Pipeline}}</pre>
{{end}}

{{define "retarget"}}{{template "top" .}}{{with .D}}
<h1>How the next target is computed</h1>
<p>A block is valid when its hash, read as a 256-bit number, is at most its target; the lower the target, the more hashes it takes on average (2<sup>256</sup>/(target+1)). Every block's target is fixed by the blocks before it: a block carrying another target is refused (<code>bad-target</code>). Difficulty, as the pages show it, is the network's highest target over the block's.</p>
<p>With S the spacing ({{.S}} s on {{$.Net.Name}}), W the window ({{.W}} blocks), L the highest target (initial_target), T<sub>i</sub> and t<sub>i</sub> block i's target and timestamp, and MTP(i) the median of the timestamps of blocks max(0, i−10) to i, the target of block h is:</p>
<ul>
<li>if W = 0: the parent's target, T<sub>h−1</sub>, bounded into [1, L];</li>
<li>else if h = 1: L;</li>
<li>otherwise, with n = min(W, h−1):
<pre>avg  = floor((T[h−n] + … + T[h−1]) / n)
span = MTP(h−1) − MTP(h−1−n), clamped into [max(1, floor(n·S/4)), 4·n·S]
raw  = floor(avg · (n·S + span) / (2·n·S))
T[h] = raw clamped into [floor(8·T[h−1]/9), floor(9·T[h−1]/8)], then into [1, L]</pre>
</li></ul>
<p>In words: the average target of the last n blocks, scaled by how long they took against how long they should have taken, with only half of the difference applied, and never more than 12.5% easier or 11.1% harder than the parent's. The times are medians of 11 timestamps, so that no single block's clock moves them. All arithmetic is on whole numbers.</p>
<h2 id="next">Block {{.H}}, the next one</h2>
<table>
{{if eq .Case 0}}<tr><th>Rule</th><td>h = 1: the highest target, L</td></tr>
{{else if eq .Case 1}}<tr><th>Rule</th><td>W = 0: the parent's target</td></tr>
{{else}}<tr><th>n</th><td>{{.Steps.N}} blocks, {{.FirstAvg}} to {{.Parent}}</td></tr>
<tr><th>avg</th><td class="h">{{.Avg}}</td></tr>
<tr><th>MTP({{.Parent}})</th><td>{{.Steps.MTPLast}} ({{time .Steps.MTPLast}})</td></tr>
<tr><th>MTP({{.Before}})</th><td>{{.Steps.MTPFirst}} ({{time .Steps.MTPFirst}})</td></tr>
<tr><th>span</th><td>{{.SpanRaw}} s, clamped into [{{.SpanLo}}, {{.SpanHi}}]: {{.Steps.Span}} s, against n·S = {{.Steps.Expected}} s</td></tr>
<tr><th>raw</th><td class="h">{{.Raw}}</td></tr>
<tr><th>clamps</th><td class="h">[{{.Down}}, {{.Up}}]</td></tr>
{{end}}<tr><th>T<sub>{{.H}}</sub></th><td class="h">{{.Target}}</td></tr>
<tr><th>Difficulty</th><td>{{diff .Difficulty}}, the parent's {{diff .ParentDifficulty}}</td></tr>
</table>
<p>Numbers are 256-bit targets in hex, as in the blocks. The rule is package pow's (lib/pow/doc.go), which every node runs.</p>
{{end}}{{template "bottom" .}}{{end}}
`))

// headerField is a row of the annotated header.
type headerField struct {
	From, To  int
	Name, Hex string
	Value     string
}

// headerLesson is what a block page shows of its header and proof.
type headerLesson struct {
	Fields       []headerField
	Hash, Target string
	Meets, Same  bool
	Leading      int
	Pipeline     string
}

// remoteHost is the node as cnj-chain --remote should name it in a
// page's commands: the request's Host when it is a plain host (with the
// port it was asked on), else a placeholder.
func remoteHost(r *http.Request) string {
	h := r.Host
	if !validHost(h) {
		return "HOST:56230"
	}
	if strings.HasSuffix(h, "]") || !strings.Contains(h, ":") {
		return h + ":80"
	}
	return h
}

func (s *Server) headerLesson(r *http.Request, b *block.Block) *headerLesson {
	hb := b.Bytes()
	l := &headerLesson{}
	add := func(from, to int, name, value string) {
		l.Fields = append(l.Fields, headerField{from, to - 1, name, hexOf(hb[from:to]), value})
	}
	m := len(b.Miner)
	add(0, 8, "magic", `"CNJ-BK-1": a block header, version 1`)
	add(8, 16, "index", strconv.FormatUint(b.Index, 10)+" (the height)")
	add(16, 24, "timestamp", strconv.FormatInt(b.Timestamp, 10)+" = "+time.Unix(b.Timestamp, 0).UTC().Format("2006-01-02 15:04:05 UTC"))
	add(24, 56, "previous hash", "the parent's hash: the link of the chain")
	add(56, 88, "target", "the hash must be at most this number")
	add(88, 120, "merkle root", "commits to every transaction of the block")
	add(120, 121, "miner length", strconv.Itoa(m)+" bytes")
	add(121, 121+m, "miner", b.Miner)
	if 121+m < block.PrefixSize {
		add(121+m, block.PrefixSize, "padding", strconv.Itoa(block.PrefixSize-121-m)+" zero bytes: the fields fill three SHA-256 blocks")
	}
	add(block.PrefixSize, block.HeaderSize, "proof", strconv.FormatUint(b.Proof, 10)+": the number the miner counted up")
	sum := sha256.Sum256(hb[:])
	l.Hash, l.Target = hexOf(sum[:]), hexOf(b.Target[:])
	l.Meets, l.Same = pow.Meets(&sum, &b.Target), sum == b.Hash
	l.Leading = 256 - new(big.Int).SetBytes(sum[:]).BitLen()
	l.Pipeline = `cnj-chain --remote ` + remoteHost(r) + ` block ` + hexOf(b.Hash[:]) + ` >block.json
jq -r '.index, .timestamp, .previous_hash, .target, .merkle_root, .miner, .proof' block.json | {
  read -r index; read -r time; read -r prev; read -r target; read -r root; read -r miner; read -r proof
  printf 434e4a2d424b2d31%016x%016x%s%s%s%02x "$index" "$time" "$prev" "$target" "$root" ${#miner}
  printf %s "$miner" | od -An -v -tx1
  head -c $((71 - ${#miner})) /dev/zero | od -An -v -tx1
  printf %016x "$proof"
} | tr -d ' \n' | xxd -r -p | sha256sum | cut -c1-64 >hash
cat hash
printf '%s\n%s\n' "$(cat hash)" "$(jq -r .target block.json)" | LC_ALL=C sort -C && echo 'below the target: yes'`
	return l
}

// merkleStep is a level of a merkle path as a page shows it.
type merkleStep struct {
	N              int
	Sibling, Gives string
	Left           bool
}

// merkleLesson is what a transaction page shows of its merkle path.
type merkleLesson struct {
	Pos, Count int
	Height     uint64
	Kind       string
	Leaf, Root string
	Same       bool
	Steps      []merkleStep
	SVG        template.HTML
	Pipeline   string
}

func (s *Server) merkleLesson(r *http.Request, n *node.Node, f *explore.Found, b *block.Block) *merkleLesson {
	leaves := block.Leaves(n.Params().Hash(), &b.Reward, b.Txs)
	l := &merkleLesson{Pos: f.Pos, Count: len(leaves), Height: f.Block.Height, Kind: "transfer"}
	if f.Tx == nil {
		l.Kind = "reward"
	}
	h := leaves[f.Pos]
	l.Leaf = hexOf(h[:])
	for i, st := range block.MerklePath(leaves, f.Pos) {
		if st.Left {
			h = block.MerkleParent(st.Sibling, h)
		} else {
			h = block.MerkleParent(h, st.Sibling)
		}
		l.Steps = append(l.Steps, merkleStep{N: i + 1, Sibling: hexOf(st.Sibling[:]), Gives: hexOf(h[:]), Left: st.Left})
	}
	l.Root, l.Same = hexOf(h[:]), h == b.MerkleRoot
	l.SVG = merkleSVG(l)

	host := remoteHost(r)
	var p strings.Builder
	p.WriteString("cnj-chain --remote " + host + " tx " + hexOf(f.TxID()) + " >tx.json\n")
	if f.Tx != nil {
		g := n.Params().Hash()
		p.WriteString(`jq -r '.tx | .id, .pubkey, .sender, .receiver, .amount, .fee, .timestamp, .signature' tx.json | {
  read -r id; read -r key; read -r from; read -r to; read -r amount; read -r fee; read -r time; read -r sig
  printf 00434e4a2d54582d31%s%s%s%02x ` + hexOf(g[:]) + ` "$id" "$key" ${#from}
  printf %s "$from" | od -An -v -tx1
  printf %02x ${#to}
  printf %s "$to" | od -An -v -tx1
  printf %016x%016x%016x%s "$amount" "$fee" "$time" "$sig"
} | tr -d ' \n' | xxd -r -p | sha256sum | cut -c1-64 >leaf
`)
	} else {
		p.WriteString(`jq -r '.tx | .index, .receiver, .amount' tx.json | {
  read -r index; read -r to; read -r amount
  printf 00434e4a2d52572d31%016x%02x "$index" ${#to}
  printf %s "$to" | od -An -v -tx1
  printf %016x "$amount"
} | tr -d ' \n' | xxd -r -p | sha256sum | cut -c1-64 >leaf
`)
	}
	p.WriteString("parent() { printf 01%s%s \"$1\" \"$2\" | xxd -r -p | sha256sum | cut -c1-64; }\nh=$(cat leaf)\n")
	for _, st := range l.Steps {
		if st.Left {
			p.WriteString("h=$(parent " + st.Sibling + " \"$h\")\n")
		} else {
			p.WriteString("h=$(parent \"$h\" " + st.Sibling + ")\n")
		}
	}
	p.WriteString("echo \"$h\"\n[ \"$h\" = \"$(cnj-chain --remote " + host + " block " + hexOf(f.Block.Hash[:]) +
		" | jq -r .merkle_root)\" ] && echo 'the merkle root of block " + strconv.FormatUint(f.Block.Height, 10) + ": yes'")
	l.Pipeline = p.String()
	return l
}

// merkleSVG draws the path as a small tree, the leaf at the bottom and
// the root at the top: at each level the node so far and its sibling, in
// their order, joined to their parent above.
func merkleSVG(l *merkleLesson) template.HTML {
	const boxW, boxH, rowH, left, right = 150, 26, 52, 10, 200
	rows := len(l.Steps) + 1
	height := rows*rowH + 10
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360 ` + itoa(height) + `" style="max-width:40em" role="img" aria-label="merkle path"><title>The merkle path from leaf ` +
		itoa(l.Pos) + ` to the root</title>`)
	// y of level i (0: the leaf), from the bottom.
	y := func(i int) int { return height - 10 - boxH - i*rowH }
	box := func(x, yy int, label, h string, mine bool) {
		fill := "#fff"
		if mine {
			fill = "#dbe8f7"
		}
		b.WriteString(`<rect x="` + itoa(x) + `" y="` + itoa(yy) + `" width="` + itoa(boxW) + `" height="` + itoa(boxH) + `" rx="4" fill="` + fill + `" stroke="#4a7fc1"/>`)
		b.WriteString(`<text x="` + itoa(x+6) + `" y="` + itoa(yy+11) + `">` + html.EscapeString(label) + `</text>`)
		b.WriteString(`<text x="` + itoa(x+6) + `" y="` + itoa(yy+22) + `" font-family="monospace">` + html.EscapeString(h[:16]) + `…</text>`)
	}
	line := func(x1, y1, x2, y2 int) {
		b.WriteString(`<path d="M` + itoa(x1) + ` ` + itoa(y1) + `L` + itoa(x2) + ` ` + itoa(y2) + `" stroke="#999"/>`)
	}
	// The node so far sits left unless its sibling is the left child.
	col := func(i int) int {
		if i < len(l.Steps) && l.Steps[i].Left {
			return right
		}
		if i == len(l.Steps) {
			return (left + right) / 2
		}
		return left
	}
	cur := l.Leaf
	for i := 0; i <= len(l.Steps); i++ {
		label := "leaf " + itoa(l.Pos)
		if i > 0 {
			label = "level " + itoa(i)
			cur = l.Steps[i-1].Gives
		}
		if i == len(l.Steps) {
			label = "merkle root"
		}
		x := col(i)
		box(x, y(i), label, cur, true)
		if i < len(l.Steps) {
			sx := left + right - x
			box(sx, y(i), "sibling", l.Steps[i].Sibling, false)
			px := col(i + 1)
			line(x+boxW/2, y(i), px+boxW/2, y(i+1)+boxH)
			line(sx+boxW/2, y(i), px+boxW/2, y(i+1)+boxH)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(`<figure class="tree">` + b.String() + `</figure>`)
}

// pageRetarget explains the retarget rule and works it through for the
// block after the tip.
func (s *Server) pageRetarget(w http.ResponseWriter, r *http.Request) {
	n := s.st.rlock()
	if n == nil {
		s.pageError(w, r, errUnavailable)
		return
	}
	c := n.Chain()
	tip := c.Tip()
	p := n.Params()
	ctx := c.Context(tip, time.Now().Unix())
	steps := pow.Explain(consensus.PowParams(p), ctx.Branch)
	s.st.runlock()
	data := retargetPage(consensus.PowParams(p), tip.Height, s.limit, &tip.Target, steps)
	s.render(w, r, http.StatusOK, "retarget", "Difficulty", 0, data)
}

// retargetData is the data of the retarget page.
type retargetData struct {
	S                  int64
	W                  uint64
	H, Parent          uint64
	FirstAvg, Before   uint64
	Case               int
	Steps              pow.Steps
	Avg, Raw, Up, Down string
	SpanRaw            int64
	SpanLo, SpanHi     int64
	Target             string
	Difficulty         float64
	ParentDifficulty   float64
}

// retargetPage lays out the steps of the target of the block after
// height parent, whose target is parentTarget.
func retargetPage(p pow.Params, parent uint64, limit [32]byte, parentTarget *[32]byte, steps pow.Steps) *retargetData {
	bigHex := func(x *big.Int) string {
		if x == nil {
			return ""
		}
		if x.Sign() >= 0 && x.BitLen() <= 256 {
			var t [32]byte
			x.FillBytes(t[:])
			return hexOf(t[:])
		}
		return x.Text(16)
	}
	d := &retargetData{S: max(p.Spacing, 1), W: p.Window, H: parent + 1, Parent: parent, Case: int(steps.Case), Steps: steps,
		Avg: bigHex(steps.Avg), Raw: bigHex(steps.Raw), Up: bigHex(steps.Up), Down: bigHex(steps.Down),
		Target: hexOf(steps.Target[:]), Difficulty: difficulty(&limit, &steps.Target), ParentDifficulty: difficulty(&limit, parentTarget)}
	if steps.Case == pow.CaseAverage {
		d.FirstAvg = d.H - steps.N
		d.Before = d.Parent - steps.N
		d.SpanRaw = steps.MTPLast - steps.MTPFirst
		e := steps.Expected.Int64()
		d.SpanLo, d.SpanHi = max(e/4, 1), 4*e
	}
	return d
}
