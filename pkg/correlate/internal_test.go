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

// TestGroupLimit: a rule grouped by a value new on every record keeps at
// most MaxGroups groups; the oldest are closed (their incidents resolved),
// the caller is told, and one warning incident says so.
func TestGroupLimit(t *testing.T) {
	r := rule("r.per_client", 1, 0, time.Hour, "client")
	closed := 0
	e := New(&catalog.Catalog{Rules: []*catalog.Rule{r}}, Options{Host: "h", MaxGroups: 100, Closed: func(rule string, n int) {
		if rule != "r.per_client" {
			t.Errorf("closed groups of %s", rule)
		}
		closed += n
	}})
	resolved := 0
	emit := func(inc *incident.Incident) {
		if inc.Rule == "r.per_client" && inc.Status == incident.StatusResolved {
			resolved++
		}
	}
	sig := &match.Signature{ID: "sig.a"}
	for i := range 5000 {
		ev := parse.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), Raw: "x", Source: "a.log", Offset: int64(i)}
		e.Observe(&ev, []match.Hit{{Signature: sig, Captures: []match.Capture{{Name: "client", Value: fmt.Sprint("10.0.", i/256, ".", i%256)}}}}, emit)
		if n := len(e.rules["r.per_client"].states); n > 100 {
			t.Fatalf("record %d: %d groups open, want at most 100", i, n)
		}
	}
	if closed < 4900 || resolved != closed {
		t.Errorf("closed %d groups, resolved %d incidents; want about 4900 of each", closed, resolved)
	}
	var limit *incident.Incident
	for _, inc := range e.Open() {
		if inc.Rule == RuleGroupLimit {
			limit = inc
		}
	}
	if limit == nil || limit.Severity != incident.SeverityWarning || limit.Fields["rule"] != "r.per_client" || limit.Count < 490 {
		t.Fatalf("the limit incident: %+v", limit)
	}
	if want := "Rule r.per_client had more than 100 incidents and pending groups at once"; limit.Summary[:len(want)] != want {
		t.Errorf("summary %q", limit.Summary)
	}
}
