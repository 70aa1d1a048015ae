//go:build !amd64 || purego

package midstate

// useAsm is always false here: there is no assembly for this build.
var useAsm = false

const hasAsm = false

func hashAsm(c *consts, proof uint64, out *[32]byte) {
	panic("midstate: no assembly in this build")
}

func searchAsm(c *consts, start, n uint64, t0 uint32) uint64 {
	panic("midstate: no assembly in this build")
}
