package testscripts

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A minimal client of the Chrome DevTools Protocol, enough to drive a
// headless Chromium over pages and hear what it says: a WebSocket client
// (RFC 6455: text frames, masked as a client must, ping and close) and
// JSON calls with their events. It replaces chromedp, which would be a
// large dependency for a test.

// browser is a headless Chromium with one page under control.
type browser struct {
	cmd  *exec.Cmd
	ws   *wsConn
	next int

	mu      sync.Mutex
	waiting map[int]chan cdpMessage
	events  []cdpMessage
	err     error // what ended the reader
}

type cdpMessage struct {
	ID     int             `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts Chromium headless with a 1200x900 window and
// connects to its first page. It is stopped when the test ends.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: make deps installs it (Debian package chromium)")
	}
	profile := t.TempDir()
	cmd := exec.Command(path, "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
		"--user-data-dir="+profile, "--remote-debugging-port=0", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-sync", "--metrics-recording-only", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr lockedBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &browser{cmd: cmd, waiting: map[int]chan cdpMessage{}}
	t.Cleanup(func() {
		if b.ws != nil {
			b.ws.c.Close()
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	// Chromium writes the port it took and the browser's path to
	// DevToolsActivePort in its profile.
	var port string
	netEventually(t, "chromium writes DevToolsActivePort", 30*time.Second, 50*time.Millisecond, func() bool {
		data, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
		if err != nil {
			return false
		}
		port, _, _ = strings.Cut(string(data), "\n")
		return port != ""
	})
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/json/list")
	if err != nil {
		t.Fatalf("chromium's target list: %v\n%s", err, stderr.String())
	}
	err = json.NewDecoder(resp.Body).Decode(&targets)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.Type == "page" {
			if b.ws, err = wsDial(tg.WS); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if b.ws == nil {
		t.Fatalf("chromium has no page: %+v", targets)
	}
	go b.read()
	for _, m := range []string{"Page.enable", "Network.enable", "Runtime.enable", "Log.enable"} {
		if _, err := b.call(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// read dispatches what the browser says: answers to their callers,
// events to the list.
func (b *browser) read() {
	for {
		data, err := b.ws.recv()
		b.mu.Lock()
		if err != nil {
			b.err = err
			for _, c := range b.waiting {
				close(c)
			}
			b.waiting = map[int]chan cdpMessage{}
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if json.Unmarshal(data, &m) == nil {
			if m.ID != 0 {
				if c, ok := b.waiting[m.ID]; ok {
					c <- m
					delete(b.waiting, m.ID)
				}
			} else {
				b.events = append(b.events, m)
			}
		}
		b.mu.Unlock()
	}
}

// call sends a command and waits (60 s at most) for its result.
func (b *browser) call(method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return nil, b.err
	}
	b.next++
	id := b.next
	c := make(chan cdpMessage, 1)
	b.waiting[id] = c
	b.mu.Unlock()
	msg, _ := json.Marshal(struct {
		ID     int    `json:"id"`
		Method string `json:"method"`
		Params any    `json:"params,omitempty"`
	}{id, method, params})
	if err := b.ws.send(msg); err != nil {
		return nil, err
	}
	select {
	case m, ok := <-c:
		if !ok {
			return nil, fmt.Errorf("%s: the browser went away: %v", method, b.err)
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("%s: no answer in 60 s", method)
	}
}

// takeEvents returns the events so far and forgets them.
func (b *browser) takeEvents() []cdpMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	ev := b.events
	b.events = nil
	return ev
}

// visit is what loading one page gave.
type visit struct {
	status   int      // of the last document response (after redirects)
	url      string   // its URL
	problems []string // console errors, exceptions, error log entries
	png      []byte   // the screenshot
}

// load navigates to url, waits for its load event (60 s at most), and
// returns its status, what went wrong on the console and a screenshot.
func (b *browser) load(url string) (visit, error) {
	b.takeEvents()
	if _, err := b.call("Page.navigate", map[string]string{"url": url}); err != nil {
		return visit{}, err
	}
	var v visit
	deadline := time.Now().Add(60 * time.Second)
	loaded := false
	var seen []cdpMessage
	for !loaded {
		if time.Now().After(deadline) {
			return v, fmt.Errorf("%s: no load event in 60 s", url)
		}
		for _, e := range b.takeEvents() {
			seen = append(seen, e)
			if e.Method == "Page.loadEventFired" {
				loaded = true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Late console messages of the page arrive right after its load.
	time.Sleep(200 * time.Millisecond)
	seen = append(seen, b.takeEvents()...)
	for _, e := range seen {
		switch e.Method {
		case "Network.responseReceived":
			var p struct {
				Type     string `json:"type"`
				Response struct {
					URL    string `json:"url"`
					Status int    `json:"status"`
				} `json:"response"`
			}
			if json.Unmarshal(e.Params, &p) == nil && p.Type == "Document" {
				v.status, v.url = p.Response.Status, p.Response.URL
			}
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string            `json:"type"`
				Args []json.RawMessage `json:"args"`
			}
			if json.Unmarshal(e.Params, &p) == nil && (p.Type == "error" || p.Type == "assert") {
				v.problems = append(v.problems, "console."+p.Type+": "+string(e.Params))
			}
		case "Runtime.exceptionThrown":
			v.problems = append(v.problems, "exception: "+string(e.Params))
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level  string `json:"level"`
					Source string `json:"source"`
					Text   string `json:"text"`
					URL    string `json:"url"`
				} `json:"entry"`
			}
			if json.Unmarshal(e.Params, &p) == nil && p.Entry.Level == "error" {
				v.problems = append(v.problems, p.Entry.Source+": "+p.Entry.Text+" "+p.Entry.URL)
			}
		}
	}
	res, err := b.call("Page.captureScreenshot", map[string]string{"format": "png"})
	if err != nil {
		return v, err
	}
	var shot struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(res, &shot); err != nil {
		return v, err
	}
	v.png, err = base64.StdEncoding.DecodeString(shot.Data)
	return v, err
}

// wsConn is the client end of a WebSocket connection.
type wsConn struct {
	c  net.Conn
	r  *bufio.Reader
	mu sync.Mutex // writers
}

// wsDial opens ws://HOST:PORT/PATH.
func wsDial(raw string) (*wsConn, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "ws" {
		return nil, fmt.Errorf("not a ws:// URL: %q", raw)
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.RequestURI(), u.Host, key)
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %s", resp.Status)
	}
	return &wsConn{c: c, r: r}, nil
}

// send writes one masked frame: a text message, or another opcode.
func (w *wsConn) send(payload []byte) error { return w.frame(0x1, payload) }

func (w *wsConn) frame(op byte, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = binary.BigEndian.AppendUint16(append(hdr, 0x80|126), uint16(n))
	default:
		hdr = binary.BigEndian.AppendUint64(append(hdr, 0x80|127), uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	body := make([]byte, len(payload))
	for i, c := range payload {
		body[i] = c ^ mask[i%4]
	}
	_, err := w.c.Write(append(hdr, body...))
	return err
}

// recv returns the next message, joining its fragments and answering
// pings on the way.
func (w *wsConn) recv() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.r, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.r, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.r, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 256<<20 {
			return nil, errors.New("websocket frame of " + strconv.FormatUint(n, 10) + " bytes")
		}
		var mask []byte
		if h[1]&0x80 != 0 {
			mask = make([]byte, 4)
			if _, err := io.ReadFull(w.r, mask); err != nil {
				return nil, err
			}
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(w.r, payload); err != nil {
			return nil, err
		}
		for i := range payload {
			if mask != nil {
				payload[i] ^= mask[i%4]
			}
		}
		switch op {
		case 0x8:
			return nil, errors.New("websocket closed by the browser")
		case 0x9:
			if err := w.frame(0xA, payload); err != nil {
				return nil, err
			}
			continue
		case 0xA:
			continue
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}
