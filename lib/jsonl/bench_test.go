package jsonl

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// BenchmarkParseTx parses a typical transfer line (about 540 bytes).
func BenchmarkParseTx(b *testing.B) {
	benchParse(b, []byte(txLine))
}

// BenchmarkParseBlock parses a 1 MB block-like line: a header, a reward and
// as many transfers as fit.
func BenchmarkParseBlock(b *testing.B) {
	n := (1_000_000 - len(blockLine(0))) / (len(txLine) + 1)
	benchParse(b, []byte(blockLine(n)))
}

func benchParse(b *testing.B, line []byte) {
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTx is Parse plus the schema access lib/tx does.
func BenchmarkDecodeTx(b *testing.B) {
	line := []byte(txLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := Parse(line)
		if err != nil {
			b.Fatal(err)
		}
		if err := decodeTx(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader splits a stream of transfer lines.
func BenchmarkReader(b *testing.B) {
	in := []byte(strings.Repeat(txLine+"\n", 1000))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(in), 1024)
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// The stdlib benchmarks are references for reading the figures above on a
// given machine: encoding/json checking the same tx line, and decoding it
// (without any of the strict rules) into a map.
func BenchmarkStdlibValidTx(b *testing.B) {
	line := []byte(txLine)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if !json.Valid(line) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkStdlibUnmarshalTx(b *testing.B) {
	line := []byte(txLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			b.Fatal(err)
		}
	}
}
