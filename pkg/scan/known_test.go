package scan_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/scan"
)

// TestSampleReportsEveryKnownErrorSignature: the sample logs hold an
// instance of each error signature of the knowledge page; scanning them
// must report each one (through one of the catalog signatures that cover
// it) in an incident with a severity and a remediation.
func TestSampleReportsEveryKnownErrorSignature(t *testing.T) {
	cfg := config(t)
	files, _ := filepath.Glob("../../testdata/sample/*.log")
	cfg.Correlate.MaxEvidence = 1000 // keep every record, to look for each signature
	res, err := scan.Run(context.Background(), cfg, files)
	if err != nil {
		t.Fatal(err)
	}
	reported := map[string]*incident.Incident{} // signature id -> an incident holding it
	for _, inc := range res.Incidents {
		if inc.Severity == incident.SeverityNone || inc.Remediation == "" {
			t.Errorf("incident %s (%s) lacks a severity or a remediation", inc.ID, inc.Rule)
		}
		for _, ev := range inc.Evidence {
			for _, sig := range strings.Split(ev.Signature, ",") {
				reported[sig] = inc
			}
		}
	}
	var entries []string
	for _, sig := range cfg.Catalog.Signatures {
		for _, e := range sig.Covers {
			if !slices.Contains(entries, e) {
				entries = append(entries, e)
			}
		}
	}
	if len(entries) != 24 {
		t.Errorf("the catalog covers %d error signatures, want the page's 24", len(entries))
	}
	for _, e := range entries {
		var by []string
		for _, sig := range cfg.Catalog.Signatures {
			if inc, ok := reported[sig.ID]; ok && slices.Contains(sig.Covers, e) {
				by = append(by, sig.ID+" in "+inc.Rule+" ("+inc.Severity.String()+")")
			}
		}
		if len(by) == 0 {
			t.Errorf("error signature %q: no incident reports it", e)
			continue
		}
		t.Logf("%-85q %v", e, by)
	}
}
