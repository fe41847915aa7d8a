// Package svgchart draws small line charts as self-contained SVG: axes with
// ticks, a legend, vertical markers (lines or shaded spans) with labels,
// horizontal reference levels, an optional base-10 logarithmic axis, and
// hover values as native SVG tooltips (no script). Every style is a
// presentation attribute, so a chart needs no stylesheet, font or URL, and
// every text is escaped.
//
// It draws what it is given; it computes nothing but the scales.
package svgchart

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/planrun/planrun/internal/printable"
)

// Default chart size, in SVG user units (the chart scales to its container).
const (
	DefaultWidth  = 960
	DefaultHeight = 300
)

// hoverBands is how many vertical bands carry the hover values.
const hoverBands = 80

// Palette is the colour of each series, in order (cycled beyond its length).
var Palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"}

// Point is one value of a series.
type Point struct{ X, Y float64 }

// Series is one line, its points in increasing X.
type Series struct {
	Name   string
	Points []Point
	// Dashed draws the line dashed (a baseline, a secondary figure).
	Dashed bool
	// Color overrides the palette colour, e.g. "#555" (an SVG colour).
	Color string
}

// Marker is a vertical line at From (when To == From) or a shaded span
// from From to To, labelled at the top of the plot.
type Marker struct {
	From, To float64
	Label    string
}

// Level is a horizontal reference line at Y, labelled at the right.
type Level struct {
	Y     float64
	Label string
}

// Axis describes one axis.
type Axis struct {
	// Label names the axis (with its unit).
	Label string
	// Log makes the axis base-10 logarithmic; values ≤ 0 are left out.
	Log bool
	// Min and Max fix the axis range when Max > Min. Otherwise it spans the
	// data (markers and levels included) from 0 (a linear axis) and ends on a tick.
	Min, Max float64
	// Format renders a tick or hover value; default: up to 3 significant digits.
	Format func(float64) string
	// Steps are the tick steps a linear axis may use, in increasing order
	// (e.g. 1, 2, 5, 10, 15, 30, 60 for seconds); default: 1, 2 or 5
	// times a power of ten.
	Steps []float64
}

func (a Axis) format(v float64) string {
	if a.Format != nil {
		return a.Format(v)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Chart is one line chart.
type Chart struct {
	Title string
	// Width and Height default to DefaultWidth and DefaultHeight.
	Width, Height int
	X, Y          Axis
	Series        []Series
	Markers       []Marker
	Levels        []Level
}

// margins of the plot area inside the chart.
const (
	marginLeft   = 64
	marginRight  = 120 // level labels
	marginTop    = 44  // title and legend
	marginBottom = 40  // tick labels and axis label
)

// scale maps data values to pixels along one axis.
type scale struct {
	lo, hi     float64 // data range (log10 of it on a log axis)
	from, to   float64 // pixel range
	log        bool
	axis       Axis
	ticks      []float64
	degenerate bool
}

func (s scale) pos(v float64) float64 {
	if s.log {
		v = math.Log10(v)
	}
	if s.hi == s.lo {
		return (s.from + s.to) / 2
	}
	return s.from + (v-s.lo)/(s.hi-s.lo)*(s.to-s.from)
}

// value is the data value at pixel p (the inverse of pos).
func (s scale) value(p float64) float64 {
	v := s.lo + (p-s.from)/(s.to-s.from)*(s.hi-s.lo)
	if s.log {
		return math.Pow(10, v)
	}
	return v
}

// usable reports whether v can be drawn on the axis.
func (s scale) usable(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && (!s.log || v > 0)
}

// newScale fits axis a to the values vs between pixels from and to.
// zero includes 0 in a linear range.
func newScale(a Axis, vs []float64, from, to float64, zero bool) scale {
	s := scale{from: from, to: to, log: a.Log, axis: a}
	lo, hi := math.Inf(1), math.Inf(-1)
	if a.Max > a.Min {
		lo, hi = a.Min, a.Max
	} else {
		for _, v := range vs {
			if s.usable(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		if math.IsInf(lo, 1) { // nothing to draw
			lo, hi = 0, 1
			if a.Log {
				lo = 1
			}
		}
		if zero && !a.Log {
			lo = min(lo, 0)
		}
		if hi == lo {
			if a.Log {
				hi = lo * 10
			} else {
				hi = lo + 1
			}
		}
	}
	if a.Log {
		s.lo, s.hi = math.Log10(lo), math.Log10(hi)
		for e := math.Ceil(s.lo - 1e-9); e <= s.hi+1e-9; e++ {
			s.ticks = append(s.ticks, math.Pow(10, e))
		}
		return s
	}
	step := niceStep((hi - lo) / 5)
	if i := slices.IndexFunc(a.Steps, func(st float64) bool { return st >= (hi-lo)/6 }); i >= 0 {
		step = a.Steps[i]
	}
	if a.Max <= a.Min && zero {
		hi = math.Ceil(hi/step-1e-9) * step // end on a tick
	}
	s.lo, s.hi = lo, hi
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		s.ticks = append(s.ticks, k*step+0) // +0: no "-0"
	}
	return s
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag*(1+1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// SVG renders the chart as an <svg> element that scales to its
// container's width.
func (c Chart) SVG() string {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	left, right := float64(marginLeft), float64(w-marginRight)
	top, bottom := float64(marginTop), float64(h-marginBottom)

	var xs, ys []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			xs, ys = append(xs, p.X), append(ys, p.Y)
		}
	}
	for _, m := range c.Markers {
		xs = append(xs, m.From, m.To)
	}
	for _, l := range c.Levels {
		ys = append(ys, l.Y)
	}
	sx := newScale(c.X, xs, left, right, true)
	sy := newScale(c.Y, ys, bottom, top, true)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" font-family="sans-serif" font-size="12">`, w, h)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="14" font-weight="bold">%s</text>`, marginLeft, esc(c.Title))
	c.legend(&b, left)

	// Grid, ticks and axis labels.
	fmt.Fprintf(&b, `<g stroke="#e3e3e3">`)
	for _, t := range sy.ticks {
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(left), num(right), num(sy.pos(t)), num(sy.pos(t)))
	}
	for _, t := range sx.ticks {
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(sx.pos(t)), num(sx.pos(t)), num(top), num(bottom))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#999"/>`, num(left), num(top), num(right-left), num(bottom-top))
	b.WriteString(`<g fill="#444" font-size="11">`)
	for _, t := range sy.ticks {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(sy.pos(t)+4), esc(c.Y.format(t)))
	}
	for _, t := range sx.ticks {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, num(sx.pos(t)), num(bottom+15), esc(c.X.format(t)))
	}
	b.WriteString(`</g>`)
	if c.X.Label != "" {
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" fill="#444">%s</text>`, num((left+right)/2), h-6, esc(c.X.Label))
	}
	if c.Y.Label != "" {
		fmt.Fprintf(&b, `<text transform="translate(14 %s) rotate(-90)" text-anchor="middle" fill="#444">%s</text>`, num((top+bottom)/2), esc(c.Y.Label))
	}

	// Markers: shaded spans and lines, labels staggered so that close ones stay legible.
	for i, m := range c.Markers {
		if !sx.usable(m.From) || !sx.usable(m.To) {
			continue
		}
		x1, x2 := clamp(sx.pos(m.From), left, right), clamp(sx.pos(m.To), left, right)
		if x2-x1 >= 1 {
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="#d62728" fill-opacity="0.08"/>`, num(x1), num(top), num(x2-x1), num(bottom-top))
		}
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#b22" stroke-dasharray="3 3"/>`, num(x1), num(x1), num(top), num(bottom))
		anchor, lx := "start", x1+3
		if x1 > (left+right)/2 {
			anchor, lx = "end", x1-3
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="%s" font-size="11" fill="#b22">%s</text>`, num(lx), num(top+12+float64(i%3)*12), anchor, esc(m.Label))
	}
	for _, l := range c.Levels {
		if !sy.usable(l.Y) {
			continue
		}
		y := num(sy.pos(l.Y))
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#555" stroke-dasharray="6 3"/>`, num(left), num(right), y, y)
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" fill="#555">%s</text>`, num(right+4), num(sy.pos(l.Y)+4), esc(l.Label))
	}

	// Series.
	for i, s := range c.Series {
		var pts []string
		for _, p := range s.Points {
			if sx.usable(p.X) && sy.usable(p.Y) {
				pts = append(pts, num(sx.pos(p.X))+","+num(sy.pos(p.Y)))
			}
		}
		if len(pts) == 0 {
			continue
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="7 4"`
		}
		if len(pts) == 1 {
			xy := strings.Split(pts[0], ",")
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`, xy[0], xy[1], c.color(i))
			continue
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.6"%s points="%s"/>`, c.color(i), dash, strings.Join(pts, " "))
	}
	c.hover(&b, sx, top, bottom)
	b.WriteString(`</svg>`)
	return b.String()
}

// legend writes one swatch and name per series, in a row under the title.
func (c Chart) legend(b *strings.Builder, x float64) {
	for i, s := range c.Series {
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="7 4"`
		}
		fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="31" y2="31" stroke="%s" stroke-width="2"%s/>`, num(x), num(x+18), c.color(i), dash)
		fmt.Fprintf(b, `<text x="%s" y="35">%s</text>`, num(x+22), esc(s.Name))
		x += 22 + 7*float64(len([]rune(s.Name))) + 16
	}
}

// hover writes transparent vertical bands whose tooltip lists, at the
// band's middle, each series' nearest point.
func (c Chart) hover(b *strings.Builder, sx scale, top, bottom float64) {
	if len(c.Series) == 0 {
		return
	}
	width := (sx.to - sx.from) / hoverBands
	b.WriteString(`<g fill="#000" fill-opacity="0">`)
	for i := range hoverBands {
		x0 := sx.from + float64(i)*width
		at := sx.value(x0 + width/2)
		var lines []string
		for _, s := range c.Series {
			if p, ok := nearest(s.Points, at); ok {
				if len(lines) == 0 {
					lines = append(lines, c.X.Label+" "+c.X.format(p.X))
				}
				lines = append(lines, s.Name+": "+c.Y.format(p.Y))
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			num(x0), num(top), num(width), num(bottom-top), esc(strings.Join(lines, "\n")))
	}
	b.WriteString(`</g>`)
}

// nearest returns the point of pts (in increasing X) closest to x.
func nearest(pts []Point, x float64) (Point, bool) {
	if len(pts) == 0 {
		return Point{}, false
	}
	i, _ := slices.BinarySearchFunc(pts, x, func(p Point, x float64) int {
		switch {
		case p.X < x:
			return -1
		case p.X > x:
			return 1
		}
		return 0
	})
	switch {
	case i == 0:
		return pts[0], true
	case i == len(pts):
		return pts[len(pts)-1], true
	case x-pts[i-1].X <= pts[i].X-x:
		return pts[i-1], true
	}
	return pts[i], true
}

func (c Chart) color(i int) string {
	if c.Series[i].Color != "" {
		return esc(c.Series[i].Color)
	}
	return Palette[i%len(Palette)]
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

// num prints a pixel coordinate with one decimal.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// esc escapes text for SVG (XML) content and attribute values; control
// characters other than tab and newline become visible escapes.
func esc(s string) string { return html.EscapeString(printable.String(s)) }
