package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// relayListen and relaySend are stats files as cnj-relay writes them
// (lib/relay), written the given age ago.
func relayListen(age time.Duration) string { return relayListenAt(time.Now().Add(-age).Unix()) }

func relayListenAt(unix int64) string {
	return fmt.Sprintf(`{"time":%d,"pid":4242,"connected":2,"accepted":9,"refused_cut_off":1,"refused_limit":3,"hello_failed":4,`+
		`"lines_tx":7,"lines_block":2,"bytes":1234,"duplicates":5,"bad_lines":6,"cut_offs":1}`+"\n", unix)
}

func relaySend(age time.Duration) string {
	return fmt.Sprintf(`{"time":%d,"pid":4343,"peers":3,"connected":2,"lines_tx":21,"lines_block":4,"bytes":5678,`+
		`"duplicates":8,"bad_lines":1,"queue_full":5,"not_reading":2}`+"\n", time.Now().Add(-age).Unix())
}

// TestRelayMetrics checks the relay traffic that /metrics reads from the
// stats files, a stale file's gauges, and that a file that is missing,
// corrupt, huge or not a file leaves the rest of /metrics alone.
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

	// No stats file: no relay metric.
	if body := scrape(); strings.Contains(body, "cnj_relay_") {
		t.Errorf("relay metrics without stats files:\n%s", body)
	}

	// A running listener; a sender that stopped a minute ago.
	written := time.Now().Add(-time.Second).Unix()
	write("relay-listen.json", relayListenAt(written))
	write("relay-send.json", relaySend(time.Minute))
	body := scrape()
	for _, want := range []string{
		"# TYPE cnj_relay_running gauge\ncnj_relay_running{direction=\"in\"} 1\ncnj_relay_running{direction=\"out\"} 0\n",
		"# TYPE cnj_relay_peers gauge\ncnj_relay_peers{direction=\"out\"} 0\n",
		"# TYPE cnj_relay_peers_connected gauge\ncnj_relay_peers_connected{direction=\"in\"} 2\ncnj_relay_peers_connected{direction=\"out\"} 0\n",
		"# TYPE cnj_relay_connections_accepted_total counter\ncnj_relay_connections_accepted_total{direction=\"in\"} 9\n",
		"\ncnj_relay_connections_refused_total{direction=\"in\",reason=\"cut_off\"} 1\n" +
			"cnj_relay_connections_refused_total{direction=\"in\",reason=\"limit\"} 3\n" +
			"cnj_relay_connections_refused_total{direction=\"in\",reason=\"hello\"} 4\n",
		"# TYPE cnj_relay_lines_total counter\n" +
			"cnj_relay_lines_total{direction=\"in\",kind=\"tx\"} 7\ncnj_relay_lines_total{direction=\"in\",kind=\"block\"} 2\n" +
			"cnj_relay_lines_total{direction=\"out\",kind=\"tx\"} 21\ncnj_relay_lines_total{direction=\"out\",kind=\"block\"} 4\n",
		"# TYPE cnj_relay_bytes_total counter\ncnj_relay_bytes_total{direction=\"in\"} 1234\ncnj_relay_bytes_total{direction=\"out\"} 5678\n",
		"\ncnj_relay_dropped_total{direction=\"in\",reason=\"duplicate\"} 5\ncnj_relay_dropped_total{direction=\"in\",reason=\"bad_line\"} 6\n" +
			"cnj_relay_dropped_total{direction=\"out\",reason=\"duplicate\"} 8\ncnj_relay_dropped_total{direction=\"out\",reason=\"bad_line\"} 1\n" +
			"cnj_relay_dropped_total{direction=\"out\",reason=\"queue_full\"} 5\n",
		"# TYPE cnj_relay_cut_offs_total counter\ncnj_relay_cut_offs_total{direction=\"in\"} 1\n",
		"# TYPE cnj_relay_peers_dropped_total counter\ncnj_relay_peers_dropped_total{direction=\"out\",reason=\"not_reading\"} 2\n",
		fmt.Sprintf("\ncnj_relay_stats_timestamp_seconds{direction=\"in\"} %d\n", written),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no\n%s\nin\n%s", want, body)
		}
	}
	if logs.String() != "" {
		t.Errorf("logged:\n%s", logs)
	}

	// The sender runs again.
	write("relay-send.json", relaySend(0))
	body = scrape()
	for _, want := range []string{
		"cnj_relay_running{direction=\"out\"} 1\n",
		"cnj_relay_peers{direction=\"out\"} 3\n",
		"cnj_relay_peers_connected{direction=\"out\"} 2\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %q:\n%s", want, body)
		}
	}

	// A listen file that cannot be read: the sender's metrics stay.
	huge := strings.TrimSuffix(relayListen(0), "}\n") + `,"pad":"` + strings.Repeat("x", maxRelayStats) + `"}` + "\n"
	for _, tt := range []struct {
		name   string
		setup  func()
		logged string
	}{
		{"missing", func() { os.Remove(filepath.Join(dir, "relay-listen.json")) }, ""},
		{"empty", func() { write("relay-listen.json", "") }, "metrics: relay-listen.json: unexpected end of JSON input"},
		{"garbage", func() { write("relay-listen.json", "{\"time\":") }, "metrics: relay-listen.json: unexpected end"},
		{"two objects", func() { write("relay-listen.json", relayListen(0)+relayListen(0)) }, "metrics: relay-listen.json: invalid character"},
		{"negative", func() { write("relay-listen.json", strings.Replace(relayListen(0), `"bytes":1234`, `"bytes":-1`, 1)) }, "metrics: relay-listen.json: json: cannot unmarshal"},
		{"float", func() { write("relay-listen.json", strings.Replace(relayListen(0), `"bytes":1234`, `"bytes":1.5`, 1)) }, "metrics: relay-listen.json: json: cannot unmarshal"},
		{"no time", func() { write("relay-listen.json", `{"pid":1,"bytes":3}`) }, "metrics: relay-listen.json: no time or pid"},
		{"huge", func() { write("relay-listen.json", huge) }, "metrics: relay-listen.json: over 65536 bytes"},
		{"a directory", func() {
			os.Remove(filepath.Join(dir, "relay-listen.json"))
			os.Mkdir(filepath.Join(dir, "relay-listen.json"), 0o755)
		}, "metrics: relay-listen.json: not a regular file"},
		{"a link out of the directory", func() {
			os.RemoveAll(filepath.Join(dir, "relay-listen.json"))
			outside := filepath.Join(t.TempDir(), "stats.json")
			os.WriteFile(outside, []byte(relayListen(0)), 0o644)
			if err := os.Symlink(outside, filepath.Join(dir, "relay-listen.json")); err != nil {
				t.Skip(err)
			}
		}, "metrics: relay-listen.json: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := logs.String()
			tt.setup()
			body := scrape()
			if strings.Contains(body, `direction="in"`) {
				t.Errorf("metrics of the listener:\n%s", body)
			}
			if !strings.Contains(body, "cnj_relay_lines_total{direction=\"out\",kind=\"tx\"} 21\n") {
				t.Errorf("the sender's metrics are missing:\n%s", body)
			}
			logged := strings.TrimPrefix(logs.String(), before)
			if tt.logged == "" && logged != "" || !strings.Contains(logged, tt.logged) {
				t.Errorf("logged %q, want %q", logged, tt.logged)
			}
		})
	}
	// Both gone.
	os.RemoveAll(filepath.Join(dir, "relay-listen.json"))
	os.Remove(filepath.Join(dir, "relay-send.json"))
	if body := scrape(); strings.Contains(body, "cnj_relay_") {
		t.Errorf("relay metrics without stats files:\n%s", body)
	}
}
