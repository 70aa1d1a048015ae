package explore

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

const (
	remoteHash = "00000e5a0000000000000000000000000000000000000000000000000000abcd"
	remoteLine = `{"type":"block","index":7,"hash":"` + remoteHash + `"}`
)

// remoteNode serves block 7 by height and hash, 404 {"error","code"}
// otherwise, and counts requests.
func remoteNode(t *testing.T) (*Remote, *atomic.Int64) {
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		switch r.URL.Path {
		case "/api/block-height/7":
			io.WriteString(w, remoteHash+"\n")
		case "/api/block/" + remoteHash + "/raw":
			io.WriteString(w, remoteLine+"\n")
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"no block at height 8","code":"not-found"}`+"\n")
		}
	}))
	t.Cleanup(srv.Close)
	r, err := NewRemote(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	return r, &asked
}

// TestRemoteBlock: a block by index is its hash's line; by hash, the line.
func TestRemoteBlock(t *testing.T) {
	r, asked := remoteNode(t)
	for _, ref := range []string{"7", remoteHash} {
		var out strings.Builder
		if err := r.Block(ref, &out); err != nil || out.String() != remoteLine+"\n" {
			t.Fatalf("Block(%s) = %q, %v", ref, out.String(), err)
		}
	}
	if asked.Load() != 3 {
		t.Fatalf("%d requests, want 3", asked.Load())
	}
}

// TestRemoteErrors: one line naming the source node; a malformed
// reference is refused before the node is asked.
func TestRemoteErrors(t *testing.T) {
	r, asked := remoteNode(t)
	var out strings.Builder
	err := r.Block("8", &out)
	if want := "source node " + r.addr + ": /api/block-height/8: not-found: no block at height 8"; err == nil || err.Error() != want || out.Len() != 0 {
		t.Fatalf("Block(8) = %v, printed %q\nwant %q", err, out.String(), want)
	}
	n := asked.Load()
	for _, bad := range []func() error{
		func() error { return r.Block(strings.ToUpper(remoteHash), &out) },
		func() error { return r.Block("x", &out) },
		func() error { return r.Tx("00112233445566778899AABBCCDDEEFF", &out) },
		func() error { return r.Tx("0011", &out) },
	} {
		if err := bad(); !errors.Is(err, ErrBadRef) {
			t.Errorf("error %v, want ErrBadRef", err)
		}
	}
	if asked.Load() != n || out.Len() != 0 {
		t.Fatalf("asked the node %d times about malformed references", asked.Load()-n)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	gone, err := NewRemote(addr)
	if err != nil {
		t.Fatal(err)
	}
	err = gone.Genesis(&out)
	if err == nil || !strings.HasPrefix(err.Error(), "source node "+addr+": /api/genesis: ") ||
		!strings.HasSuffix(err.Error(), "connection refused: is it running?") {
		t.Fatalf("Genesis of a node that is not there = %v", err)
	}
}
