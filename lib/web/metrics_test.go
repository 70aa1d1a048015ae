package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coniunctum/cnj/lib/chaindir"
)

// relayFile is a stats file as cnj-relay writes it (lib/relay): of process
// pid, written at unix, with the counters fields.
func relayFile(unix int64, pid int, fields string) string {
	return fmt.Sprintf(`{"time":%d,"pid":%d,%s}`+"\n", unix, pid, fields)
}

// The counters of a listener and of two senders, and their sums.
const (
	listenFields = `"connected":2,"accepted":9,"refused_cut_off":1,"refused_limit":3,"hello_failed":4,` +
		`"lines_tx":7,"lines_block":2,"bytes":1234,"duplicates":5,"bad_lines":6,"cut_offs":1`
	sendFieldsA = `"peers":3,"connected":2,"lines_tx":21,"lines_block":4,"bytes":5678,` +
		`"duplicates":8,"bad_lines":1,"queue_full":5,"not_reading":2`
	sendFieldsB = `"peers":2,"connected":1,"lines_tx":10,"lines_block":1,"bytes":1000,` +
		`"duplicates":2,"bad_lines":0,"queue_full":1,"not_reading":0`
	// Far more than the others: a sum that takes it in shows.
	sendFieldsStale = `"peers":1000,"connected":1000,"lines_tx":1000,"lines_block":1000,"bytes":1000,` +
		`"duplicates":1000,"bad_lines":1000,"queue_full":1000,"not_reading":1000`
)

// sendSums are the samples of sendFieldsA and sendFieldsB summed.
var sendSums = []string{
	"# TYPE cnj_relay_peers gauge\ncnj_relay_peers{direction=\"out\"} 5\n",
	"\ncnj_relay_peers_connected{direction=\"out\"} 3\n",
	"\ncnj_relay_lines_total{direction=\"out\",kind=\"tx\"} 31\ncnj_relay_lines_total{direction=\"out\",kind=\"block\"} 5\n",
	"\ncnj_relay_bytes_total{direction=\"out\"} 6678\n",
	"\ncnj_relay_dropped_total{direction=\"out\",reason=\"duplicate\"} 10\ncnj_relay_dropped_total{direction=\"out\",reason=\"bad_line\"} 1\n" +
		"cnj_relay_dropped_total{direction=\"out\",reason=\"queue_full\"} 6\n",
	"# TYPE cnj_relay_peers_dropped_total counter\ncnj_relay_peers_dropped_total{direction=\"out\",reason=\"not_reading\"} 2\n",
}

// TestRelayMetrics checks the relay traffic that /metrics sums from the
// stats files of the relay processes: stale files left out, and a file
// that is corrupt, huge or not a file logged and left out with the rest
// of /metrics answered.
func TestRelayMetrics(t *testing.T) {
	dir := copyFixture(t)
	_, ts, logs := newServer(t, Config{Chain: dir})
	write := func(name, content string) {
		t.Helper()
		os.RemoveAll(filepath.Join(dir, name))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scrape := func() string {
		t.Helper()
		resp, body := get(t, "GET", ts.URL+"/metrics")
		if resp.StatusCode != 200 {
			t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, body)
		}
		checkExposition(t, body)
		if !strings.Contains(string(body), "\ncnj_tip_height 8\n") {
			t.Errorf("the chain's metrics are missing:\n%s", body)
		}
		return string(body)
	}
	has := func(body string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("/metrics has no\n%s\nin\n%s", w, body)
			}
		}
	}
	noRelay := "# TYPE cnj_relay_running gauge\ncnj_relay_running{direction=\"in\"} 0\ncnj_relay_running{direction=\"out\"} 0\n"

	// No stats file: no relay runs, and no traffic metric.
	body := scrape()
	has(body, noRelay)
	if strings.Count(body, "\ncnj_relay_") != 2 {
		t.Errorf("relay metrics without stats files:\n%s", body)
	}

	// A listener; two senders, as on a node that mines; the file of a
	// sender killed a minute ago; files of other names.
	now := time.Now().Unix()
	write("relay-listen-4242.json", relayFile(now-1, 4242, listenFields))
	write("relay-send-4343.json", relayFile(now-3, 4343, sendFieldsA))
	write("relay-send-4444.json", relayFile(now, 4444, sendFieldsB))
	write("relay-send-4545.json", relayFile(now-60, 4545, sendFieldsStale))
	for _, name := range []string{"relay-send.json", "relay-send-0.json", "relay-send-04646.json", "relay-send-4747.json.tmp123", "relay-sends-4848.json"} {
		write(name, relayFile(now, 4646, sendFieldsStale))
	}
	body = scrape()
	has(body, append(sendSums,
		"# TYPE cnj_relay_running gauge\ncnj_relay_running{direction=\"in\"} 1\ncnj_relay_running{direction=\"out\"} 2\n",
		"# TYPE cnj_relay_peers_connected gauge\ncnj_relay_peers_connected{direction=\"in\"} 2\ncnj_relay_peers_connected{direction=\"out\"} 3\n",
		"# TYPE cnj_relay_connections_accepted_total counter\ncnj_relay_connections_accepted_total{direction=\"in\"} 9\n",
		"\ncnj_relay_connections_refused_total{direction=\"in\",reason=\"cut_off\"} 1\n"+
			"cnj_relay_connections_refused_total{direction=\"in\",reason=\"limit\"} 3\n"+
			"cnj_relay_connections_refused_total{direction=\"in\",reason=\"hello\"} 4\n",
		"# TYPE cnj_relay_lines_total counter\n"+
			"cnj_relay_lines_total{direction=\"in\",kind=\"tx\"} 7\ncnj_relay_lines_total{direction=\"in\",kind=\"block\"} 2\n",
		"# TYPE cnj_relay_bytes_total counter\ncnj_relay_bytes_total{direction=\"in\"} 1234\n",
		"\ncnj_relay_dropped_total{direction=\"in\",reason=\"duplicate\"} 5\ncnj_relay_dropped_total{direction=\"in\",reason=\"bad_line\"} 6\n",
		"# TYPE cnj_relay_cut_offs_total counter\ncnj_relay_cut_offs_total{direction=\"in\"} 1\n",
		// The oldest file summed.
		fmt.Sprintf("\ncnj_relay_stats_timestamp_seconds{direction=\"in\"} %d\ncnj_relay_stats_timestamp_seconds{direction=\"out\"} %d\n", now-1, now-3),
	)...)
	if logs.String() != "" {
		t.Errorf("logged:\n%s", logs)
	}

	// A sender file that cannot be read: the other two are summed.
	huge := strings.TrimSuffix(relayFile(now, 4949, sendFieldsStale), "}\n") + `,"pad":"` + strings.Repeat("x", chaindir.MaxRelayStats) + `"}` + "\n"
	const bad = "relay-send-4949.json"
	for _, tt := range []struct {
		name   string
		setup  func()
		logged string
	}{
		{"empty", func() { write(bad, "") }, "metrics: relay-send-4949.json: unexpected end of JSON input"},
		{"garbage", func() { write(bad, "{\"time\":") }, "metrics: relay-send-4949.json: unexpected end"},
		{"two objects", func() { write(bad, relayFile(now, 4949, sendFieldsStale)+relayFile(now, 4949, sendFieldsStale)) }, "metrics: relay-send-4949.json: invalid character"},
		{"negative", func() { write(bad, relayFile(now, 4949, `"bytes":-1`)) }, "metrics: relay-send-4949.json: json: cannot unmarshal"},
		{"float", func() { write(bad, relayFile(now, 4949, `"bytes":1.5`)) }, "metrics: relay-send-4949.json: json: cannot unmarshal"},
		{"no time", func() { write(bad, `{"pid":4949,"bytes":3}`) }, "metrics: relay-send-4949.json: no time or pid"},
		{"another pid", func() { write(bad, relayFile(now, 4950, sendFieldsStale)) }, "metrics: relay-send-4949.json: pid 4950 in the file of process 4949"},
		{"huge", func() { write(bad, huge) }, "metrics: relay-send-4949.json: over 65536 bytes"},
		{"a directory", func() {
			os.Remove(filepath.Join(dir, bad))
			os.Mkdir(filepath.Join(dir, bad), 0o755)
		}, "metrics: relay-send-4949.json: not a regular file"},
		{"a FIFO", func() {
			os.RemoveAll(filepath.Join(dir, bad))
			if err := syscall.Mkfifo(filepath.Join(dir, bad), 0o644); err != nil {
				t.Skip(err)
			}
		}, "metrics: relay-send-4949.json: not a regular file"},
		{"a link out of the directory", func() {
			os.RemoveAll(filepath.Join(dir, bad))
			outside := filepath.Join(t.TempDir(), "stats.json")
			os.WriteFile(outside, []byte(relayFile(now, 4949, sendFieldsStale)), 0o644)
			if err := os.Symlink(outside, filepath.Join(dir, bad)); err != nil {
				t.Skip(err)
			}
		}, "metrics: relay-send-4949.json: not a regular file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := logs.String()
			tt.setup()
			body := scrape()
			has(body, append(sendSums, "cnj_relay_running{direction=\"out\"} 2\n", "cnj_relay_bytes_total{direction=\"in\"} 1234\n")...)
			logged := strings.TrimPrefix(logs.String(), before)
			if !strings.Contains(logged, tt.logged) || strings.Count(logged, "\n") != 1 {
				t.Errorf("logged %q, want %q", logged, tt.logged)
			}
		})
	}
	os.RemoveAll(filepath.Join(dir, bad))
	before := logs.String()

	// The senders stop: one removed its file, the other was killed.
	os.Remove(filepath.Join(dir, "relay-send-4343.json"))
	write("relay-send-4444.json", relayFile(now-60, 4444, sendFieldsB))
	body = scrape()
	has(body, "cnj_relay_running{direction=\"in\"} 1\ncnj_relay_running{direction=\"out\"} 0\n", "cnj_relay_bytes_total{direction=\"in\"} 1234\n")
	if n := strings.Count(body, `{direction="out"`); n != 1 {
		t.Errorf("metrics of the stopped senders:\n%s", body)
	}
	// A listener's file written ahead of the clock is stale too.
	write("relay-listen-4242.json", relayFile(now+60, 4242, listenFields))
	if body := scrape(); !strings.Contains(body, noRelay) || strings.Count(body, "\ncnj_relay_") != 2 {
		t.Errorf("metrics of relays that are gone:\n%s", body)
	}
	if logged := strings.TrimPrefix(logs.String(), before); logged != "" {
		t.Errorf("logged:\n%s", logged)
	}
}

// TestRelayMetricsBounded: of more than maxRelayFiles files of a
// direction, the newest are summed, and that is logged.
func TestRelayMetricsBounded(t *testing.T) {
	dir := copyFixture(t)
	_, ts, logs := newServer(t, Config{Chain: dir})
	now := time.Now()
	for i := range maxRelayFiles + 6 {
		path := filepath.Join(dir, fmt.Sprintf("relay-send-%d.json", 1000+i))
		// The six first are the oldest by their modification time, and
		// they would show in the sum.
		lines := 1
		mtime := now.Add(-time.Duration(i) * time.Millisecond)
		if i < 6 {
			lines, mtime = 1000, now.Add(-time.Minute)
		}
		if err := os.WriteFile(path, []byte(relayFile(now.Unix(), 1000+i, fmt.Sprintf(`"lines_tx":%d`, lines))), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, mtime, mtime)
	}
	_, body := get(t, "GET", ts.URL+"/metrics")
	checkExposition(t, body)
	for _, want := range []string{
		fmt.Sprintf("\ncnj_relay_running{direction=\"out\"} %d\n", maxRelayFiles),
		fmt.Sprintf("\ncnj_relay_lines_total{direction=\"out\",kind=\"tx\"} %d\n", maxRelayFiles),
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %q:\n%s", want, body)
		}
	}
	if want := fmt.Sprintf("metrics: %d relay-send-*.json files: reading the %d newest\n", maxRelayFiles+6, maxRelayFiles); logs.String() != want {
		t.Errorf("logged %q, want %q", logs, want)
	}
}

// TestChainAndRuntimeMetrics: /metrics estimates the network's hashrate
// from the work and timestamps of the last blocks, and has the standard
// go_* and process_* metrics.
func TestChainAndRuntimeMetrics(t *testing.T) {
	f := getFixture(t)
	_, ts, _ := newServer(t, Config{})
	_, body := get(t, "GET", ts.URL+"/metrics")
	checkExposition(t, body)
	// The fixture's 8 blocks (fewer than 120: back to the genesis) each
	// carry a target that half of all hashes meet: 2 hashes a block.
	secs := f.blocks[fixtureHeight].Timestamp - f.p.Timestamp
	want := fmt.Sprintf("\ncnj_network_hashrate %s\n", strconv.FormatFloat(float64(2*fixtureHeight)/float64(secs), 'g', -1, 64))
	if !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks%s", want)
	}
	for _, name := range []string{"go_goroutines", "go_threads", "go_info", "go_gc_duration_seconds", "go_memstats_alloc_bytes",
		"go_memstats_heap_inuse_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
		"process_max_fds", "process_start_time_seconds"} {
		if !strings.Contains(string(body), "\n# TYPE "+name+" ") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "process_start_time_seconds "); ok {
			start, _ := strconv.ParseFloat(v, 64)
			if age := float64(time.Now().Unix()) - start; age < 0 || age > 3600 {
				t.Errorf("process_start_time_seconds %s: the test started %v s ago", v, age)
			}
		}
	}
}

// TestMineMetrics: the node's own mining comes from the fresh stats files
// of the cnj-mine processes on the directory, summed; a stale one is left
// out; with none, only cnj_mine_running 0.
func TestMineMetrics(t *testing.T) {
	dir := copyFixture(t)
	_, ts, _ := newServer(t, Config{Chain: dir})
	scrape := func() string {
		t.Helper()
		_, body := get(t, "GET", ts.URL+"/metrics")
		checkExposition(t, body)
		return string(body)
	}
	if body := scrape(); !strings.Contains(body, "\ncnj_mine_running 0\n") || strings.Contains(body, "cnj_mine_hashes_total") {
		t.Fatalf("no miner:\n%s", body)
	}
	d := chaindir.Dir(dir)
	now := time.Now()
	for pid, st := range map[int]struct {
		fields string
		at     time.Time
	}{
		101: {`{"hashes":1000,"blocks":2}`, now},
		102: {`{"hashes":500,"blocks":1}`, now},
		103: {`{"hashes":99999,"blocks":99}`, now.Add(-time.Hour)}, // killed long ago
	} {
		if err := d.WriteRelayStats(chaindir.MineKind, pid, []byte(st.fields), st.at); err != nil {
			t.Fatal(err)
		}
	}
	body := scrape()
	for _, want := range []string{"\ncnj_mine_running 2\n", "\n# TYPE cnj_mine_hashes_total counter\ncnj_mine_hashes_total 1500\n",
		"\n# TYPE cnj_mine_blocks_total counter\ncnj_mine_blocks_total 3\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks%s", want)
		}
	}
	if strings.Contains(body, `{direction="in"} 2`) {
		t.Error("the miners' files counted as relays'")
	}
}
