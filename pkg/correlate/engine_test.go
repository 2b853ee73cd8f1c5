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

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// feed is one event in a test script: seconds after t0 (negative: no
// time), the signature it hits and its captures.
type feed struct {
	at   float64
	sig  string
	caps map[string]string
}

func run(t *testing.T, rules []*catalog.Rule, feeds []feed, end float64) []*incident.Incident {
	t.Helper()
	e := New(&catalog.Catalog{Rules: rules}, Options{Host: "h", MaxEvidence: 3})
	var got []*incident.Incident
	final := map[string]*incident.Incident{}
	emit := func(inc *incident.Incident) {
		if _, ok := final[inc.ID]; !ok {
			got = append(got, inc)
		}
		final[inc.ID] = inc
	}
	sigs := map[string]*match.Signature{}
	for i, f := range feeds {
		ev := parse.Event{Format: parse.FormatGunicorn, Raw: fmt.Sprintf("line %d", i), Source: "g.log", Offset: int64(i * 10)}
		if f.at >= 0 {
			ev.Time = t0.Add(time.Duration(f.at * float64(time.Second)))
		}
		sig := sigs[f.sig]
		if sig == nil {
			sig = &match.Signature{ID: f.sig}
			sigs[f.sig] = sig
		}
		h := match.Hit{Signature: sig}
		for k, v := range f.caps {
			h.Captures = append(h.Captures, match.Capture{Name: k, Value: v})
		}
		e.Observe(&ev, []match.Hit{h}, emit)
	}
	e.Advance(t0.Add(time.Duration(end*float64(time.Second))), emit)
	e.Flush(emit)
	for _, inc := range e.Open() {
		emit(inc)
	}
	for i, inc := range got {
		got[i] = final[inc.ID]
	}
	return got
}

func rule(id string, count int, window, cooldown time.Duration, groupBy ...string) *catalog.Rule {
	return &catalog.Rule{ID: id, Title: id, Summary: "{count} x {pid}", Severity: incident.SeverityCritical,
		Detectable: true, Signatures: []string{"sig.a", "sig.b"}, Count: count, Window: window, Cooldown: cooldown, GroupBy: groupBy}
}

type want struct {
	status   incident.Status
	count    int
	first    float64
	last     float64
	evidence int
	dropped  int
	summary  string
}

func TestEngine(t *testing.T) {
	pid := func(p string) map[string]string { return map[string]string{"pid": p} }
	tests := []struct {
		name  string
		rule  *catalog.Rule
		feeds []feed
		end   float64
		want  []want
	}{
		{
			name:  "single hits in one incident",
			rule:  rule("r.one", 1, 0, time.Minute),
			feeds: []feed{{0, "sig.a", pid("1")}, {10, "sig.a", pid("2")}, {20, "sig.b", pid("3")}},
			end:   30,
			want:  []want{{incident.StatusOpen, 3, 0, 20, 3, 0, "3 x 1, 2, 3"}},
		},
		{
			name:  "quiet period resolves, a later hit opens anew",
			rule:  rule("r.one", 1, 0, time.Minute),
			feeds: []feed{{0, "sig.a", nil}, {30, "sig.a", nil}, {200, "sig.a", nil}},
			end:   210,
			want:  []want{{incident.StatusResolved, 2, 0, 30, 2, 0, "2 x ?"}, {incident.StatusOpen, 1, 200, 200, 1, 0, "1 x ?"}},
		},
		{
			name:  "burst below count is nothing",
			rule:  rule("r.burst", 5, time.Minute, time.Minute),
			feeds: []feed{{0, "sig.a", nil}, {10, "sig.a", nil}, {20, "sig.a", nil}, {30, "sig.a", nil}, {100, "sig.a", nil}},
			end:   100,
			want:  nil,
		},
		{
			name: "burst reaching count within window",
			rule: rule("r.burst", 3, 10*time.Second, time.Minute),
			feeds: []feed{{0, "sig.a", nil}, {20, "sig.a", nil}, {25, "sig.a", nil}, {29, "sig.a", nil},
				{30, "sig.a", nil}},
			end:  40,
			want: []want{{incident.StatusOpen, 4, 20, 30, 3, 1, "4 x ?"}},
		},
		{
			name:  "group_by splits",
			rule:  rule("r.group", 1, 0, time.Minute, "pid"),
			feeds: []feed{{0, "sig.a", pid("1")}, {1, "sig.a", pid("2")}, {2, "sig.a", pid("1")}},
			end:   3,
			want:  []want{{incident.StatusOpen, 2, 0, 2, 2, 0, "2 x 1"}, {incident.StatusOpen, 1, 1, 1, 1, 0, "1 x 2"}},
		},
		{
			name:  "events without time take the clock",
			rule:  rule("r.one", 1, 0, time.Minute),
			feeds: []feed{{5, "sig.a", nil}, {-1, "sig.a", nil}},
			end:   6,
			want:  []want{{incident.StatusOpen, 2, 5, 5, 2, 0, "2 x ?"}},
		},
		{
			// (the late record keeps its own time as evidence)
			name:  "a late event moves neither the clock back nor a reported first_seen",
			rule:  rule("r.one", 1, 0, time.Minute),
			feeds: []feed{{100, "sig.a", nil}, {50, "sig.a", nil}, {155, "sig.a", nil}},
			end:   155,
			want:  []want{{incident.StatusOpen, 3, 100, 155, 3, 0, "3 x ?"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, []*catalog.Rule{tt.rule}, tt.feeds, tt.end)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d incidents, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				sec := func(x float64) time.Time { return t0.Add(time.Duration(x * float64(time.Second))) }
				if g.Status != w.status || g.Count != w.count || !g.FirstSeen.Equal(sec(w.first)) || !g.LastSeen.Equal(sec(w.last)) ||
					len(g.Evidence) != w.evidence || g.EvidenceDropped != w.dropped || g.Summary != w.summary {
					t.Errorf("incident %d: got status %s count %d first %s last %s evidence %d dropped %d summary %q\nwant %+v",
						i, g.Status, g.Count, g.FirstSeen.Sub(t0), g.LastSeen.Sub(t0), len(g.Evidence), g.EvidenceDropped, g.Summary, w)
				}
				if g.Host != "h" || g.Rule != tt.rule.ID || g.ID == "" {
					t.Errorf("incident %d: host %q rule %q id %q", i, g.Host, g.Rule, g.ID)
				}
			}
		})
	}
}

// TestFloodIsOneIncident: ten thousand WORKER TIMEOUT lines are one
// incident with count 10000 and capped evidence, and updates are throttled.
func TestFloodIsOneIncident(t *testing.T) {
	r := rule("r.flood", 1, 0, 5*time.Minute)
	e := New(&catalog.Catalog{Rules: []*catalog.Rule{r}}, Options{MaxEvidence: 10})
	emitted := 0
	emit := func(*incident.Incident) { emitted++ }
	sig := &match.Signature{ID: "sig.a"}
	for i := range 10000 {
		ev := parse.Event{Time: t0.Add(time.Duration(i) * 100 * time.Millisecond), Raw: "WORKER TIMEOUT", Source: "g.log", Offset: int64(i) * 20}
		e.Observe(&ev, []match.Hit{{Signature: sig}}, emit)
	}
	open := e.Open()
	if len(open) != 1 || open[0].Count != 10000 || len(open[0].Evidence) != 10 || open[0].EvidenceDropped != 9990 {
		t.Fatalf("got %d incidents; first: %+v", len(open), *open[0])
	}
	// 1000 s of events with updates at most once a minute: 1 open + <= 17 updates.
	if emitted > 18 {
		t.Errorf("emitted %d times for one incident over 1000s, want at most 18", emitted)
	}
}

// TestSameIDForSameInput: incident ids depend only on the input.
func TestSameIDForSameInput(t *testing.T) {
	r := rule("r.one", 1, 0, time.Minute)
	a := run(t, []*catalog.Rule{r}, []feed{{0, "sig.a", nil}}, 1)
	b := run(t, []*catalog.Rule{r}, []feed{{0, "sig.a", nil}}, 1)
	c := run(t, []*catalog.Rule{r}, []feed{{1, "sig.a", nil}}, 1)
	if a[0].ID != b[0].ID || a[0].ID == c[0].ID {
		t.Errorf("ids: %s %s %s; want the first two equal and the third different", a[0].ID, b[0].ID, c[0].ID)
	}
}

// multi runs several rules over a script and returns the final incidents by
// rule id.
func multi(t *testing.T, rules []*catalog.Rule, feeds []feed, end float64) map[string][]*incident.Incident {
	t.Helper()
	out := map[string][]*incident.Incident{}
	for _, inc := range run(t, rules, feeds, end) {
		out[inc.Rule] = append(out[inc.Rule], inc)
	}
	return out
}

func seqRule(ordered bool) *catalog.Rule {
	return &catalog.Rule{ID: "r.seq", Title: "seq", Severity: incident.SeverityCritical, Detectable: true, Kind: catalog.KindSequence,
		Steps: [][]string{{"kernel.kill"}, {"gunicorn.sigkill"}}, Signatures: []string{"kernel.kill", "gunicorn.sigkill"},
		Ordered: ordered, Within: 30 * time.Second, Join: []string{"pid"}, Count: 1, Cooldown: time.Minute}
}

func TestSequence(t *testing.T) {
	pid := func(p string) map[string]string { return map[string]string{"pid": p} }
	tests := []struct {
		name    string
		ordered bool
		feeds   []feed
		count   int // incidents of r.seq
		pids    string
	}{
		{"both steps, same pid", false, []feed{{0, "gunicorn.sigkill", pid("7")}, {1, "kernel.kill", pid("7")}}, 1, "7"},
		{"other pid does not join", false, []feed{{0, "gunicorn.sigkill", pid("7")}, {1, "kernel.kill", pid("8")}}, 0, ""},
		{"too far apart", false, []feed{{0, "kernel.kill", pid("7")}, {31, "gunicorn.sigkill", pid("7")}}, 0, ""},
		{"ordered: wrong order", true, []feed{{0, "gunicorn.sigkill", pid("7")}, {1, "kernel.kill", pid("7")}}, 0, ""},
		{"ordered: right order", true, []feed{{0, "kernel.kill", pid("7")}, {1, "gunicorn.sigkill", pid("7")}}, 1, "7"},
		{"two pids, two incidents", false, []feed{{0, "kernel.kill", pid("7")}, {0, "kernel.kill", pid("8")},
			{1, "gunicorn.sigkill", pid("8")}, {2, "gunicorn.sigkill", pid("7")}}, 2, "8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := multi(t, []*catalog.Rule{seqRule(tt.ordered)}, tt.feeds, 5)["r.seq"]
			if len(got) != tt.count {
				t.Fatalf("%d incidents, want %d: %+v", len(got), tt.count, got)
			}
			if tt.count > 0 && (got[0].Count != 2 || got[0].Fields["pid"] != tt.pids) {
				t.Errorf("count %d pid %q, want 2 and %q", got[0].Count, got[0].Fields["pid"], tt.pids)
			}
		})
	}
}

func TestAbsence(t *testing.T) {
	r := &catalog.Rule{ID: "r.down", Title: "down", Severity: incident.SeverityCritical, Detectable: true, Kind: catalog.KindAbsence,
		Signatures: []string{"g.shutdown", "g.start"}, Absent: []string{"g.start"}, Within: time.Minute, Count: 1, Cooldown: time.Hour}
	tests := []struct {
		name  string
		feeds []feed
		end   float64
		want  int
	}{
		{"shutdown, nothing after", []feed{{0, "g.shutdown", nil}, {120, "other", nil}}, 120, 1},
		{"shutdown then start", []feed{{0, "g.shutdown", nil}, {5, "g.start", nil}, {120, "other", nil}}, 120, 0},
		{"start too late", []feed{{0, "g.shutdown", nil}, {90, "g.start", nil}}, 120, 1},
		{"log ends before the deadline", []feed{{0, "g.shutdown", nil}}, 30, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := multi(t, []*catalog.Rule{r}, tt.feeds, tt.end)["r.down"]
			if len(got) != tt.want {
				t.Fatalf("%d incidents, want %d", len(got), tt.want)
			}
			if tt.want == 1 && !got[0].FirstSeen.Equal(t0) {
				t.Errorf("first seen %v, want the shutdown's time", got[0].FirstSeen)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	r := &catalog.Rule{ID: "r.share", Title: "share", Severity: incident.SeverityWarning, Detectable: true, Kind: catalog.KindRatio,
		Signatures: []string{"any", "slow"}, RatioOf: []string{"slow"}, RatioAtLeast: 0.2, MinCount: 10, Window: time.Minute,
		Count: 1, Cooldown: time.Minute, SummaryNames: []string{"share"}, Summary: "{share} slow"}
	script := func(total, slow int) []feed {
		var f []feed
		for i := range total {
			sig := "any"
			if i%(total/max(slow, 1)) == 0 && slow > 0 {
				sig = "slow"
				slow--
			}
			f = append(f, feed{float64(i) * 0.5, sig, nil})
		}
		return f
	}
	if got := multi(t, []*catalog.Rule{r}, script(20, 2), 10)["r.share"]; len(got) != 0 {
		t.Errorf("10%% slow raised %d incidents", len(got))
	}
	if got := multi(t, []*catalog.Rule{r}, script(5, 5), 3)["r.share"]; len(got) != 0 {
		t.Errorf("below min_count raised %d incidents", len(got))
	}
	got := multi(t, []*catalog.Rule{r}, script(20, 10), 10)["r.share"]
	if len(got) != 1 || got[0].Summary == "? slow" {
		t.Fatalf("50%% slow: %d incidents %+v", len(got), got)
	}
}

// TestYield: a hit goes into the open incident of the rule it yields to,
// with its insights; without such an incident it raises its own.
func TestYield(t *testing.T) {
	target := seqRule(false)
	target.Insights = []string{"OOM"}
	child := &catalog.Rule{ID: "r.kernel", Title: "kernel", Severity: incident.SeverityCritical, Detectable: true,
		Signatures: []string{"kernel.kill"}, Count: 1, Cooldown: time.Minute, Insights: []string{"kernel insight"},
		YieldTo: []catalog.Yield{{Rule: "r.seq", Within: 30 * time.Second, Join: []string{"pid"}}}}
	pid := func(p string) map[string]string { return map[string]string{"pid": p} }

	got := multi(t, []*catalog.Rule{target, child}, []feed{{0, "kernel.kill", pid("7")}, {2, "gunicorn.sigkill", pid("7")}}, 60)
	// The kernel's record raised its own incident at once; the sequence
	// explained it two seconds later and took it over.
	if len(got["r.kernel"]) != 1 || len(got["r.seq"]) != 1 {
		t.Fatalf("joined: got %v incidents, want one of each", got)
	}
	inc, k := got["r.seq"][0], got["r.kernel"][0]
	if inc.Count != 2 || !slices.Contains(inc.Insights, "kernel insight") || !slices.Contains(inc.Related, "r.kernel") {
		t.Errorf("r.seq: count %d insights %v related %v", inc.Count, inc.Insights, inc.Related)
	}
	if k.Status != incident.StatusSuperseded || k.SupersededBy != inc.ID || k.Count != 1 {
		t.Errorf("r.kernel: status %s superseded by %q (want %q) count %d", k.Status, k.SupersededBy, inc.ID, k.Count)
	}

	got = multi(t, []*catalog.Rule{target, child}, []feed{{0, "kernel.kill", pid("7")}, {2, "gunicorn.sigkill", pid("9")}}, 60)
	if len(got["r.kernel"]) != 1 || len(got["r.seq"]) != 0 {
		t.Fatalf("not joined: got %v, want only r.kernel", got)
	}
	if !got["r.kernel"][0].FirstSeen.Equal(t0) {
		t.Errorf("a held hit keeps its own time: %v", got["r.kernel"][0].FirstSeen)
	}
}
