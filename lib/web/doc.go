// Package web is cnj-serve's HTTP application (DESIGN.md, "Network": the web
// app on port 56230): the JSON API on Esplora's paths, the chain download
// for cnj-sync, Prometheus metrics, HTML explorer pages, and the
// installer with the toolkit it installs.
//
// # What it serves
//
// The JSON API on Esplora's paths and in Esplora's JSON (api.go,
// esplora.go, fees.go; cnj-serve(1) lists every answer): blocks
// (/api/blocks, /api/block/HASH and its status, txids, txs, txid,
// header and raw line), transactions (/api/tx/TXID, its status and
// merkle proof; cnj's /api/tx/ID/fate, what became of a transfer the node
// was given, with what its pool did with it), addresses (/api/address/ADDR, its txs, txs/chain and
// txs/mempool), the mempool (with cnj's batch fetch of pooled transfers,
// /api/mempool/txs?ids=, poolapi.go) and fee estimates, mempool.space's
// /api/v1/ paths for the same answers and its projection of the pool
// into the next blocks (/api/v1/fees/mempool-blocks), and cnj's own /api/tip,
// /api/genesis, /api/peers, /api/block-height/H and the chain download
// /api/chain; /metrics in the Prometheus text format; HTML explorer
// pages (explorer.go, pages_net.go, pages_teach.go: every one names the
// network; charts are inline SVG drawn by svg.go; no script; a path that
// no route takes is an HTML 404 outside /api/, JSON under it);
// /install.sh and what it installs (/bin/NAME, /man/NAME.N) with
// /SHA256SUMS over them (toolkit.go, install.go). cnj's fields come
// after Esplora's in its objects, never instead of them.
//
// Lookups by txid and by address read the transfer index (package
// txindex, through explore.Lookup) up to where it agrees with the chain
// and the blocks above it, at most Config.maxLag bytes of them; they take
// no turns. Text answers have no newline, as Esplora's; JSON answers one.
// An error is {"error":MSG,"code":CODE} with 400 (malformed input:
// bad-hex, bad-number, bad-path, bad-request, or the address rule codes
// bad-address and wrong-network), 404 (not-found), 405
// (method-not-allowed, with Allow: GET, HEAD), 414 (uri-too-long), 429
// (rate-limited, with Retry-After), 500 (internal) or 503 (unavailable:
// the chain directory could not be read; index-behind, with Retry-After:
// the transfer index lags more than Config.maxLag; busy, with
// Retry-After: no turn to download the chain, see scans.go, or a writer
// kept the index too long).
//
// # What it guards
//
// Only GET and HEAD are served. The http.Server that Server.HTTPServer
// returns has read-header, read, write and idle timeouts and a header size
// limit (net/http answers 431 beyond it); Server.Serve also closes
// connections beyond Config.MaxConns, or beyond Config.MaxConnsPerIP from
// one client (each field left zero takes the Default constant of its
// name). Handler refuses request targets longer than Config.MaxURLBytes
// (414), paths that are not clean or hold anything but letters, digits
// and "-._~/" (400), and more than the configured rate per client IP (429;
// an IPv6 client counts per /64). A panic in a handler is answered with
// 500 (or ends a response already under way) and the server goes on.
//
// No URL path is ever joined to a file path. The chain directory is read
// through package node (one open node, refreshed at most every
// Config.RefreshEvery, under a read-write lock: queries share it, a
// refresh has it alone, and no lock is held while writing to a client),
// the transfer index through a txindex.Reader (polled at each refresh,
// so that it lets go of the index when a writer asks), and its other files
// through package chaindir: the peers file, rejects.log (its one tail) and
// the relay's stats files, the last two opened through an os.Root on the
// chain directory under their own names (the stats files under the names
// of the directory's listing that match relay-(listen|send)-PID.json). /bin/NAME
// serves NAME only when it matches cnj-[a-z0-9-]+ and is a regular,
// executable file directly in the binaries directory, opened through an
// os.Root on that directory, so nothing outside it (key files, the chain,
// ../, symbolic links leaving it) is reachable; /man/NAME.N likewise serves
// only a regular file NAME.N (NAME as above, N a digit 1 to 9) in the man
// directory's manN/ or directly in it, through an os.Root on it.
//
// # The installer
//
// /install.sh is a POSIX sh script naming this node as the source and
// listing the binaries and pages it serves; it downloads them into a
// staging directory, checks each against /SHA256SUMS, and only then
// renames them into place. /SHA256SUMS hashes each file once and again
// only when its size or modification time changes, so a request costs a
// stat a file. Both come from this node: they catch a download broken on
// its way, not a node that lies.
//
// # What it does not do
//
// It never writes to the chain directory, accepts no transactions (they go
// through cnj-relay), and never prints or logs unless handed a logger.
//
// # Relay traffic
//
// /metrics reports the relay's traffic from the stats files that each
// cnj-relay listen and send process writes in the chain directory
// (relay-listen-PID.json and relay-send-PID.json, cnj-format(5)),
// labelled direction="in" and "out": the files are found by listing the
// directory (chaindir.ListRelayStats), and the counters and gauges of the fresh
// files of a direction are summed. cnj_relay_running is the number of
// fresh files of the direction, always reported (0: none runs); the other
// relay metrics of a direction are reported only while one runs. A file
// more than Config.RelayStale away from now is that of a relay that was killed:
// it is left out entirely, counters too, until a relay removes it. A
// relay that stops removes its file, and its counts leave the sums; a
// restarted relay counts from 0. Prometheus takes either as a counter
// reset. At most 64 files of a direction are read, the newest by
// modification time, and more are logged. A file that cannot be read
// (not a regular file, over 64 KiB, not one JSON object with a time and
// the pid of its name, a negative or fractional count) is logged and left
// out, and the rest of /metrics is answered.
package web
