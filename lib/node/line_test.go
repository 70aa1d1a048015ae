package node

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/coniunctum/cnj/lib/block"
	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/rule"
)

// TestLine: Line returns each block's line byte for byte as stored, in a
// plain segment and in a sealed one; genesis has none; a line cut short
// under an open directory is a corrupt error naming the segment.
func TestLine(t *testing.T) {
	smallSegments(t, 3<<10)
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	defer d.Close()
	var lines [][]byte
	for range 6 {
		err := d.Write(func(w *Writer) error {
			b, line := g.next(d.Chain(), 2)
			lines = append(lines, bytes.Clone(line))
			_, err := w.AddBlock(b, line, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if sealed, _ := filepath.Glob(filepath.Join(dir, "blocks", "*.zst")); len(sealed) == 0 {
		t.Fatal("no sealed segment: the test reads none")
	}
	c := d.Chain()
	for h := uint64(1); h <= 6; h++ {
		got, err := d.Line(c.AtHeight(h))
		if err != nil {
			t.Fatalf("Line(%d): %v", h, err)
		}
		if !bytes.Equal(got, lines[h-1]) {
			t.Fatalf("Line(%d) = %.60q, stored %.60q", h, got, lines[h-1])
		}
	}
	if _, err := d.Line(c.Genesis()); err == nil {
		t.Fatal("Line(genesis) gave a line")
	}
	tip := c.Tip()
	truncate(t, filepath.Join(dir, chaindir.SegmentName(tip.Loc.Segment)), int64(tip.Loc.Offset+uint64(tip.Loc.Length)))
	if _, err := d.Line(tip); rule.CodeOf(err) != rule.Corrupt {
		t.Fatalf("Line of a line without its newline = %v, want a corrupt error", err)
	}
}

// TestPaddedLineStored: a block line with blanks between its tokens is the
// same block; the directory keeps, and Line passes on, its canonical line,
// so that what is stored and served never holds a peer's padding.
func TestPaddedLineStored(t *testing.T) {
	dir, p := newDir(t)
	g := newGen(p)
	d := mustOpen(t, dir)
	defer d.Close()
	var canonical []byte
	err := d.Write(func(w *Writer) error {
		b, line := g.next(d.Chain(), 0)
		canonical = bytes.Clone(line)
		padded := bytes.ReplaceAll(line, []byte(","), []byte(" ,\t"))
		parsed, err := block.Parse(padded)
		if err != nil {
			return err
		}
		if parsed.Hash != b.Hash {
			t.Fatal("the padded line is another block")
		}
		_, err = w.AddBlock(parsed, padded, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Line(d.Chain().Tip())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, canonical) {
		t.Fatalf("stored %.80q, want the canonical line %.80q", got, canonical)
	}
}
