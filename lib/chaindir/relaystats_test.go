package chaindir

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestRelayStatsFormat: every counter written for either kind reads back
// through RelayStats, under the same name and with the same value; the
// file names what wrote it.
func TestRelayStatsFormat(t *testing.T) {
	d := Dir(t.TempDir())
	now := time.Unix(1_800_000_000, 0)
	for kind, v := range map[string]any{RelayListen: &RelayListenStats{}, RelaySend: &RelaySendStats{}} {
		rv := reflect.ValueOf(v).Elem()
		for i := range rv.NumField() { // distinct values in every field
			if f := rv.Field(i); f.CanInt() {
				f.SetInt(int64(i + 1))
			} else {
				f.SetUint(uint64(i + 1))
			}
		}
		body, _ := json.Marshal(v)
		if err := d.WriteRelayStats(kind, 4242, body, now); err != nil {
			t.Fatal(err)
		}
		files, err := d.ListRelayStats()
		if err != nil {
			t.Fatal(err)
		}
		var file RelayStatsFile
		for _, f := range files {
			if f.Kind == kind {
				file = f
			}
		}
		if file.PID != 4242 || file.Tmp || file.Name != RelayStatsName(kind, 4242) {
			t.Fatalf("%s: listed %+v", kind, file)
		}
		st, err := d.ReadRelayStats(file)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		var wrote, read map[string]any
		json.Unmarshal(body, &wrote)
		b, _ := json.Marshal(st)
		json.Unmarshal(b, &read)
		for k, w := range wrote {
			if read[k] != w {
				t.Errorf("%s: %q written %v, read back %v", kind, k, w, read[k])
			}
		}
		if st.PID != 4242 || st.Time != now.Unix() {
			t.Errorf("%s: pid %d time %d", kind, st.PID, st.Time)
		}
	}
	if err := d.WriteRelayStats(RelaySend, 1, []byte("[]"), now); err == nil {
		t.Error("counters that are not an object were written")
	}
}

func TestRelayStatsNames(t *testing.T) {
	for name, want := range map[string]struct {
		kind string
		pid  int
		tmp  bool
		ok   bool
	}{
		"relay-listen-12.json":          {RelayListen, 12, false, true},
		"relay-send-7.json":             {RelaySend, 7, false, true},
		"relay-send-7.json.tmp123":      {RelaySend, 7, true, true},
		"relay-listen.json":             {RelayListen, 0, false, true},
		"relay-listen-012.json":         {},
		"relay-listen-0.json":           {},
		"relay-listen--1.json":          {},
		"relay-listen-1.json.bak":       {},
		"relay-sender-1.json":           {},
		"relay-listen-1.jsonx":          {},
		"peers":                         {},
		"relay-listen-99999999999.json": {RelayListen, 99999999999, false, true},
		"mine-42.json":                  {MineKind, 42, false, true},
		"mine-42.json.tmp7":             {MineKind, 42, true, true},
		"mine.json":                     {},
		"miner-1.json":                  {},
		"mine-01.json":                  {},
	} {
		kind, pid, tmp, ok := ParseRelayStatsName(name)
		if kind != want.kind || pid != want.pid || tmp != want.tmp || ok != want.ok {
			t.Errorf("ParseRelayStatsName(%q) = %q %d %v %v", name, kind, pid, tmp, ok)
		}
	}
}
