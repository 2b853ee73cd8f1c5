package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/correlate"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/scan"
)

var update = flag.Bool("update", false, "rewrite want.json golden files")

func config(t testing.TB) scan.Config {
	t.Helper()
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		t.Fatal(err)
	}
	set, err := match.Compile(cat)
	if err != nil {
		t.Fatal(err)
	}
	return scan.Config{
		Catalog: cat, Set: set, Location: time.UTC,
		StdinTime: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Correlate: correlate.Options{Host: "test-host"},
	}
}

// caseDirs are the scenario folders: the shipped sample logs and every
// folder under testdata/scan. Each holds input logs and want.json.
func caseDirs(t *testing.T) []string {
	dirs := []string{"../../testdata/sample"}
	entries, err := os.ReadDir("../../testdata/scan")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("../../testdata/scan", e.Name()))
		}
	}
	return dirs
}

func inputs(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || n == "want.json" || strings.HasSuffix(n, ".md") {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	slices.Sort(out)
	return out
}

// TestScenarios scans each scenario folder and compares the incidents with
// its want.json (refresh with -update after an intended change).
func TestScenarios(t *testing.T) {
	cfg := config(t)
	for _, dir := range caseDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files := inputs(t, dir)
			res, err := scan.Run(context.Background(), cfg, files)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Files {
				if f.Err != nil {
					t.Errorf("%s: %v", f.Name, f.Err)
				}
				if f.Unparsed > 0 {
					t.Errorf("%s: %d record(s) of no known format", f.Name, f.Unparsed)
				}
			}
			checkGolden(t, dir, res, "go test ./pkg/scan -update")
		})
	}
}

// checkGolden compares a scan's incidents with dir/want.json (rewritten
// with -update), paths made relative to dir.
func checkGolden(t *testing.T, dir string, res *scan.Result, refresh string) {
	t.Helper()
	for _, inc := range res.Incidents {
		for i := range inc.Sources {
			inc.Sources[i] = filepath.Base(inc.Sources[i])
		}
		for i := range inc.Evidence {
			inc.Evidence[i].Source = filepath.Base(inc.Evidence[i].Source)
		}
	}
	got, err := json.MarshalIndent(res.Incidents, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join(dir, "want.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run %s to create it)", err, refresh)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("incidents differ from %s (run %s and review the diff):\n%s", golden, refresh, diffLines(string(want), string(got)))
	}
}

// diffLines shows the first lines where two texts differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

// TestRotatedEqualsWhole: a log split by rotation, the oldest part
// compressed, gives the incidents of the whole log, as many and as long.
func TestRotatedEqualsWhole(t *testing.T) {
	cfg := config(t)
	whole, err := scan.Run(context.Background(), cfg, []string{"../../testdata/sample/gunicorn-error.log"})
	if err != nil {
		t.Fatal(err)
	}
	dir := "../../testdata/scan/rotated"
	parts, err := scan.Run(context.Background(), cfg, []string{dir + "/error.log.2.gz", dir + "/error.log.1", dir + "/error.log"})
	if err != nil {
		t.Fatal(err)
	}
	sum := func(r *scan.Result) []string {
		var out []string
		for _, inc := range r.Incidents {
			out = append(out, fmt.Sprintf("%s %s %d %s %s", inc.Rule, inc.Severity, inc.Count, inc.FirstSeen, inc.LastSeen))
		}
		return out
	}
	if w, p := sum(whole), sum(parts); !slices.Equal(w, p) {
		t.Errorf("whole log:\n%s\nrotated parts:\n%s", strings.Join(w, "\n"), strings.Join(p, "\n"))
	}
	if !parts.Files[0].Compressed {
		t.Error("error.log.2.gz not read as gzip")
	}
}
