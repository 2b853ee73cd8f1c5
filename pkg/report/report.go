// Package report writes what a scan found as one self-contained HTML page:
// a timeline of the incidents across the logs, a table of them, the
// Gunicorn worker count over time, and what was read. A click (or Enter)
// on an incident opens its details: evidence, remediation, diagnostics.
//
// The page needs nothing but itself: its style and script are inline, it
// loads no font, image or script and makes no request, so it can be mailed,
// attached to a ticket or opened on an air-gapped host. Everything that
// came from a log is text to the page: html/template escapes it for the
// context it lands in, the details travel to the script as JSON in a
// <script type="application/json"> block, and the script builds the DOM
// with textContent only.
//
// The same Data always gives the same bytes: the page holds no clock of
// its own (GeneratedAt is an input) and shows every time in UTC.
package report

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/workers"
)

// Data is what a page shows.
type Data struct {
	Title string
	Host  string
	// GeneratedAt is when the report was made; the caller's clock, never
	// read here.
	GeneratedAt time.Time
	// Since and Until are the scan's window, zero when unbounded.
	Since, Until time.Time
	Files        []File
	Incidents    []*incident.Incident
	// Workers is the worker count series of the Gunicorn logs
	// (workers.Counter.Series).
	Workers []workers.Point
}

// File is what was read from one input.
type File struct {
	Name, Format         string
	Lines, Records, Hits int64
	Err                  string // why it could not be read, or was read in part
}

// Caps that keep a page of thousands of incidents usable. An incident
// already keeps only its first records as evidence; these bound what a
// page carries of them whatever the caller's --max-evidence. The page's
// evidence budget is shared out among its incidents, each getting at
// least its first record.
const (
	maxEvidence       = 50       // evidence records shown per incident
	maxEvidenceLine   = 4 << 10  // bytes shown of one record (a joined traceback can be 64 KiB)
	evidenceBudget    = 8 << 20  // bytes of evidence per page
	minIncidentBudget = 4 << 10  // bytes of evidence an incident may always show
	maxIncidentBudget = 64 << 10 // bytes of evidence an incident shows at most
	evidenceOverhead  = 96       // bytes a record costs besides its texts (JSON keys, time)
)

var (
	//go:embed page.html.tmpl
	pageTemplate string
	//go:embed page.css
	pageCSS string
	//go:embed page.js
	pageJS string

	page = template.Must(template.New("page").Parse(pageTemplate))

	// csp lets the page run its own style and script, by their hashes,
	// and nothing else: no request of any kind, and no script that an
	// escaping mistake might let in (an inline handler, an injected
	// <script>) would run.
	csp = template.HTML(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; ` +
		`style-src '` + sha256Source(pageCSS) + `'; script-src '` + sha256Source(pageJS) + `'; ` +
		`base-uri 'none'; form-action 'none'">`)
)

func sha256Source(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// Write writes the page of d to w. Its errors are w's.
func Write(w io.Writer, d *Data) error {
	if d == nil {
		d = &Data{}
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, build(d)); err != nil {
		return fmt.Errorf("report: rendering the page: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: writing the page: %w", err)
	}
	return nil
}

// view is what the template renders: every string formatted, every
// coordinate computed, so the template only places them.
type view struct {
	Title, Host, Generated, Window string
	Files                          []File
	Counts                         []sevCount
	Total                          int
	Timeline                       *timeline
	Untimed                        int // incidents without a time: in the table only
	Rows                           []row
	Workers                        []series
	WorkersNote                    string
	Payload                        payload
	CSP                            template.HTML
	CSS                            template.CSS
	JS                             template.JS
}

type sevCount struct {
	Severity string
	N        int
}

// row is one incident in the summary table.
type row struct {
	ID, Severity, Status, Rule, Title, First, Last, Sources string
	Count                                                   int
}

// payload is what the script reads: the details of every incident, in the
// table's order.
type payload struct {
	Incidents []details `json:"incidents"`
}

type details struct {
	ID           string               `json:"id"`
	Rule         string               `json:"rule"`
	Title        string               `json:"title"`
	Summary      string               `json:"summary,omitempty"`
	Severity     string               `json:"severity"`
	Status       string               `json:"status"`
	SupersededBy string               `json:"superseded_by,omitempty"`
	First        string               `json:"first"`
	Last         string               `json:"last"`
	Count        int                  `json:"count"`
	Host         string               `json:"host,omitempty"`
	Sources      []string             `json:"sources"`
	Fields       [][2]string          `json:"fields"`
	Values       []values             `json:"values"`
	Evidence     []evidence           `json:"evidence"`
	EvidenceMore int                  `json:"evidence_more,omitempty"`
	Remediation  string               `json:"remediation,omitempty"`
	Diagnostics  []incident.Command   `json:"diagnostics"`
	Parameters   []incident.Parameter `json:"parameters"`
	Insights     []string             `json:"insights"`
	Related      []string             `json:"related"`
	References   []string             `json:"references"`
}

type values struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

type evidence struct {
	Time      string `json:"time"`
	Source    string `json:"source"`
	LineNo    int64  `json:"line_no,omitempty"`
	Signature string `json:"signature"`
	Line      string `json:"line"`
	Cut       bool   `json:"cut,omitempty"`
}

func build(d *Data) *view {
	v := &view{
		Title:     cmp.Or(d.Title, "sigtail report"),
		Host:      d.Host,
		Generated: fmtTimeZ(d.GeneratedAt),
		Window:    window(d.Since, d.Until),
		Files:     d.Files,
		CSP:       csp,
		CSS:       template.CSS(pageCSS),
		JS:        template.JS(pageJS),
	}
	incs := make([]*incident.Incident, 0, len(d.Incidents))
	for _, inc := range d.Incidents {
		if inc != nil {
			incs = append(incs, inc)
		}
	}
	// The table and the details: most severe first, then by time.
	slices.SortStableFunc(incs, func(a, b *incident.Incident) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			a.FirstSeen.Compare(b.FirstSeen),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.ID, b.ID),
		)
	})
	bySev := map[incident.Severity]int{}
	budget := min(max(evidenceBudget/max(len(incs), 1), minIncidentBudget), maxIncidentBudget)
	for _, inc := range incs {
		bySev[inc.Severity]++
		v.Rows = append(v.Rows, row{
			ID:       inc.ID,
			Severity: sevName(inc.Severity),
			Status:   string(inc.Status),
			Rule:     inc.Rule,
			Title:    inc.Title,
			First:    fmtTime(inc.FirstSeen),
			Last:     fmtTime(inc.LastSeen),
			Count:    inc.Count,
			Sources:  strings.Join(inc.Sources, ", "),
		})
		v.Payload.Incidents = append(v.Payload.Incidents, detailsOf(inc, budget))
		if inc.FirstSeen.IsZero() {
			v.Untimed++
		}
	}
	v.Total = len(incs)
	for _, s := range slices.Backward(slices.Sorted(maps.Keys(bySev))) {
		v.Counts = append(v.Counts, sevCount{sevName(s), bySev[s]})
	}
	formats := map[string]string{}
	for _, f := range d.Files {
		formats[f.Name] = f.Format
	}
	dom := domainOf(d, incs)
	v.Timeline = drawTimeline(incs, formats, dom)
	v.Workers = drawWorkers(d.Workers, dom)
	if len(v.Workers) == 0 {
		v.WorkersNote = "No Gunicorn worker boots or exits were seen."
	}
	if v.Payload.Incidents == nil {
		v.Payload.Incidents = []details{}
	}
	return v
}

// detailsOf is what the details panel shows of inc, with at most budget
// bytes of evidence.
func detailsOf(inc *incident.Incident, budget int) details {
	dt := details{
		ID:           inc.ID,
		Rule:         inc.Rule,
		Title:        inc.Title,
		Summary:      inc.Summary,
		Severity:     sevName(inc.Severity),
		Status:       string(inc.Status),
		SupersededBy: inc.SupersededBy,
		First:        fmtTimeZ(inc.FirstSeen),
		Last:         fmtTimeZ(inc.LastSeen),
		Count:        inc.Count,
		Host:         inc.Host,
		Sources:      orEmpty(inc.Sources),
		Fields:       [][2]string{},
		Values:       []values{},
		Evidence:     []evidence{},
		EvidenceMore: inc.EvidenceDropped,
		Remediation:  inc.Remediation,
		Diagnostics:  orEmpty(inc.Diagnostics),
		Parameters:   orEmpty(inc.Parameters),
		Insights:     orEmpty(inc.Insights),
		Related:      orEmpty(inc.Related),
		References:   orEmpty(inc.References),
	}
	for _, k := range slices.Sorted(maps.Keys(inc.Fields)) {
		dt.Fields = append(dt.Fields, [2]string{k, inc.Fields[k]})
	}
	for _, k := range slices.Sorted(maps.Keys(inc.Values)) {
		dt.Values = append(dt.Values, values{k, orEmpty(inc.Values[k])})
	}
	used := 0
	for i, e := range inc.Evidence {
		if i == maxEvidence || (i > 0 && used+min(len(e.Line), maxEvidenceLine) > budget) {
			dt.EvidenceMore += len(inc.Evidence) - i
			break
		}
		line, cut := cutLine(e.Line)
		used += len(line) + len(e.Source) + len(e.Signature) + evidenceOverhead
		dt.Evidence = append(dt.Evidence, evidence{
			Time:      fmtTime(e.Time),
			Source:    e.Source,
			LineNo:    e.LineNo,
			Signature: e.Signature,
			Line:      line,
			Cut:       cut,
		})
	}
	return dt
}

// cutLine shortens a record to maxEvidenceLine bytes, on a rune boundary.
func cutLine(s string) (string, bool) {
	if len(s) <= maxEvidenceLine {
		return s, false
	}
	n := maxEvidenceLine
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// orEmpty makes a nil slice an empty one, so the script meets [] rather
// than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sevName(s incident.Severity) string {
	switch s {
	case incident.SeverityCritical, incident.SeverityWarning, incident.SeverityInfo:
		return s.String()
	}
	return "none"
}

// fmtTime shows a time in UTC, to the second, or to the millisecond when
// it has a fraction (kernel records do).
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	if t.Nanosecond() != 0 {
		return t.Format("2006-01-02 15:04:05.000")
	}
	return t.Format(time.DateTime)
}

// fmtTimeZ is fmtTime saying its zone, where a time stands alone.
func fmtTimeZ(t time.Time) string {
	if t.IsZero() {
		return fmtTime(t)
	}
	return fmtTime(t) + " UTC"
}

func window(since, until time.Time) string {
	switch {
	case since.IsZero() && until.IsZero():
		return "whole files"
	case until.IsZero():
		return "from " + fmtTimeZ(since)
	case since.IsZero():
		return "until " + fmtTimeZ(until)
	}
	return fmtTime(since) + " to " + fmtTimeZ(until)
}

// num formats an SVG coordinate: one decimal, always the same bytes.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
