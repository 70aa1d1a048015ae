package testscripts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The explorer's pages on a live devnet node: cnj-serve on 127.0.0.150
// over a chain that cnj-mine, cnj-sign and cnj-verify made, with its
// retarget on, a transfer in a block and one pending, a peer in its
// peers file.
//
// TestExplorerPages runs, as a reader would paste them, the shell
// commands that the block and transaction pages print, and drives
// headless Chromium over every page: each loads with its status (200, or
// 404 for the pages that are not there), writes no error to the console,
// and shows something (its screenshot is not one colour).
func TestExplorerPages(t *testing.T) {
	if BinDir() == "" {
		t.Skip("the commands were not built (TestMain did not run)")
	}
	const base = "http://127.0.0.150:56230"
	work := t.TempDir()
	setup := `set -eu
export CNJ_CHAIN="$PWD/c"
cnj-mine --genesis --network devnet >/dev/null
printf 'explorer pages\n' >pass
cnj-keygen -o a.key --passphrase-file pass | jq -r .address >a.addr
cnj-keygen -o b.key --passphrase-file pass | jq -r .address >b.addr
cnj-mine --address "$(cat a.addr)" --blocks 24 --threads 1 >/dev/null
cnj-sign -k a.key --passphrase-file pass --to "$(cat b.addr)" --amount 1.5 | cnj-verify | jq -r .id >mined.id
cnj-mine --address "$(cat a.addr)" --blocks 1 --threads 1 | jq -r .hash >block.hash
cnj-sign -k a.key --passphrase-file pass --to "$(cat b.addr)" --amount 2 | cnj-verify | jq -r .id >pending.id
echo 127.0.0.151:5050 >c/peers
`
	if out, err := runSh(work, setup); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(work, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	addrA, minedID, pendingID, blockHash := read("a.addr"), read("mined.id"), read("pending.id"), read("block.hash")
	startProc(t, work, "exec cnj-serve --listen 127.0.0.150:56230 --chain c")
	netAnswers(t, base+"/api/blocks/tip/height")

	var proof struct {
		Pos int `json:"pos"`
	}
	getJSON(t, base+"/api/tx/"+minedID+"/merkle-proof", &proof)
	var rewardID string
	getText(t, base+"/api/block/"+blockHash+"/txid/0", &rewardID)

	t.Run("pipelines", func(t *testing.T) {
		for _, c := range []struct {
			path, pre string
			want      *regexp.Regexp
		}{
			{"/block/" + blockHash, "pow-sh", regexp.MustCompile(`^` + blockHash + `\nbelow the target: yes\n$`)},
			{"/tx/" + minedID, "merkle-sh", regexp.MustCompile(`^[0-9a-f]{64}\nthe merkle root of block 25: yes\n$`)},
			{"/tx/" + rewardID, "merkle-sh", regexp.MustCompile(`^[0-9a-f]{64}\nthe merkle root of block 25: yes\n$`)},
		} {
			page := getText(t, base+c.path, nil)
			m := regexp.MustCompile(`(?s)<pre id="` + c.pre + `">(.*?)</pre>`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("%s: no commands (#%s)", c.path, c.pre)
			}
			script := html.UnescapeString(m[1])
			if !strings.Contains(script, "cnj-chain --remote 127.0.0.150:56230 ") {
				t.Errorf("%s: the commands do not ask this node:\n%s", c.path, script)
			}
			out, err := runSh(t.TempDir(), script)
			if err != nil || !c.want.MatchString(out) {
				t.Errorf("%s: the page's commands: %v\n%s\nprinted:\n%s", c.path, err, script, out)
			}
		}
	})

	t.Run("chromium", func(t *testing.T) {
		b := startBrowser(t)
		shots := os.Getenv("CNJ_SCREENSHOTS") // keep the screenshots there when set
		for _, c := range []struct {
			path   string
			status int
		}{
			{"/", 200},
			{"/blocks", 200},
			{"/blocks/3", 200},
			{"/block/" + blockHash, 200},
			{"/block/0", 200},
			{"/block/12", 200}, // by height: led to the block
			{"/tx/" + minedID, 200},
			{"/tx/" + rewardID, 200},
			{"/tx/" + pendingID, 200},
			{"/address/" + addrA, 200},
			{"/mempool", 200},
			{"/peers", 200},
			{"/retarget", 200},
			{"/search?q=7", 200},
			{"/search?q=hello", 404},
			{"/no-such-page", 404},
			{"/address/junk", 400},
		} {
			v, err := b.load(base + c.path)
			if err != nil {
				t.Fatalf("%s: %v", c.path, err)
			}
			if v.status != c.status {
				t.Errorf("%s: status %d (%s), want %d", c.path, v.status, v.url, c.status)
			}
			for _, p := range v.problems {
				// A page answered with an error status is logged as a
				// failed load of that very page: that is its status,
				// checked above.
				if c.status != 200 && strings.Contains(p, "status of "+strconv.Itoa(c.status)) && strings.Contains(p, base) {
					continue
				}
				t.Errorf("%s: %s", c.path, p)
			}
			if err := notBlank(v.png); err != nil {
				t.Errorf("%s: the screenshot: %v", c.path, err)
			}
			if shots != "" {
				name := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(c.path, "-"), "-")
				os.WriteFile(filepath.Join(shots, "page-"+name+".png"), v.png, 0o644)
			}
		}
	})
}

// runSh runs a POSIX shell script in dir with the commands on the PATH
// and returns what it printed.
func runSh(dir, script string) (string, error) {
	cmd := exec.Command("sh", "-eu", "-c", script)
	cmd.Dir = dir
	cmd.Env = netEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// getText GETs url, which must answer 200, and returns its body (and
// stores it in *into when into is not nil).
func getText(t *testing.T, url string, into *string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	if into != nil {
		*into = string(b)
	}
	return string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(getText(t, url, nil)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// notBlank says why a PNG screenshot shows nothing: it does not decode,
// or fewer than 1% of its pixels differ from its first.
func notBlank(data []byte) error {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return err
	}
	r := img.Bounds()
	if r.Dx() < 100 || r.Dy() < 100 {
		return fmt.Errorf("a screenshot of %dx%d", r.Dx(), r.Dy())
	}
	first := img.At(r.Min.X, r.Min.Y)
	fr, fg, fb, _ := first.RGBA()
	differ := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr != fr || cg != fg || cb != fb {
				differ++
			}
		}
	}
	if differ*100 < r.Dx()*r.Dy() {
		return fmt.Errorf("blank: %d of %d pixels differ from the first", differ, r.Dx()*r.Dy())
	}
	return nil
}
