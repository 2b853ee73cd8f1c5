package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/correlate"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/report"
	"github.com/sigtail/sigtail/pkg/scan"
	"github.com/sigtail/sigtail/pkg/workers"
)

// browserTimeout bounds a whole browser test, start of Chromium included,
// so that it can never hang CI.
const browserTimeout = 60 * time.Second

// chromium finds a Chromium or Chrome binary, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not found: apt-get install chromium to run the report's browser test")
	return ""
}

// artifacts is where a test leaves its page and screenshots: under
// $SIGTAIL_ARTIFACTS (CI keeps it), else in a temporary directory.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SIGTAIL_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium tab that records what a report must
// never do: write an error to the console, throw, or reach for anything
// but its own file.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	b := &browser{ctx: ctx}
	// Listen is the ordered listener (ListenTarget before chromedp 0.20):
	// every event is seen before the command that follows it returns.
	if err := chromedp.Listen(ctx, b.watch); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return b
}

// watch runs in the tab's read loop: it only records.
func (b *browser) watch(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			p = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = fmt.Sprintf("exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, d.Text)
		if d.Exception != nil {
			p += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		// The browser's own log: a CSP refusal, a failed load.
		if ev.Entry.Level == log.EntryLevelError {
			p = fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		if u := ev.Request.URL; !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
			p = "network request: " + u
		}
	}
	if p != "" {
		b.mu.Lock()
		b.problems = append(b.problems, p)
		b.mu.Unlock()
	}
}

func (b *browser) check(t *testing.T) {
	t.Helper()
	for _, p := range b.seen() {
		t.Error(p)
	}
}

func (b *browser) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open writes d's page to dir and loads it.
func (b *browser) open(t *testing.T, d *report.Data, dir string) {
	t.Helper()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Write(f, d); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	u := (&url.URL{Scheme: "file", Path: abs}).String()
	b.do(t, "loading "+u, chromedp.Navigate(u))
	t.Logf("page: %s", page)
}

func (b *browser) screenshot(t *testing.T, dir, name string, full bool) {
	t.Helper()
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100) // 100: PNG
	}
	png := run(t, b, "screenshot", shot)
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sampleScan scans the repository's sample logs as `make run` does
// (sigtail scan --timezone UTC --host sample-host testdata/sample/*.log).
func sampleScan(t *testing.T) *report.Data {
	t.Helper()
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		t.Fatal(err)
	}
	set, err := match.Compile(cat)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "testdata", "sample")
	var paths []string
	for _, name := range []string{"gunicorn-error.log", "nginx-error.log", "nginx-access.log", "kern.log"} {
		paths = append(paths, filepath.Join(dir, name))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The worker series comes from the records the scan reads anyway, as
	// sigtail scan --report takes it.
	counter := workers.NewCounter(workers.WithSeries(10_000))
	res, err := scan.Run(ctx, scan.Config{
		Catalog:   cat,
		Set:       set,
		Location:  time.UTC,
		Correlate: correlate.Options{Host: "sample-host", MaxEvidence: 10},
		Keep:      workers.Signatures,
		Observe:   func(ev *parse.Event, hits []match.Hit) { counter.Observe(ev.Source, ev, hits) },
	}, paths)
	if err != nil {
		t.Fatal(err)
	}
	d := &report.Data{
		Title:       "sigtail scan of the sample logs",
		Host:        "sample-host",
		GeneratedAt: time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC),
		Incidents:   res.Incidents,
		Workers:     counter.Series(),
	}
	for _, f := range res.Files {
		rf := report.File{Name: f.Name, Format: string(f.Format), Lines: f.Lines, Records: f.Records, Hits: f.Hits}
		if f.Err != nil {
			rf.Err = f.Err.Error()
		}
		d.Files = append(d.Files, rf)
	}
	if len(d.Incidents) == 0 || len(d.Workers) == 0 {
		t.Fatalf("the sample scan found %d incidents and %d worker changes", len(d.Incidents), len(d.Workers))
	}
	return d
}

func TestBrowser(t *testing.T) {
	start := time.Now()
	b := newBrowser(t)
	d := sampleScan(t)
	dir := artifacts(t)
	b.open(t, d, dir)
	b.do(t, "waiting for the timeline", chromedp.WaitVisible(chromedp.ID("timeline")))
	b.screenshot(t, dir, "report.png", true)

	// Every incident is in the timeline and in the table.
	var ids []string
	for _, inc := range d.Incidents {
		ids = append(ids, inc.ID)
	}
	idsJSON, _ := json.Marshal(ids)
	counts := run(t, b, "counting incidents", chromedp.Evaluate[map[string][2]int](`(function (ids) {
		var out = {};
		ids.forEach(function (id) {
			var sel = '[data-incident-id="' + CSS.escape(id) + '"]';
			out[id] = [document.querySelectorAll('#timeline ' + sel).length,
			           document.querySelectorAll('#incident-table tr' + sel).length];
		});
		return out;
	})(`+string(idsJSON)+`)`))
	for _, id := range ids {
		if c := counts[id]; c[0] == 0 || c[1] != 1 {
			t.Errorf("incident %s: %d bar(s) in the timeline and %d row(s) in the table; want at least 1 and 1", id, c[0], c[1])
		}
	}

	// A click on a bar opens its details.
	inc := pick(t, d.Incidents)
	bar := chromedp.CSS(`#timeline g[data-incident-id="` + inc.ID + `"] rect`)
	b.do(t, "clicking the incident", chromedp.Click(bar), chromedp.WaitVisible(chromedp.ID("details")))
	details := run(t, b, "reading the details", chromedp.TextContent(chromedp.ID("details")))
	for what, want := range map[string]string{
		"title":       inc.Title,
		"evidence":    inc.Evidence[0].Line,
		"remediation": inc.Remediation,
		"diagnostic":  inc.Diagnostics[0].Command,
	} {
		if !strings.Contains(details, want) {
			t.Errorf("details panel lacks the %s %.120q", what, want)
		}
	}
	code := run(t, b, "reading the diagnostics", chromedp.TextContent(chromedp.CSS("#details li code")))
	if code != inc.Diagnostics[0].Command {
		t.Errorf("first diagnostic in <code> = %q, want %q", code, inc.Diagnostics[0].Command)
	}
	b.screenshot(t, dir, "details.png", false)

	// Escape closes it; the keyboard opens another, from the table.
	other := d.Incidents[len(d.Incidents)-1]
	b.do(t, "closing with Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("details")))
	b.do(t, "opening with Enter",
		chromedp.Focus(chromedp.CSS(`#incident-table button[data-incident-id="`+other.ID+`"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("details")))
	title := run(t, b, "reading the title", chromedp.TextContent(chromedp.ID("details-title")))
	if title != other.Title {
		t.Errorf("Enter on %s opened %q, want %q", other.ID, title, other.Title)
	}

	// The worker series is drawn, with its marks.
	marks := run(t, b, "counting worker marks", chromedp.Evaluate[int](`document.querySelectorAll('svg.workers-chart .pt').length`))
	path := run(t, b, "reading the step line", chromedp.AttributeValue(chromedp.CSS("svg.workers-chart path.step"), "d"))
	if marks == 0 || len(path.Value) < 10 {
		t.Errorf("worker chart: %d marks, step line %q; want marks and a line", marks, path.Value)
	}
	b.check(t)
	t.Logf("%d incidents, %d worker points, %d marks; browser test took %v", len(d.Incidents), len(d.Workers), marks, time.Since(start).Round(time.Millisecond))
}

// pick chooses an incident worth clicking: seen in several logs, with
// evidence, remediation and diagnostics.
func pick(t *testing.T, incs []*incident.Incident) *incident.Incident {
	t.Helper()
	for _, inc := range incs {
		if len(inc.Sources) > 1 && len(inc.Evidence) > 0 && inc.Remediation != "" && len(inc.Diagnostics) > 0 {
			return inc
		}
	}
	t.Fatal("no incident of the sample scan has evidence, remediation and diagnostics")
	return nil
}

// TestBrowserInjection loads a page whose log text tries to run script,
// and opens its details so that the script builds the panel from it.
func TestBrowserInjection(t *testing.T) {
	b := newBrowser(t)
	const (
		tag  = `<script>window.__pwned=1</script>`
		attr = `"><img src=x onerror="window.__pwned=2">`
	)
	d := sampleData()
	inc := d.Incidents[0]
	inc.Title = "title " + tag + attr
	inc.Summary = attr
	inc.Remediation = tag
	inc.Fields["uri"] = attr
	inc.Diagnostics[0].Command = attr
	inc.Evidence[0].Line = tag
	inc.Evidence[1].Line = attr
	inc.Evidence[1].Source = tag
	inc.Sources = append(inc.Sources, attr)
	inc.References = append(inc.References, `javascript:window.__pwned=3`)
	d.Host = attr
	d.Files[0].Name = tag
	d.Workers[0].Source = attr
	dir := artifacts(t)
	b.open(t, d, dir)
	b.do(t, "opening the details",
		chromedp.WaitVisible(chromedp.ID("timeline")),
		chromedp.Click(chromedp.CSS(`#timeline g[data-incident-id="`+inc.ID+`"] rect`)),
		chromedp.WaitVisible(chromedp.ID("details")))
	b.screenshot(t, dir, "report.png", true)
	pwned := run(t, b, "reading window.__pwned", chromedp.Evaluate[string](`typeof window.__pwned`))
	if pwned != "undefined" {
		t.Errorf("window.__pwned is %s: log text ran as script", pwned)
	}
	details := run(t, b, "reading the details", chromedp.TextContent(chromedp.ID("details")))
	for _, want := range []string{tag, attr} {
		if !strings.Contains(details, want) {
			t.Errorf("the details do not show %q as text", want)
		}
	}
	links := run(t, b, "counting javascript: links", chromedp.Evaluate[int](`document.querySelectorAll('a[href^="javascript:"]').length`))
	if links != 0 {
		t.Errorf("%d javascript: links in the page", links)
	}
	b.check(t)
}

// TestBrowserWatch proves the watch sees what it is there to see: a page
// that logs an error, throws and reaches for the network.
func TestBrowserWatch(t *testing.T) {
	b := newBrowser(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><title>bad</title><img src="http://127.0.0.1:9/x.png">` +
		`<script>console.error("boom"); throw new Error("bang");</script>`
	if err := os.WriteFile(page, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(t, "loading the bad page", chromedp.Navigate((&url.URL{Scheme: "file", Path: page}).String()))
	got := strings.Join(b.seen(), "\n")
	for _, want := range []string{`console.error: "boom"`, "exception", "bang", "network request: http://127.0.0.1:9/x.png"} {
		if !strings.Contains(got, want) {
			t.Errorf("the watch missed %q; it saw:\n%s", want, got)
		}
	}
}
