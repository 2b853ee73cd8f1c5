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
