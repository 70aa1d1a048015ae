//go:build cnj_noindex

package node

// keepIndex: see keepindex.go.
const keepIndex = false
