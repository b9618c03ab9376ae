package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"
)

// Plots are inline SVG written here, on the server: no script, no library.
// Labels are escaped; every number is formatted by this code.

// level names how full a ratio is, for the bar's colour class.
func level(ratio float64) string {
	switch {
	case ratio >= 0.9:
		return "crit"
	case ratio >= 0.7:
		return "warn"
	}
	return "ok"
}

// capacityBar draws a horizontal bar of used out of total with a caption.
func capacityBar(used, total int64, caption string) template.HTML {
	const w, h = 220, 18
	ratio := 0.0
	if total > 0 {
		ratio = float64(used) / float64(total)
	}
	fill := min(max(ratio, 0), 1) * w
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="bar" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(caption))
	fmt.Fprintf(&b, `<rect class="bar-bg" x="0" y="0" width="%d" height="%d" rx="3"/>`, w, h)
	fmt.Fprintf(&b, `<rect class="bar-%s" x="0" y="0" width="%.1f" height="%d" rx="3"/>`, level(ratio), fill, h)
	fmt.Fprintf(&b, `<text x="6" y="13">%s</text></svg>`, html.EscapeString(caption))
	return template.HTML(b.String())
}

// stackPart is one segment of a stacked bar.
type stackPart struct {
	Label string
	Class string
	N     int64
}

// stackedBar draws counts as one bar split into segments, with a legend.
func stackedBar(parts []stackPart) template.HTML {
	const w, h = 600, 22
	var total int64
	for _, p := range parts {
		total += p.N
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="stack" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="counts by state">`, w, h+20, w, h+20)
	fmt.Fprintf(&b, `<rect class="bar-bg" x="0" y="0" width="%d" height="%d" rx="3"/>`, w, h)
	if total == 0 {
		fmt.Fprintf(&b, `<text class="tick" x="8" y="15">none</text>`)
	}
	x := 0.0
	lx := 0
	for _, p := range parts {
		if p.N == 0 {
			continue
		}
		pw := float64(p.N) / float64(total) * w
		fmt.Fprintf(&b, `<rect class="st-%s" x="%.1f" y="0" width="%.1f" height="%d"><title>%s: %d</title></rect>`,
			html.EscapeString(p.Class), x, pw, h, html.EscapeString(p.Label), p.N)
		x += pw
		fmt.Fprintf(&b, `<rect class="st-%s" x="%d" y="%d" width="10" height="10"/><text x="%d" y="%d">%s %d</text>`,
			html.EscapeString(p.Class), lx, h+6, lx+14, h+15, html.EscapeString(p.Label), p.N)
		lx += 20 + 8*len(p.Label) + 8*len(fmt.Sprint(p.N))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// lineChart plots two values of a series over time; names label them.
func lineChart(points []sample, names [2]string, now time.Time) template.HTML {
	const w, h, padL, padB, padT = 600, 170, 48, 22, 20
	pw, ph := float64(w-padL-8), float64(h-padB-padT)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s and %s over time">`,
		w, h, w, h, html.EscapeString(names[0]), html.EscapeString(names[1]))
	var maxV int64 = 1
	for _, p := range points {
		maxV = max(maxV, p.V[0], p.V[1])
	}
	// Axes and the y scale.
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padL, padT, padL, h-padB)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padL, h-padB, w-8, h-padB)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%d</text>`, padL-4, padT+4, maxV)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">0</text>`, padL-4, h-padB)
	span := time.Duration(seriesCap) * samplePeriod
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">-%s</text>`, padL, h-4, span)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">now</text>`, w-8, h-4)
	if len(points) == 0 {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">collecting samples…</text>`, padL+10, padT+30)
	}
	xOf := func(t time.Time) float64 {
		age := now.Sub(t)
		return float64(padL) + pw*(1-min(max(float64(age)/float64(span), 0), 1))
	}
	yOf := func(v int64) float64 { return float64(padT) + ph*(1-float64(v)/float64(maxV)) }
	for i := range 2 {
		if len(points) == 0 {
			break
		}
		fmt.Fprintf(&b, `<polyline class="line%d" points="`, i)
		for j, p := range points {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", xOf(p.At), yOf(p.V[i]))
		}
		b.WriteString(`"/>`)
		last := points[len(points)-1]
		fmt.Fprintf(&b, `<circle class="line%d-key" cx="%.1f" cy="%.1f" r="3"/>`, i, xOf(last.At), yOf(last.V[i]))
	}
	// Legend with the latest values.
	for i := range 2 {
		var last int64
		if len(points) > 0 {
			last = points[len(points)-1].V[i]
		}
		x := padL + 10 + i*180
		fmt.Fprintf(&b, `<rect class="line%d-key" x="%d" y="4" width="10" height="10"/><text x="%d" y="13">%s: %d</text>`,
			i, x, x+14, html.EscapeString(names[i]), last)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
