// Package testchain builds the chains that tests and benchmarks share: a
// devnet chain directory of many blocks and transfers, mined fast (Build,
// Forge, Prove), and a fake peer (Peer) that serves such a chain through
// the paths of cnj-serve that cnj-sync reads, with a hook to make any
// answer lie.
//
// It is for tests only: nothing outside _test files and benchmarks
// imports it.
package testchain
