//go:build !cnj_noindex

package node

// keepIndex says that writes bring the transfer index along. Built with
// the tag cnj_noindex, they do not: for BenchmarkSyncLoopback to measure
// what the index costs a sync, against the same sync without it.
const keepIndex = true
