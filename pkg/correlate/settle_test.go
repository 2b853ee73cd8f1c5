package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
)

// TestSettle: at the end of a scan's input, an absence still waiting is
// raised as its rule's at_end says, with every trigger it saw, saying how
// long the logs went on; a followed one is not.
func TestSettle(t *testing.T) {
	for _, tt := range []struct {
		name     string
		atEnd    catalog.AtEnd
		feeds    []feed
		severity incident.Severity // 0: no incident
		count    int
	}{
		{"info by default", catalog.AtEndInfo, []feed{{0, "g.trigger", nil}, {3, "other", nil}}, incident.SeverityInfo, 1},
		{"raise: the record proves it", catalog.AtEndRaise, []feed{{0, "g.trigger", nil}, {1, "g.trigger", nil}, {2, "g.trigger", nil}}, incident.SeverityCritical, 3},
		{"nothing", catalog.AtEndNothing, []feed{{0, "g.trigger", nil}}, 0, 0},
		{"followed: nothing to settle", catalog.AtEndRaise, []feed{{0, "g.trigger", nil}, {1, "g.follow", nil}}, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &catalog.Rule{ID: "r.abs", Title: "abs", Summary: "waited", Severity: incident.SeverityCritical, Detectable: true,
				Kind: catalog.KindAbsence, Signatures: []string{"g.trigger", "g.follow"}, Absent: []string{"g.follow"},
				Within: time.Minute, Count: 1, Cooldown: time.Hour, AtEnd: tt.atEnd}
			e := New(&catalog.Catalog{Rules: []*catalog.Rule{r}}, Options{Host: "h"})
			var got []*incident.Incident
			emit := func(inc *incident.Incident) { got = append(got, inc) }
			for _, f := range tt.feeds {
				observe(e, f.at, f.sig, "1", emit)
			}
			e.Flush(emit)
			e.Settle(emit)
			if tt.severity == 0 {
				if len(got) != 0 {
					t.Fatalf("raised %+v", got[0])
				}
				return
			}
			if len(got) != 1 || got[0].Severity != tt.severity || got[0].Count != tt.count || !strings.Contains(got[0].Summary, "the logs end") {
				t.Fatalf("got %d incidents: %+v", len(got), got)
			}
		})
	}
}

// TestSequenceUnless: a record of an unless signature voids the steps seen
// before it, whatever their group; steps after it still make the sequence.
func TestSequenceUnless(t *testing.T) {
	r := &catalog.Rule{ID: "r.boot", Title: "boot", Severity: incident.SeverityCritical, Detectable: true, Kind: catalog.KindSequence,
		Steps: [][]string{{"g.boot"}, {"g.timeout"}}, Signatures: []string{"g.boot", "g.timeout", "n.served"}, Unless: []string{"n.served"},
		Ordered: true, Within: 2 * time.Minute, Join: []string{"pid"}, Count: 1, Cooldown: time.Minute}
	for _, tt := range []struct {
		name  string
		feeds []feed
		want  int
	}{
		{"boot then timeout", []feed{{0, "g.boot", pid7()}, {30, "g.timeout", pid7()}}, 1},
		{"a request served between them", []feed{{0, "g.boot", pid7()}, {5, "n.served", nil}, {30, "g.timeout", pid7()}}, 0},
		{"served before the boot", []feed{{0, "n.served", nil}, {1, "g.boot", pid7()}, {31, "g.timeout", pid7()}}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := multi(t, []*catalog.Rule{r}, tt.feeds, 60)["r.boot"]; len(got) != tt.want {
				t.Errorf("%d incidents, want %d", len(got), tt.want)
			}
		})
	}
}

func pid7() map[string]string { return map[string]string{"pid": "7"} }

// TestAbsenceRecovered: the awaited record coming after the absence's
// incident opened ends it at once (the service started again), and what
// comes after is no longer taken in.
func TestAbsenceRecovered(t *testing.T) {
	r := &catalog.Rule{ID: "r.down", Title: "down", Severity: incident.SeverityCritical, Detectable: true, Kind: catalog.KindAbsence,
		Signatures: []string{"g.shutdown", "g.start"}, Absent: []string{"g.start"}, Within: time.Minute, Count: 1, Cooldown: time.Hour}
	child := &catalog.Rule{ID: "r.exits", Title: "exits", Severity: incident.SeverityInfo, Detectable: true, Signatures: []string{"g.exit"},
		Count: 1, Cooldown: time.Minute, YieldTo: []catalog.Yield{{Rule: "r.down", Within: 30 * time.Second}}}
	got := multi(t, []*catalog.Rule{r, child}, []feed{{0, "g.shutdown", nil}, {90, "other", nil}, {100, "g.start", nil}, {110, "g.exit", nil}}, 120)
	if len(got["r.down"]) != 1 || got["r.down"][0].Status != incident.StatusResolved || !got["r.down"][0].LastSeen.Before(t0.Add(101*time.Second)) {
		t.Fatalf("service down: %+v", got["r.down"])
	}
	if len(got["r.exits"]) != 1 {
		t.Errorf("a worker exit after the recovery was taken in: %v", got)
	}
}
