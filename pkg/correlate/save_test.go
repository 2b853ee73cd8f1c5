package correlate

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// TestSaveRestore: stopping anywhere in a script, saving, and going on in
// a new engine restored from the save gives the incidents of one engine
// that never stopped: open incidents stay open, windows, sequences,
// absences and ratios go on counting, takeovers still happen.
func TestSaveRestore(t *testing.T) {
	burst := rule("r.burst", 3, 10*time.Second, time.Minute)
	burst.Signatures = []string{"sig.b"}
	down := &catalog.Rule{ID: "r.down", Title: "down", Severity: incident.SeverityCritical, Detectable: true, Kind: catalog.KindAbsence,
		Signatures: []string{"g.shutdown", "g.start"}, Absent: []string{"g.start"}, Within: 20 * time.Second, Count: 1, Cooldown: time.Hour}
	share := &catalog.Rule{ID: "r.share", Title: "share", Severity: incident.SeverityWarning, Detectable: true, Kind: catalog.KindRatio,
		Signatures: []string{"any", "slow"}, RatioOf: []string{"slow"}, RatioAtLeast: 0.3, MinCount: 4, Window: time.Minute,
		Count: 1, Cooldown: time.Minute}
	rules := append(oomRules(), burst, down, share)
	pid := func(p string) map[string]string { return map[string]string{"pid": p} }
	feeds := []feed{
		{0, "gunicorn.sigkill", pid("7")}, {1, "sig.b", nil}, {2, "any", nil}, {3, "slow", nil},
		{4, "sig.b", nil}, {5, "kernel.kill", pid("7")}, {6, "g.shutdown", nil}, {7, "slow", nil},
		{8, "sig.b", nil}, {9, "any", nil}, {10, "gunicorn.sigkill", pid("8")}, {12, "slow", nil},
		{20, "sig.b", nil}, {31, "kernel.kill", pid("8")}, {40, "any", nil}, {50, "sig.b", nil},
	}
	script := func(e *Engine, fs []feed, emit Emit) {
		for i, f := range fs {
			ev := parse.Event{Time: t0.Add(time.Duration(f.at * float64(time.Second))), Raw: fmt.Sprintf("%s at %v", f.sig, f.at), Source: "g.log", Offset: int64(i)}
			h := match.Hit{Signature: &match.Signature{ID: f.sig}}
			for k, v := range f.caps {
				h.Captures = append(h.Captures, match.Capture{Name: k, Value: v})
			}
			e.Observe(&ev, []match.Hit{h}, emit)
		}
	}
	final := func(got map[string]*incident.Incident) string {
		var out []string
		for _, id := range slices.Sorted(maps.Keys(got)) {
			inc := got[id]
			out = append(out, fmt.Sprintf("%s %s %s count=%d first=%s last=%s evidence=%d by=%s", id, inc.Rule, inc.Status, inc.Count,
				inc.FirstSeen.Sub(t0), inc.LastSeen.Sub(t0), len(inc.Evidence), inc.SupersededBy))
		}
		return fmt.Sprint(out)
	}
	opts := Options{Host: "h"}
	whole := map[string]*incident.Incident{}
	keep := func(m map[string]*incident.Incident) Emit { return func(inc *incident.Incident) { m[inc.ID] = inc } }
	e := New(&catalog.Catalog{Rules: rules}, opts)
	script(e, feeds, keep(whole))
	e.Advance(t0.Add(2*time.Minute), keep(whole))
	want := final(whole)
	if len(whole) < 4 {
		t.Fatalf("the script raises too little to test anything: %s", want)
	}
	for cut := 1; cut < len(feeds); cut++ {
		got := map[string]*incident.Incident{}
		a := New(&catalog.Catalog{Rules: rules}, opts)
		script(a, feeds[:cut], keep(got))
		saved, err := a.Save()
		if err != nil {
			t.Fatal(err)
		}
		b := New(&catalog.Catalog{Rules: rules}, opts)
		if err := b.Restore(saved); err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		script(b, feeds[cut:], keep(got))
		b.Advance(t0.Add(2*time.Minute), keep(got))
		if g := final(got); g != want {
			t.Errorf("stopped after record %d:\n got %s\nwant %s", cut, g, want)
		}
	}
}

// TestRestoreRefuses: a state of another host, or not a state at all, is
// refused with an error, and the engine stays as it was.
func TestRestoreRefuses(t *testing.T) {
	a := New(&catalog.Catalog{Rules: oomRules()}, Options{Host: "web-1"})
	observe(a, 0, "gunicorn.sigkill", "7", func(*incident.Incident) {})
	saved, _ := a.Save()
	b := New(&catalog.Catalog{Rules: oomRules()}, Options{Host: "web-2"})
	for _, data := range [][]byte{saved, []byte("{"), []byte(`{"version": 99}`)} {
		if err := b.Restore(data); err == nil {
			t.Errorf("restored %.40q", data)
		}
	}
	if len(b.Open()) != 0 {
		t.Errorf("a refused state left incidents behind")
	}
}
