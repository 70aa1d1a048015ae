package relay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
	"github.com/coniunctum/cnj/lib/params"
)

// webApp serves /api/genesis of p on ip at port (0: any), and returns the
// port.
func webApp(t *testing.T, ip string, port int, p *params.Params) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/genesis" {
			http.NotFound(w, r)
			return
		}
		w.Write(append(p.JSON(), '\n'))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRecordProven: a hello's address is recorded only once its peer
// answers on its web app as a node of this network (or delivered a valid
// line: TestExchange); one IP has one entry, whose port a later hello
// changes.
func TestRecordProven(t *testing.T) {
	p, other := devnet(t), devnet(t)
	port := webApp(t, "127.0.0.21", 0, p)
	webApp(t, "127.0.0.22", port, other)
	l := listen(t, p, "127.0.0.1", func(c *ListenConfig) { c.WebPort, c.MaxConnsPerIP, c.MaxConnsPerGroup = port, 1000, 1000 })
	peers := func() string {
		b, _ := os.ReadFile(chaindir.Dir(l.dir).File(chaindir.PeersFile))
		return string(b)
	}
	for _, ip := range []string{"127.0.0.20", "127.0.0.21", "127.0.0.22"} {
		if _, _, h := dial(t, l.Addr(), ip, p, ip+":5050"); h == nil {
			t.Fatalf("%s: no hello", ip)
		}
	}
	waitFor(t, "the web app's peer recorded", func() bool { return peers() == "127.0.0.21:5050\n" })
	waitFor(t, "the others not recorded, said so", func() bool {
		return l.log.count("127.0.0.20: peer 127.0.0.20:5050 not recorded yet: no valid line from it so far, and its web app 127.0.0.20:") == 1 &&
			l.log.count("127.0.0.22: peer 127.0.0.22:5050 not recorded yet: no valid line from it so far, and its web app 127.0.0.22:"+strconv.Itoa(port)+": a node of another network") == 1
	})
	// The listener logs after it wrote the file.
	waitFor(t, "the record logged", func() bool { return l.log.count("127.0.0.21: new peer 127.0.0.21:5050 recorded") == 1 })
	// Hellos announcing a thousand ports: one entry, the last port.
	for port := 6000; port < 7000; port++ {
		c, _, h := dial(t, l.Addr(), "127.0.0.21", p, fmt.Sprintf("127.0.0.21:%d", port))
		if h == nil {
			t.Fatal("no hello")
		}
		c.Close()
	}
	waitFor(t, "the last port", func() bool { return peers() == "127.0.0.21:6999\n" })
	waitFor(t, "the port change logged", func() bool {
		return l.log.count("127.0.0.21: peer 127.0.0.21:6000 recorded, in place of its other port") == 1
	})
	if peers() != "127.0.0.21:6999\n" {
		t.Errorf("peers file %q", peers())
	}
}

// TestSendDelivered: Send notes in relay-delivered.jsonl the IPs whose
// tagged lines it sends: in a validator's pipeline, the lines that came out
// of cnj-verify. Its own untagged lines name no one.
func TestSendDelivered(t *testing.T) {
	p := devnet(t)
	l := listen(t, p, "127.0.0.1", nil)
	dir := t.TempDir()
	lines := txLines(p, 3)
	before := time.Now().Unix()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- sendLowered(context.Background(), SendConfig{Params: p, Chain: dir, To: []string{l.Addr().String()}}, pr)
	}()
	fmt.Fprintf(pw, "127.0.0.5 %s\n%s\n127.0.0.6 %s\n127.0.0.5 %s\n", lines[0], lines[1], lines[2], lines[0])
	var got []chaindir.Delivered
	waitFor(t, "relay-delivered.jsonl", func() bool {
		got, _, _ = chaindir.Dir(dir).ReadDelivered()
		return len(got) == 2
	})
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		if (e.IP != netip.MustParseAddr("127.0.0.5") && e.IP != netip.MustParseAddr("127.0.0.6")) || e.Block != 0 || e.Tx < before {
			t.Errorf("entry %+v", e)
		}
	}
	b, _ := os.ReadFile(chaindir.Dir(dir).File(chaindir.DeliveredFile))
	if bytes.Count(b, []byte("\n")) != 2 {
		t.Errorf("relay-delivered.jsonl:\n%s", b)
	}
	// What it noted last is written as it ends.
	err, log := send(t, SendConfig{Params: p, Chain: dir, To: []string{l.Addr().String()}}, []byte("127.0.0.7 "+string(txLines(p, 4)[3])))
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	got, _, _ = chaindir.Dir(dir).ReadDelivered()
	if len(got) != 3 || !slices.ContainsFunc(got, func(e chaindir.Delivered) bool { return e.IP == netip.MustParseAddr("127.0.0.7") }) {
		t.Errorf("after the end of the input: %+v", got)
	}
}
