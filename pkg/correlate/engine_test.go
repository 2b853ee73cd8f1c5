package correlate

import (
	"fmt"
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
			want:  []want{{incident.StatusOpen, 3, 0, 20, 3, 0, "3 x 1,2,3"}},
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
			name:  "late events do not move the clock back",
			rule:  rule("r.one", 1, 0, time.Minute),
			feeds: []feed{{100, "sig.a", nil}, {50, "sig.a", nil}},
			end:   100,
			want:  []want{{incident.StatusOpen, 2, 100, 100, 2, 0, "2 x ?"}},
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
