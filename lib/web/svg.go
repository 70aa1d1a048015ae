package web

import (
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Charts are drawn on the server as inline SVG: no script, no external
// asset, so that they show under the pages' Content-Security-Policy and
// in a browser without JavaScript. Each is a few kilobytes.

// chart is one series to draw.
type chart struct {
	ID    string    // the id of the figure, for links
	Title string    // above the chart
	Unit  string    // of the values, after the numbers on the axis
	X     []string  // a label per point (heights, times); first and last are shown
	Y     []float64 // the values; NaN is a gap
	Bars  bool      // bars instead of a line
	Href  string    // where the title links ("" none)
	Note  string    // a line under the chart
}

// Chart geometry, in SVG user units.
const (
	chartW     = 360
	chartH     = 140
	chartLeft  = 58 // room for the axis labels
	chartRight = 6
	chartTop   = 8
	chartBot   = 22
)

// svg renders c as a <figure> holding an inline <svg>. A series without
// values says so instead of drawing an empty frame.
func (c chart) svg() template.HTML {
	var b strings.Builder
	b.WriteString(`<figure class="chart"`)
	if c.ID != "" {
		b.WriteString(` id="` + html.EscapeString(c.ID) + `"`)
	}
	b.WriteString(`><figcaption>`)
	if c.Href != "" {
		b.WriteString(`<a href="` + html.EscapeString(c.Href) + `">` + html.EscapeString(c.Title) + `</a>`)
	} else {
		b.WriteString(html.EscapeString(c.Title))
	}
	b.WriteString(`</figcaption>`)
	lo, hi, ok := bounds(c.Y)
	if !ok {
		b.WriteString(`<p class="empty">No data yet.</p></figure>`)
		return template.HTML(b.String())
	}
	if c.Bars || lo > 0 {
		lo = 0 // bars and positive series start at zero, so that heights compare
	}
	if hi == lo {
		hi = lo + 1
	}
	plotW, plotH := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBot)
	x := func(i int) float64 {
		if len(c.Y) == 1 {
			return chartLeft + plotW/2
		}
		return chartLeft + plotW*float64(i)/float64(len(c.Y)-1)
	}
	y := func(v float64) float64 { return chartTop + plotH*(1-(v-lo)/(hi-lo)) }
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + itoa(chartW) + ` ` + itoa(chartH) + `" role="img" aria-label="` +
		html.EscapeString(c.Title) + `"><title>` + html.EscapeString(c.Title) + `</title>`)
	// Axes and their labels: the highest and lowest value, the first and last x.
	b.WriteString(`<path d="M` + itoa(chartLeft) + ` ` + itoa(chartTop) + `V` + num(chartTop+plotH) + `H` + itoa(chartW-chartRight) + `" fill="none" stroke="#999"/>`)
	b.WriteString(`<text x="` + itoa(chartLeft-4) + `" y="` + itoa(chartTop+8) + `" text-anchor="end">` + html.EscapeString(short(hi)+c.Unit) + `</text>`)
	b.WriteString(`<text x="` + itoa(chartLeft-4) + `" y="` + num(chartTop+plotH) + `" text-anchor="end">` + html.EscapeString(short(lo)+c.Unit) + `</text>`)
	if len(c.X) > 0 {
		b.WriteString(`<text x="` + itoa(chartLeft) + `" y="` + itoa(chartH-6) + `">` + html.EscapeString(c.X[0]) + `</text>`)
		b.WriteString(`<text x="` + itoa(chartW-chartRight) + `" y="` + itoa(chartH-6) + `" text-anchor="end">` + html.EscapeString(c.X[len(c.X)-1]) + `</text>`)
	}
	if c.Bars {
		w := max(plotW/float64(len(c.Y))-1, 1)
		for i, v := range c.Y {
			if math.IsNaN(v) {
				continue
			}
			left := chartLeft + plotW*float64(i)/float64(len(c.Y))
			b.WriteString(`<rect x="` + num(left) + `" y="` + num(y(v)) + `" width="` + num(w) + `" height="` + num(y(lo)-y(v)) + `" fill="#4a7fc1"/>`)
		}
	} else {
		b.WriteString(`<path d="`)
		pen := "M"
		for i, v := range c.Y {
			if math.IsNaN(v) {
				pen = "M"
				continue
			}
			b.WriteString(pen + num(x(i)) + " " + num(y(v)))
			pen = "L"
		}
		b.WriteString(`" fill="none" stroke="#4a7fc1" stroke-width="1.5"/>`)
	}
	b.WriteString(`</svg>`)
	if c.Note != "" {
		b.WriteString(`<p class="note">` + html.EscapeString(c.Note) + `</p>`)
	}
	b.WriteString(`</figure>`)
	return template.HTML(b.String())
}

// bounds returns the lowest and highest values of ys that are numbers.
func bounds(ys []float64) (lo, hi float64, ok bool) {
	for _, v := range ys {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if !ok || v < lo {
			lo = v
		}
		if !ok || v > hi {
			hi = v
		}
		ok = true
	}
	return lo, hi, ok
}

func itoa(i int) string { return strconv.Itoa(i) }

// num writes a coordinate to a tenth of a unit.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// short writes a value of an axis in at most 4 significant digits, with
// k, M, G, T for thousands, millions, billions, trillions.
func short(f float64) string {
	for _, u := range []struct {
		div float64
		s   string
	}{{1e12, " T"}, {1e9, " G"}, {1e6, " M"}, {1e3, " k"}} {
		if math.Abs(f) >= u.div {
			return strconv.FormatFloat(f/u.div, 'g', 4, 64) + u.s
		}
	}
	return strconv.FormatFloat(f, 'g', 4, 64) + " "
}
