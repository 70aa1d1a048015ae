package chainsync

import (
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	for _, c := range []struct {
		p    Progress
		d    time.Duration
		want string
	}{
		{Progress{Phase: Verify, Done: 0, Total: 10}, 0, "verifying   [....................] 0/10  10 left"},
		{Progress{Phase: Download, Done: 50, Total: 200}, 2 * time.Second,
			"downloading [#####...............] 50/200  150 left  25 blocks/s  ETA 6s"},
		{Progress{Phase: Verify, Done: 10, Total: 10}, time.Second, "verifying   [####################] 10/10  0 left  10 blocks/s  ETA 0s"},
	} {
		if got := Line(c.p, c.d); got != c.want {
			t.Errorf("Line(%+v, %v)\n got %q\nwant %q", c.p, c.d, got, c.want)
		}
	}
}

func TestBar(t *testing.T) {
	var out strings.Builder
	now := time.Unix(0, 0)
	b := NewBar(&out)
	b.now = func() time.Time { return now }
	b.Update(Progress{Phase: Verify, Done: 1, Total: 4})
	now = now.Add(10 * time.Millisecond)
	b.Update(Progress{Phase: Verify, Done: 2, Total: 4}) // too soon: not drawn
	now = now.Add(time.Second)
	b.Update(Progress{Phase: Verify, Done: 4, Total: 4})
	b.Clear()
	s := out.String()
	if strings.Count(s, "\r") != 4 || strings.Contains(s, " 2/4") || !strings.Contains(s, " 4/4") || !strings.HasSuffix(s, "\r") {
		t.Fatalf("drawn %q", s)
	}
}
