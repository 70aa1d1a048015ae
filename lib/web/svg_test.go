package web

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestChart: a line rises with its values, bars are as tall as theirs
// (from zero), a gap is a gap, the axis says the range with its unit,
// and a chart without values says so.
func TestChart(t *testing.T) {
	line := string(chart{Title: "T", Unit: "s", X: []string{"1", "2", "3", "4"}, Y: []float64{2, 6, math.NaN(), 10}}.svg())
	m := regexp.MustCompile(`<path d="(M[^"]*)" fill="none" stroke="#4a7fc1"`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no line in %s", line)
	}
	pts := regexp.MustCompile(`([ML])([0-9.]+) ([0-9.]+)`).FindAllStringSubmatch(m[1], -1)
	if len(pts) != 3 || pts[2][1] != "M" {
		t.Fatalf("line %q: want 3 points, the last after a gap", m[1])
	}
	y := func(i int) float64 { f, _ := strconv.ParseFloat(pts[i][3], 64); return f }
	// From zero (the values are positive): 2, 6 and 10 of 10.
	bottom, top := float64(chartH-chartBot), float64(chartTop)
	for i, v := range []float64{2, 6, 10} {
		want := bottom - (bottom-top)*v/10
		if math.Abs(y(i)-want) > 0.1 {
			t.Errorf("point %d at y %v, want %v", i, y(i), want)
		}
	}
	for _, want := range []string{">10 s</text>", ">0 s</text>", ">1</text>", ">4</text>", "<title>T</title>"} {
		if !strings.Contains(line, want) {
			t.Errorf("line chart: no %q", want)
		}
	}

	bars := string(chart{Title: "B", Bars: true, Y: []float64{0, 5, 10}}.svg())
	hs := regexp.MustCompile(`height="([0-9.]+)" fill`).FindAllStringSubmatch(bars, -1)
	if len(hs) != 3 {
		t.Fatalf("%d bars", len(hs))
	}
	h := func(i int) float64 { f, _ := strconv.ParseFloat(hs[i][1], 64); return f }
	if h(0) != 0 || math.Abs(h(2)-2*h(1)) > 0.2 || math.Abs(h(2)-(bottom-top)) > 0.1 {
		t.Errorf("bar heights %v %v %v", h(0), h(1), h(2))
	}

	if got := string(chart{Title: "E"}.svg()); !strings.Contains(got, "No data yet.") || strings.Contains(got, "<svg") {
		t.Errorf("an empty chart: %s", got)
	}
	if got := string(chart{Title: `<b>&"`, Y: []float64{1}}.svg()); strings.Contains(got, "<b>") {
		t.Errorf("a title not escaped: %s", got)
	}
}
