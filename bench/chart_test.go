package bench

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// The chart's geometry, in SVG user units (px).
const (
	chartW, chartH = 960, 480
	chartLeft      = 64  // y-axis labels
	chartRight     = 16  //
	chartTop       = 112 // title, legend, panel titles
	chartBottom    = 40  // percentile labels
	panelGap       = 28  // between scenarios
	groupPad       = 0.2 // of a percentile group's width, left empty
)

// clientColors are the bar colours of hedgeClients, in order.
var clientColors = []string{"#9e9e9e", "#1f77b4", "#ff7f0e", "#9ecae1"}

// writeHedgeChart draws results as percentile bars on a log scale: one
// panel per scenario, in each a group per percentile (p50, p99, p99.9) with
// a bar per client, labelled with its value in ms, and a dashed line at the
// hedge threshold. It is plain SVG 1.1.
func writeHedgeChart(w io.Writer, results []hedgeResult) error {
	lo, hi := 0.1, 1000.0 // ms, whole decades around every value
	for _, r := range results {
		for _, d := range []time.Duration{r.stats.p50, r.stats.p99, r.stats.p999} {
			v := ms(d)
			if v > 0 {
				lo = math.Min(lo, math.Pow(10, math.Floor(math.Log10(v))))
			}
			hi = math.Max(hi, math.Pow(10, math.Ceil(math.Log10(v))))
		}
	}
	plotTop, plotBottom := float64(chartTop), float64(chartH-chartBottom)
	y := func(v float64) float64 {
		v = math.Max(v, lo)
		f := (math.Log10(v) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
		return plotBottom - f*(plotBottom-plotTop)
	}
	nScen := len(hedgeScenarios)
	panelW := (float64(chartW-chartLeft-chartRight) - float64(panelGap*(nScen-1))) / float64(nScen)
	groupW := panelW / 3
	barW := groupW * (1 - groupPad) / float64(len(hedgeClients))

	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		chartW, chartH, chartW, chartH)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", chartLeft,
		esc("Point-read latency by percentile (log scale)"))
	if len(results) > 0 {
		p(`<text x="%d" y="37" fill="#424242">%s</text>`+"\n", chartLeft, esc(fmt.Sprintf(
			"cosmostest on loopback; reads prefer East US, then North Europe; %d reads per bar, %d in flight",
			results[0].stats.reads, hedgeWorkers)))
	}

	// Legend: a key per client and the threshold line, wrapped to the
	// chart's width.
	x, ly := float64(chartLeft), 52.0
	key := func(label string, swatch func(x, y float64)) {
		w := 16 + 6*float64(len(label)) + 24
		if x+w > chartW-chartRight {
			x, ly = chartLeft, ly+16
		}
		swatch(x, ly)
		p(`<text x="%.1f" y="%.1f">%s</text>`+"\n", x+16, ly+10, esc(label))
		x += w
	}
	for i, c := range hedgeClients {
		key(c.title, func(x, y float64) {
			p(`<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/>`+"\n", x, y, clientColors[i%len(clientColors)])
		})
	}
	key(fmt.Sprintf("hedge threshold %d ms", hedgeThreshold/time.Millisecond), func(x, y float64) {
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d62728" stroke-dasharray="5,3"/>`+"\n", x, y+6, x+12, y+6)
	})

	// Decade grid and y-axis labels, across all panels.
	for v := lo; v <= hi*1.0001; v *= 10 {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/>`+"\n", chartLeft, y(v), chartW-chartRight, y(v))
		p(`<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", chartLeft-6, y(v)+4, esc(fmtMs(v)+" ms"))
	}

	for si, s := range hedgeScenarios {
		px := float64(chartLeft) + float64(si)*(panelW+panelGap)
		p(`<text x="%.1f" y="%d" text-anchor="middle" font-weight="bold">%s</text>`+"\n", px+panelW/2, chartTop-16, esc(s.title))
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d62728" stroke-dasharray="5,3"/>`+"\n",
			px, y(ms(hedgeThreshold)), px+panelW, y(ms(hedgeThreshold)))
		for pi, name := range []string{"p50", "p99", "p99.9"} {
			gx := px + float64(pi)*groupW
			p(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", gx+groupW/2, plotBottom+16, name)
			for _, r := range results {
				if r.scenario != si {
					continue
				}
				v := ms([]time.Duration{r.stats.p50, r.stats.p99, r.stats.p999}[pi])
				bx := gx + groupW*groupPad/2 + float64(r.client)*barW
				top := y(v)
				p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
					bx, top, barW-1, plotBottom-top, clientColors[r.client%len(clientColors)],
					esc(fmt.Sprintf("%s, %s, %s: %s ms", s.title, hedgeClients[r.client].title, name, fmtMs(v))))
				p(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="8">%s</text>`+"\n", bx+barW/2, top-3, esc(fmtMs(v)))
			}
		}
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#616161"/>`+"\n", px, plotBottom, px+panelW, plotBottom)
	}
	p("</svg>\n")
	return bw.Flush()
}

// fmtMs formats a time in ms with two significant digits below 10.
func fmtMs(v float64) string {
	switch {
	case v < 1:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	case v < 10:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".")
	}
	return fmt.Sprintf("%.0f", v)
}

// esc escapes s for SVG text and attributes.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// The chart is well-formed XML with one bar per scenario, client and
// percentile, each of them as tall as its value says on the log scale.
func TestHedgeChart(t *testing.T) {
	var results []hedgeResult
	for si := range hedgeScenarios {
		for ci := range hedgeClients {
			results = append(results, hedgeResult{si, ci, readStats{
				p50: 200 * time.Microsecond, p99: 50 * time.Millisecond, p999: 500 * time.Millisecond,
			}})
		}
	}
	var b strings.Builder
	if err := writeHedgeChart(&b, results); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(strings.NewReader(b.String()))
	heights := map[string]int{} // bar height → bars
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "rect" {
			continue
		}
		var fill, height string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "fill":
				fill = a.Value
			case "height":
				height = a.Value
			}
		}
		if fill != "white" && height != "12" { // not the background or a legend key
			heights[height]++
		}
	}
	// The scale spans 0.1 ms to 1 s: four decades over the plot's height.
	decade := float64(chartH-chartBottom-chartTop) / 4
	want := map[string]int{}
	for _, v := range []float64{0.2, 50, 500} {
		want[fmt.Sprintf("%.1f", decade*math.Log10(v/0.1))] = len(hedgeScenarios) * len(hedgeClients)
	}
	if fmt.Sprint(heights) != fmt.Sprint(want) {
		t.Errorf("bar heights %v, want %v", heights, want)
	}
}
