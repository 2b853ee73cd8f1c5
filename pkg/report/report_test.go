package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/report"
	"github.com/sigtail/sigtail/pkg/workers"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.html from the current output")

func TestGolden(t *testing.T) {
	got := render(t, sampleData())
	golden := filepath.Join("testdata", "golden.html")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("output differs from %s at line %d:\n got %.300q\nwant %.300q\n(go test -run TestGolden -update if the change is meant)", golden, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("output differs from %s in length: %d lines, want %d", golden, len(gl), len(wl))
	}
}

// scriptTags are the page's own: the data block and the script.
const scriptTags = 2

func TestEscaping(t *testing.T) {
	d := sampleData()
	// Log text in every place the page shows it.
	inc := d.Incidents[0]
	inc.Title = "OOM " + hostile
	inc.Rule = `gunicorn.x"><script>alert(4)</script>`
	inc.Summary = hostile
	inc.Fields["uri"] = hostile
	inc.Sources = append(inc.Sources, `/var/log/<script>alert(5)</script>.log`)
	d.Host = `<img src=x onerror=alert(6)>`
	d.Files[0].Name = `/tmp/"><script>alert(7)</script>`
	d.Files[3].Err = hostile
	d.Workers[0].Source = `<script>alert(8)</script>`
	out := string(render(t, d))

	lower := strings.ToLower(out)
	for _, raw := range []string{"<script>alert", "<img src=x", `"><script`, "<iframe"} {
		if strings.Contains(lower, strings.ToLower(raw)) {
			i := strings.Index(lower, strings.ToLower(raw))
			t.Errorf("raw %q in the output: ...%s...", raw, out[max(0, i-80):min(len(out), i+80)])
		}
	}
	if n := strings.Count(lower, "<script"); n != scriptTags {
		t.Errorf("%d <script tags, want the page's own %d", n, scriptTags)
	}
	// The text is there, escaped: in HTML for the table, in JSON for the
	// details (which the script sets as text).
	if !strings.Contains(out, "OOM GET /&lt;script&gt;alert(1)&lt;/script&gt;?q=&#34;&gt;&lt;img src=x onerror=alert(2)&gt; HTTP/1.1") {
		t.Error("the title is not in the table, HTML-escaped")
	}
	p := payload(t, out)
	if got := p.Incidents[0].Evidence[2].Line; !strings.Contains(got, hostile) {
		t.Errorf("evidence line in the data block = %q, want it to hold %q as text", got, hostile)
	}
	// A reference that is not a web link stays text: the script only
	// links http(s) URLs, and the data carries it as given.
	if !slices.Contains(p.Incidents[0].References, "javascript:alert(3)") {
		t.Error("references lost")
	}
}

type payloadView struct {
	Incidents []struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Evidence []struct {
			Line string `json:"line"`
			Cut  bool   `json:"cut"`
		} `json:"evidence"`
		EvidenceMore int      `json:"evidence_more"`
		References   []string `json:"references"`
	} `json:"incidents"`
}

// payload decodes the page's data block as the script's JSON.parse would.
func payload(t *testing.T, page string) payloadView {
	t.Helper()
	_, block, ok := strings.Cut(page, `<script type="application/json" id="report-data">`)
	block, _, ok2 := strings.Cut(block, "</script>")
	if !ok || !ok2 {
		t.Fatal("no data block in the page")
	}
	var p payloadView
	if err := json.Unmarshal([]byte(block), &p); err != nil {
		t.Fatalf("data block is not JSON: %v", err)
	}
	return p
}

func TestEmpty(t *testing.T) {
	for name, d := range map[string]*report.Data{"nil": nil, "zero": {}, "files only": {Files: []report.File{{Name: "a.log", Format: "gunicorn", Lines: 3}}}} {
		t.Run(name, func(t *testing.T) {
			out := string(render(t, d))
			for _, want := range []string{"No incidents: nothing in these logs matched a rule.", `id="no-workers"`, "No Gunicorn worker boots or exits were seen.", "whole files"} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in the page", want)
				}
			}
			if strings.Contains(out, `id="timeline"`) || strings.Contains(out, `data-incident-id="`) {
				t.Error("a timeline or an incident in an empty report")
			}
			if p := payload(t, out); p.Incidents == nil || len(p.Incidents) != 0 {
				t.Errorf("data block incidents = %v, want []", p.Incidents)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a := render(t, sampleData())
	d := sampleData()
	slices.Reverse(d.Incidents) // the caller's order does not matter
	b := render(t, d)
	if !bytes.Equal(a, b) {
		t.Error("same incidents in another order give another page")
	}
	for range 5 { // map order
		if !bytes.Equal(a, render(t, sampleData())) {
			t.Fatal("two renderings of the same data differ")
		}
	}
}

// TestOrderAndLanes checks the table's order (most severe, then first)
// and that an incident seen in three logs has a bar in each of their lanes.
func TestOrderAndLanes(t *testing.T) {
	out := string(render(t, sampleData()))
	rows := regexp.MustCompile(`<tr class="[^"]*" data-incident-id="([0-9a-f]+)"`).FindAllStringSubmatch(out, -1)
	var ids []string
	for _, m := range rows {
		ids = append(ids, m[1])
	}
	want := []string{"f1885e13f8659215", "2b0c6a41d9e07f13", "9d1e22c0aa71b5e0", "50e1b7f3c2d84a96"}
	if !slices.Equal(ids, want) {
		t.Errorf("table order %v, want %v", ids, want)
	}
	if n := strings.Count(out, `<g class="inc sev-critical st-resolved" data-incident-id="f1885e13f8659215"`); n != 3 {
		t.Errorf("the OOM incident has %d bars, want one in each of Gunicorn, nginx and kernel", n)
	}
	for _, lane := range []string{"Gunicorn", "nginx", "kernel", "probe"} {
		if !strings.Contains(out, `data-lane="`+lane+`"`) {
			t.Errorf("no %s lane", lane)
		}
	}
	if strings.Contains(out, `data-lane="Caddy"`) {
		t.Error("an empty Caddy lane is drawn")
	}
	for _, tick := range []string{">10:00<", ">10:10<", ">10:20<"} {
		if !strings.Contains(out, tick) {
			t.Errorf("no axis tick %s", tick)
		}
	}
}

// TestMany keeps a page of thousands of incidents bounded: evidence is
// capped per incident and per line, overlapping bars share rows.
func TestMany(t *testing.T) {
	d := &report.Data{GeneratedAt: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	long := strings.Repeat("x", 20<<10)
	for i := range 1000 {
		inc := &incident.Incident{
			ID: fmt.Sprintf("%016x", i), Rule: "nginx.access_502", Title: "502 burst",
			Severity:  incident.Severity(1 + i%3),
			Status:    incident.StatusResolved,
			FirstSeen: at("09:00:00").Add(time.Duration(i) * time.Second), LastSeen: at("09:00:00").Add(time.Duration(i+300) * time.Second),
			Count: 80, Sources: []string{"/var/log/nginx/access.log"},
		}
		for j := range 60 {
			line := "GET /x"
			if j == 0 && i%10 == 0 {
				line = long
			}
			inc.Evidence = append(inc.Evidence, incident.Evidence{Time: inc.FirstSeen, Source: "/var/log/nginx/access.log", Signature: "nginx.access_502", Line: line})
		}
		d.Incidents = append(d.Incidents, inc)
	}
	for i := range 20000 {
		d.Workers = append(d.Workers, workers.Point{Time: at("09:00:00").Add(time.Duration(i) * 100 * time.Millisecond), Source: "g.log", Kind: workers.KindBoot, PID: fmt.Sprint(i), Live: i % 7})
	}
	start := time.Now()
	out := string(render(t, d))
	t.Logf("%d incidents: %d KiB in %v", len(d.Incidents), len(out)>>10, time.Since(start))
	p := payload(t, out)
	if len(p.Incidents) != 1000 {
		t.Fatalf("%d incidents in the data, want 1000", len(p.Incidents))
	}
	// Shared out, the page's evidence budget leaves each incident its
	// first record, cut if long, and what else fits.
	for _, inc := range p.Incidents {
		if len(inc.Evidence) == 0 || len(inc.Evidence[0].Line) > 4<<10 || inc.Evidence[0].Cut != (len(inc.Evidence[0].Line) > 100) {
			t.Fatalf("incident %s: first record not shown, or not cut to 4 KiB", inc.ID)
		}
		if n := len(inc.Evidence) + inc.EvidenceMore; n != 60 {
			t.Fatalf("incident %s: %d records shown and counted, want 60", inc.ID, n)
		}
	}
	// Alone, an incident shows up to 50.
	one := payload(t, string(render(t, &report.Data{Incidents: d.Incidents[:1]}))).Incidents[0]
	if len(one.Evidence) != 50 || one.EvidenceMore != 10 {
		t.Errorf("one incident: evidence shown %d, more %d; want 50 and 10", len(one.Evidence), one.EvidenceMore)
	}
	if n := strings.Count(out, `class="pt `); n > 5000 {
		t.Errorf("%d worker marks drawn for 20000 points; want them merged per half pixel", n)
	}
	if len(out) > 12<<20 {
		t.Errorf("page of %d MiB", len(out)>>20)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriteError(t *testing.T) {
	if err := report.Write(failWriter{}, sampleData()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write to a failing writer: %v", err)
	}
}
