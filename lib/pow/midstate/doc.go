// Package midstate is the miner's inner loop: it hashes a block header over
// and over, changing only the proof, as fast as one core allows.
//
// A header (DESIGN.md "Blocks", cnj-format(5)) is a 192-byte prefix, three
// SHA-256 blocks, followed by an 8-byte big-endian proof, and its hash is
// SHA-256 of those 200 bytes. The prefix is the same for every try, so New
// compresses it once into a State, the midstate. Each try then needs one
// compression of a single final block,
//
//	proof (8 bytes, big-endian) || 0x80 || zeros || bit length (8 bytes, big-endian)
//
// in which only the first two words change. Hash returns the digest for one
// proof; Search walks a range of proofs and returns the first whose hash, read
// as a big-endian 256-bit number, is <= the target (equality meets it, as the
// consensus rule says). Search never wraps past 2^64-1 and allocates nothing.
//
// Layout and why. On amd64 CPUs with the SHA extensions the final block is
// compressed by assembly (midstate_amd64.s) written around SHA256RNDS2:
//   - the W+K sums of rounds 4..15 are constants computed once per call, and
//     the message schedule leaves out the terms that the zero words make
//     vanish;
//   - one compression is a chain of 32 dependent SHA256RNDS2, so the search
//     loop runs two proofs side by side to keep the SHA unit busy, which is
//     why it beats plain sha256.Sum256 on the same core;
//   - the loop stays in assembly and checks only the leading digest word
//     against the target's; a try whose leading word is <= the target's is
//     handed back and settled in Go with the full 256-bit compare, so a
//     rejected tie costs one extra Hash and nothing else;
//   - the assembly runs at most 1<<14 tries per call, because assembly cannot
//     be preempted and a long call would stall the garbage collector.
//
// Everywhere else, and with the build tag purego, a pure-Go compression does
// the same work more slowly. CPU support is read with CPUID, since the
// golang.org/x/sys/cpu version this module pins has no SHA flag. Tests run
// every case on both paths and compare the assembly with the Go compression
// directly.
//
// It does not build headers, parse or compare targets beyond the byte
// compare, pick the proof range, or spread work over cores: those belong to
// lib/block, lib/pow and the miner command. A prefix whose length is not a
// multiple of 64 is a programming error and panics; there are no other
// errors.
package midstate
