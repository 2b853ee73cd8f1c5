package correlate

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// oomRules are a sequence (the kernel's kill, then the master's SIGKILL of
// the same pid) and a rule of the SIGKILL alone that yields to it.
func oomRules() []*catalog.Rule {
	seq := seqRule(false)
	seq.Insights = []string{"OOM"}
	sigkill := &catalog.Rule{ID: "r.sigkill", Title: "sigkill", Summary: "SIGKILL of {pid}", Severity: incident.SeverityWarning,
		Detectable: true, Signatures: []string{"gunicorn.sigkill"}, Count: 1, Cooldown: time.Minute, Insights: []string{"sigkill insight"},
		YieldTo: []catalog.Yield{{Rule: "r.seq", Within: 30 * time.Second, Join: []string{"pid"}}}}
	return []*catalog.Rule{seq, sigkill}
}

// TestSupersede: a record a later one explains raises its own incident at
// once; the explaining incident takes it over and closes it as superseded
// (all of it), or updated and smaller (some of it).
func TestSupersede(t *testing.T) {
	pid := func(p string) map[string]string { return map[string]string{"pid": p} }
	tests := []struct {
		name  string
		feeds []feed
		// want: rule -> status, count of its incidents in order
		want map[string][]string
	}{
		{"explanation first: joined at once, nothing superseded",
			[]feed{{0, "kernel.kill", pid("7")}, {1, "gunicorn.sigkill", pid("7")}},
			map[string][]string{"r.seq": {"open 2"}}},
		{"explanation later: the SIGKILL incident is superseded",
			[]feed{{0, "gunicorn.sigkill", pid("7")}, {3, "kernel.kill", pid("7")}},
			map[string][]string{"r.seq": {"open 2"}, "r.sigkill": {"superseded 1"}}},
		{"explanation of one pid of two: the SIGKILL incident stays with the other",
			[]feed{{0, "gunicorn.sigkill", pid("7")}, {1, "gunicorn.sigkill", pid("8")}, {3, "kernel.kill", pid("7")}},
			map[string][]string{"r.seq": {"open 2"}, "r.sigkill": {"open 1"}}},
		{"explanation of another pid: nothing taken",
			[]feed{{0, "gunicorn.sigkill", pid("7")}, {1, "kernel.kill", pid("9")}},
			map[string][]string{"r.sigkill": {"open 1"}}},
		{"explanation too late: nothing taken",
			[]feed{{0, "gunicorn.sigkill", pid("7")}, {45, "kernel.kill", pid("7")}, {46, "gunicorn.sigkill", pid("7")}},
			map[string][]string{"r.seq": {"open 2"}, "r.sigkill": {"open 1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string][]string{}
			byID := map[string]*incident.Incident{}
			for _, inc := range run(t, oomRules(), tt.feeds, 50) {
				got[inc.Rule] = append(got[inc.Rule], fmt.Sprintf("%s %d", inc.Status, inc.Count))
				byID[inc.ID] = inc
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for _, inc := range byID {
				if inc.Status != incident.StatusSuperseded {
					continue
				}
				by := byID[inc.SupersededBy]
				if by == nil || by.Rule != "r.seq" || !slices.Contains(by.Related, "r.sigkill") || !slices.Contains(by.Insights, "sigkill insight") {
					t.Errorf("superseded by %q: %+v", inc.SupersededBy, by)
				}
				if len(inc.Evidence) != 1 {
					t.Errorf("a superseded incident keeps its evidence: %+v", inc.Evidence)
				}
			}
		})
	}
}

// TestSupersedeEmitsInOrder: the consumer sees the SIGKILL incident open,
// then the OOM incident open with both records, then the SIGKILL incident
// superseded by it.
func TestSupersedeEmitsInOrder(t *testing.T) {
	e := New(&catalog.Catalog{Rules: oomRules()}, Options{Host: "h"})
	var seen []string
	emit := func(inc *incident.Incident) {
		seen = append(seen, fmt.Sprintf("%s %s %d %s", inc.Rule, inc.Status, inc.Count, inc.SupersededBy))
	}
	observe(e, 0, "gunicorn.sigkill", "7", emit)
	observe(e, 2, "kernel.kill", "7", emit)
	open := e.Open()
	if len(open) != 1 || open[0].Rule != "r.seq" {
		t.Fatalf("open: %v", open)
	}
	want := []string{"r.sigkill open 1 ", "r.seq open 2 ", "r.sigkill superseded 1 " + open[0].ID}
	if !slices.Equal(seen, want) {
		t.Errorf("emitted %q, want %q", seen, want)
	}
}

func observe(e *Engine, at float64, sig, pid string, emit Emit) {
	ev := parse.Event{Time: t0.Add(time.Duration(at * float64(time.Second))), Raw: sig + " " + pid, Source: "x.log", Offset: int64(at * 100)}
	h := match.Hit{Signature: &match.Signature{ID: sig}, Captures: []match.Capture{{Name: "pid", Value: pid}}}
	e.Observe(&ev, []match.Hit{h}, emit)
}

// TestIDsIncludeHost: two hosts never share an incident id; one host's
// ids are stable.
func TestIDsIncludeHost(t *testing.T) {
	id := func(host string) string {
		e := New(&catalog.Catalog{Rules: []*catalog.Rule{rule("r.one", 1, 0, time.Minute)}}, Options{Host: host})
		observe(e, 0, "sig.a", "1", func(*incident.Incident) {})
		return e.Open()[0].ID
	}
	if a, b, c := id("web-1"), id("web-2"), id("web-1"); a == b || a != c {
		t.Errorf("ids web-1 %s, web-2 %s, web-1 again %s: want the first two different, the first and last equal", a, b, c)
	}
}

// TestValuesAreLists: a value holding a comma is one value; several values
// are a list, never joined.
func TestValuesAreLists(t *testing.T) {
	r := rule("r.bind", 1, 0, time.Minute, "address")
	r.Summary = "cannot bind {address}"
	all := rule("r.all", 1, 0, time.Minute)
	all.Summary = "cannot bind {address}"
	e := New(&catalog.Catalog{Rules: []*catalog.Rule{r, all}}, Options{Host: "h"})
	for i, addr := range []string{"('127.0.0.1', 8000)", "('127.0.0.1', 8001)"} {
		ev := parse.Event{Time: t0.Add(time.Duration(i) * time.Second), Raw: "Connection in use: " + addr, Source: "g.log", Offset: int64(i)}
		h := match.Hit{Signature: &match.Signature{ID: "sig.a"}, Captures: []match.Capture{{Name: "address", Value: addr}}}
		e.Observe(&ev, []match.Hit{h}, func(*incident.Incident) {})
	}
	var bind []string
	for _, inc := range e.Open() {
		switch inc.Rule {
		case "r.bind":
			if inc.Values != nil {
				t.Errorf("one address per incident, got values %v", inc.Values)
			}
			bind = append(bind, inc.Fields["address"])
		case "r.all":
			if inc.Fields["address"] != "('127.0.0.1', 8000)" || !slices.Equal(inc.Values["address"], []string{"('127.0.0.1', 8000)", "('127.0.0.1', 8001)"}) {
				t.Errorf("fields %v values %v", inc.Fields, inc.Values)
			}
			if inc.Summary != "cannot bind ('127.0.0.1', 8000), ('127.0.0.1', 8001)" {
				t.Errorf("summary %q", inc.Summary)
			}
		}
	}
	if !slices.Equal(bind, []string{"('127.0.0.1', 8000)", "('127.0.0.1', 8001)"}) {
		t.Errorf("bind incidents by address: %q", bind)
	}
}
