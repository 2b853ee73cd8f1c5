package report

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/workers"
)

// Geometry of the charts, in SVG user units. The timeline and the worker
// charts share the x axis (same plot left and right, same domain), so a
// drop in workers sits under the incident that caused it.
const (
	chartW     = 1100.0
	plotL      = 110.0 // room for the lane names
	plotR      = 1085.0
	rowH       = 16.0 // one row of bars
	barH       = 12.0
	lanePad    = 6.0
	axisH      = 26.0
	minBarW    = 5.0  // an incident of one second is still something to click
	barGap     = 3.0  // between bars sharing a row
	maxRows    = 10   // rows per lane; more overlapping incidents share the last ones
	labelMinW  = 90.0 // a bar this wide carries its rule's name
	charW      = 6.2  // rough width of one label character
	workerH    = 130.0
	workerTop  = 12.0
	workerAxis = 26.0
)

// domain is the time span the charts show.
type domain struct {
	from, to time.Time
}

func (d domain) x(t time.Time) float64 {
	span := d.to.Sub(d.from)
	if span <= 0 {
		return plotL
	}
	return plotL + (plotR-plotL)*float64(t.Sub(d.from))/float64(span)
}

// domainOf spans every incident, every worker point and the scan's window
// where it is bounded, with a little room on each side.
func domainOf(d *Data, incs []*incident.Incident) domain {
	var dom domain
	add := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if dom.from.IsZero() || t.Before(dom.from) {
			dom.from = t
		}
		if t.After(dom.to) {
			dom.to = t
		}
	}
	for _, inc := range incs {
		add(inc.FirstSeen)
		add(inc.LastSeen)
	}
	for _, p := range d.Workers {
		add(p.Time)
	}
	add(d.Since)
	add(d.Until)
	if dom.from.IsZero() {
		return dom
	}
	pad := dom.to.Sub(dom.from) / 50
	if pad < 30*time.Second {
		pad = 30 * time.Second
	}
	dom.from, dom.to = dom.from.Add(-pad).UTC(), dom.to.Add(pad).UTC()
	return dom
}

// tick is one mark of the time axis.
type tick struct {
	X     string
	Label string
}

var tickSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// ticks chooses the smallest round step that leaves room for each label
// and places marks on its multiples: UTC midnight for days, Mondays for
// weeks (time.Truncate counts from January 1 of year 1, a Monday).
func ticks(dom domain) (out []tick, caption string) {
	span := dom.to.Sub(dom.from)
	const most = 11
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= most {
			step = s
			break
		}
	}
	for span/step > most && step < span/2 {
		step *= 2 // spans of years; span is at most 292 years (Duration)
	}
	multiDay := dom.from.YearDay() != dom.to.YearDay() || dom.from.Year() != dom.to.Year()
	layout := "15:04"
	switch {
	case step >= 24*time.Hour:
		layout = "Jan 2"
	case step < time.Minute:
		layout = "15:04:05"
	case multiDay:
		layout = "Jan 2 15:04"
	}
	for t, i := dom.from.Truncate(step), 0; !t.After(dom.to) && i <= 2*most; t, i = t.Add(step), i+1 {
		if t.Before(dom.from) {
			continue
		}
		out = append(out, tick{X: num(dom.x(t)), Label: t.Format(layout)})
	}
	caption = "UTC, " + dom.from.Format(time.DateOnly)
	if multiDay {
		caption += " to " + dom.to.Format(time.DateOnly)
	}
	return out, caption
}

// The lanes of the timeline, one per kind of log.
var laneNames = [...]string{"Gunicorn", "nginx", "kernel", "Caddy", "probe", "other"}

const laneOther = len(laneNames) - 1

// laneOfSignature knows a record's log from its signature's id: each
// technology's signatures apply to their own format only. systemd's
// lines are read as kernel records (journal, kern.log).
func laneOfSignature(id string) (int, bool) {
	id, _, _ = strings.Cut(id, ",") // a record matched by several
	tech, _, _ := strings.Cut(id, ".")
	switch tech {
	case "gunicorn":
		return 0, true
	case "nginx":
		return 1, true
	case "kernel", "systemd":
		return 2, true
	case "caddy":
		return 3, true
	case "probe":
		return 4, true
	}
	return 0, false
}

// laneOfSource knows a log from the format the scan detected for it, or
// failing that from its path.
func laneOfSource(src string, formats map[string]string) int {
	switch f := formats[src]; {
	case f == "gunicorn":
		return 0
	case strings.HasPrefix(f, "nginx"):
		return 1
	case f == "kernel":
		return 2
	case f == "caddy":
		return 3
	case f == "probe":
		return 4
	}
	p := strings.ToLower(src)
	base := path.Base(p)
	switch {
	case strings.Contains(p, "gunicorn"):
		return 0
	case strings.Contains(p, "nginx"):
		return 1
	case strings.Contains(p, "caddy"):
		return 3
	case strings.HasPrefix(base, "kern") || strings.Contains(base, "dmesg") || strings.Contains(base, "kmsg"):
		return 2
	case p == "probe" || strings.HasPrefix(p, "/proc"):
		return 4
	}
	return laneOther
}

// lanesOf lists the lanes an incident touches: those of its evidence
// (by signature, else by source), then those of sources no evidence
// came from (evidence is capped), then its rule's technology.
func lanesOf(inc *incident.Incident, formats map[string]string) []int {
	var on [len(laneNames)]bool
	seen := map[string]bool{}
	for _, e := range inc.Evidence {
		seen[e.Source] = true
		if l, ok := laneOfSignature(e.Signature); ok {
			on[l] = true
		} else {
			on[laneOfSource(e.Source, formats)] = true
		}
	}
	for _, s := range inc.Sources {
		if !seen[s] {
			on[laneOfSource(s, formats)] = true
		}
	}
	var out []int
	for l, ok := range on {
		if ok {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		l, ok := laneOfSignature(inc.Rule)
		if !ok {
			l = laneOther
		}
		out = append(out, l)
	}
	return out
}

// timeline is the incidents drawn over time, one lane per kind of log.
//
// An incident that touches several logs (an OOM kill seen by the kernel,
// Gunicorn and nginx) is drawn in each of their lanes over its whole span,
// rather than as one shape across them: one tall shape would also cover
// the lanes in between that it does not touch, and the lanes are what
// says which logs saw it. The bars of one incident share its id, and the
// script lights them up together.
type timeline struct {
	Width, Height string
	PlotL, PlotR  string
	AxisY, TextY  string
	Lanes         []lane
	Ticks         []tick
	Caption       string
}

type lane struct {
	Name                string
	Y, H, LabelY, BandH string
	Odd                 bool
	Bars                []bar
	Overflow            int // incidents drawn over others for want of rows
}

type bar struct {
	ID, Severity, Status string
	Focus                bool // the first bar of its incident: one tab stop per incident
	X, Y, W, H           string
	TextX, TextY, Text   string
	Label                string // what a screen reader and the tooltip say
}

// drawTimeline lays out the incidents that have a time; nil when none has.
func drawTimeline(incs []*incident.Incident, formats map[string]string, dom domain) *timeline {
	type placed struct {
		inc  *incident.Incident
		x, w float64
	}
	var perLane [len(laneNames)][]placed
	for _, inc := range incs {
		if inc.FirstSeen.IsZero() {
			continue
		}
		last := inc.LastSeen
		if last.Before(inc.FirstSeen) {
			last = inc.FirstSeen
		}
		x := dom.x(inc.FirstSeen)
		w := max(dom.x(last)-x, minBarW)
		for _, l := range lanesOf(inc, formats) {
			perLane[l] = append(perLane[l], placed{inc, x, w})
		}
	}
	tl := &timeline{PlotL: num(plotL), PlotR: num(plotR)}
	focusable := map[string]bool{}
	y := 0.0
	for l, ps := range perLane {
		if len(ps) == 0 {
			continue
		}
		slices.SortStableFunc(ps, func(a, b placed) int {
			return cmp.Or(cmp.Compare(a.x, b.x), strings.Compare(a.inc.ID, b.inc.ID))
		})
		// Greedy packing: each bar goes to the first row free at its
		// start; past maxRows, to the row that frees first.
		var ends []float64
		ln := lane{Name: laneNames[l], Odd: len(tl.Lanes)%2 == 1}
		rowOf := make([]int, len(ps))
		for i, p := range ps {
			r := slices.IndexFunc(ends, func(end float64) bool { return end+barGap <= p.x })
			if r < 0 && len(ends) < maxRows {
				ends = append(ends, 0)
				r = len(ends) - 1
			}
			if r < 0 {
				r = 0
				for j, end := range ends {
					if end < ends[r] {
						r = j
					}
				}
				ln.Overflow++
			}
			ends[r] = p.x + p.w
			rowOf[i] = r
		}
		h := float64(len(ends))*rowH + 2*lanePad
		for i, p := range ps {
			by := y + lanePad + float64(rowOf[i])*rowH + (rowH-barH)/2
			b := bar{
				ID:       p.inc.ID,
				Severity: sevName(p.inc.Severity),
				Status:   string(p.inc.Status),
				X:        num(p.x), Y: num(by), W: num(p.w), H: num(barH),
				Label: fmt.Sprintf("%s %s: %s, %s to %s, %d record(s)", sevName(p.inc.Severity), p.inc.Status,
					p.inc.Title, fmtTime(p.inc.FirstSeen), fmtTime(p.inc.LastSeen), p.inc.Count),
			}
			if !focusable[b.ID] {
				focusable[b.ID], b.Focus = true, true
			}
			if p.w >= labelMinW {
				b.Text = clip(p.inc.Rule, int((p.w-8)/charW))
				b.TextX, b.TextY = num(p.x+4), num(by+barH-2.5)
			}
			ln.Bars = append(ln.Bars, b)
		}
		ln.Y, ln.H, ln.BandH = num(y), num(h), num(h)
		ln.LabelY = num(y + h/2 + 4)
		tl.Lanes = append(tl.Lanes, ln)
		y += h
	}
	if len(tl.Lanes) == 0 {
		return nil
	}
	tl.AxisY, tl.TextY = num(y), num(y+16)
	tl.Width, tl.Height = num(chartW), num(y+axisH)
	tl.Ticks, tl.Caption = ticks(dom)
	return tl
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	if n < 2 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// series is the worker count of one Gunicorn log, drawn as a step line.
type series struct {
	Source              string
	Width, Height       string
	PlotL, PlotR        string
	BaseY, TextY        string
	Path                string
	Marks               []mark
	Masters             []mark
	YTicks              []tick // X holds the y coordinate
	Ticks               []tick
	Caption             string
	Boots, Exits, Start int
	Most                int
}

type mark struct {
	Kind, X, Y, Tip string
}

// drawWorkers draws one chart per log. A series can hold many thousands
// of changes (a boot loop), so changes that fall on the same half pixel
// share one vertical stroke and one mark per kind: the page stays small
// whatever the series' length.
func drawWorkers(points []workers.Point, dom domain) []series {
	bySrc := map[string][]workers.Point{}
	for _, p := range points {
		if !p.Time.IsZero() {
			bySrc[p.Source] = append(bySrc[p.Source], p)
		}
	}
	var out []series
	for _, src := range slices.Sorted(maps.Keys(bySrc)) {
		ps := bySrc[src]
		slices.SortStableFunc(ps, func(a, b workers.Point) int { return a.Time.Compare(b.Time) })
		s := series{Source: src, Width: num(chartW), PlotL: num(plotL), PlotR: num(plotR)}
		for _, p := range ps {
			s.Most = max(s.Most, p.Live)
			switch p.Kind {
			case workers.KindBoot:
				s.Boots++
			case workers.KindExit:
				s.Exits++
			case workers.KindMaster:
				s.Start++
			}
		}
		top := max(s.Most, 1)
		base := workerH - workerAxis
		yOf := func(n int) float64 { return base - (base-workerTop)*float64(n)/float64(top) }
		s.BaseY, s.TextY, s.Height = num(base), num(base+16), num(workerH)
		for _, n := range yTicks(top) {
			s.YTicks = append(s.YTicks, tick{X: num(yOf(n)), Label: fmt.Sprint(n)})
		}
		s.Ticks, s.Caption = ticks(dom)

		var d strings.Builder
		type group struct {
			kind  string
			col   int
			first workers.Point
			last  workers.Point
			n     int
			pids  []string
		}
		var groups []*group
		find := func(kind string, col int) *group {
			for i := len(groups) - 1; i >= 0 && groups[i].col == col; i-- {
				if groups[i].kind == kind {
					return groups[i]
				}
			}
			return nil
		}
		col := -1
		for i, p := range ps {
			x := dom.x(p.Time)
			c := int(x * 2)
			if i == 0 {
				fmt.Fprintf(&d, "M%s %s", num(x), num(yOf(p.Live)))
			} else if c != col {
				fmt.Fprintf(&d, "H%s", num(x))
			}
			fmt.Fprintf(&d, "V%s", num(yOf(p.Live)))
			col = c
			g := find(p.Kind, c)
			if g == nil {
				g = &group{kind: p.Kind, col: c, first: p}
				groups = append(groups, g)
			}
			g.n++
			g.last = p
			if len(g.pids) < 5 && p.PID != "" && !slices.Contains(g.pids, p.PID) {
				g.pids = append(g.pids, p.PID)
			}
		}
		fmt.Fprintf(&d, "H%s", num(plotR))
		s.Path = d.String()
		for _, g := range groups {
			m := mark{Kind: g.kind, X: num(dom.x(g.first.Time)), Y: num(yOf(g.last.Live)), Tip: markTip(g.kind, g.n, g.first, g.last, g.pids)}
			if g.kind == workers.KindMaster {
				s.Masters = append(s.Masters, m)
			} else {
				s.Marks = append(s.Marks, m)
			}
		}
		out = append(out, s)
	}
	return out
}

func markTip(kind string, n int, first, last workers.Point, pids []string) string {
	what := map[string]string{
		workers.KindBoot:   "worker booted",
		workers.KindExit:   "worker gone",
		workers.KindMaster: "master started",
	}[kind]
	var b strings.Builder
	b.WriteString(fmtTime(first.Time))
	if n > 1 {
		fmt.Fprintf(&b, " to %s: %d× %s", fmtTime(last.Time), n, what)
	} else {
		fmt.Fprintf(&b, ": %s", what)
	}
	if len(pids) > 0 {
		fmt.Fprintf(&b, " (pid %s", strings.Join(pids, ", "))
		if n > len(pids) {
			b.WriteString(", …")
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, "; %d live", last.Live)
	return b.String()
}

// yTicks picks up to five round counts (steps of 1, 2, 5, 10, 20...)
// from 0 to top.
func yTicks(top int) []int {
	step := 1
	for i := 0; top/step > 4; i++ {
		step = []int{2, 5, 10}[i%3] * pow10(i/3)
	}
	var out []int
	for n := 0; n <= top; n += step {
		out = append(out, n)
	}
	return out
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}
