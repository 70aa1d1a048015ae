//go:build amd64 && !purego

package midstate

// useAsm selects the SHA-NI path. Tests flip it to compare both paths.
var useAsm = hasAsm

// hasAsm reports whether this CPU runs the assembly: SHA256RNDS2 and friends
// (SHA), PINSRD and PEXTRD (SSE4.1), PALIGNR (SSSE3).
//
// golang.org/x/sys/cpu at the version this module pins (v0.50.0) has no
// SHA flag, so this asks CPUID itself.
var hasAsm = detect()

func detect() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		ssse3 = 1 << 9  // CPUID.1:ECX
		sse41 = 1 << 19 // CPUID.1:ECX
		sha   = 1 << 29 // CPUID.(7,0):EBX
	)
	return ecx1&ssse3 != 0 && ecx1&sse41 != 0 && ebx7&sha != 0
}

// cpuid executes CPUID with the given leaf and subleaf.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// hashAsm compresses the final block for proof from the midstate in c and
// stores the digest in out.
//
//go:noescape
func hashAsm(c *consts, proof uint64, out *[32]byte)

// bswap32 is the PSHUFB mask that byte-swaps each 32-bit lane.
var bswap32 = [16]byte{3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12}

// searchAsm returns the smallest i < n for which the leading word of the
// digest of proof start+i is <= t0, or n. It tries two proofs at a time.
//
//go:noescape
func searchAsm(c *consts, start, n uint64, t0 uint32) uint64
