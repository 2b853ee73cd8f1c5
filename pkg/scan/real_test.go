package scan_test

import (
	"bufio"
	"context"
	scen "github.com/sigtail/sigtail/internal/scenario"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigtail/sigtail/pkg/scan"
)

// realDir holds the logs that the end-to-end test (cmd/sigtail/e2e_test.go,
// `make e2e`) captured from real Gunicorn 20.1 and nginx 1.22, one folder
// per scenario, so that what the real servers print stays covered without
// running them.
const realDir = "../../testdata/real"

var realLogNames = []string{"gunicorn-error.log", "nginx-error.log", "nginx-access.log"}

// TestRealLogs scans each folder of real logs and checks the incidents two
// ways: against the folder's expect.txt (the rules that must and must not
// be raised, in the insight scenarios' syntax: expect, expect-not,
// expect-total) and against its want.json golden (refresh with -update and
// review the diff).
//
// A scan ends where the logs end, so it can differ from what the daemon said
// during the end-to-end run: an absence whose deadline falls after the last
// line (a master stopped for good, a master that never booted a worker) is
// not decided here.
func TestRealLogs(t *testing.T) {
	cfg := config(t)
	dirs, err := os.ReadDir(realDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(realDir, d.Name())
		t.Run(d.Name(), func(t *testing.T) {
			var files []string
			for _, name := range realLogNames {
				p := filepath.Join(dir, name)
				if _, err := os.Stat(p); err == nil {
					files = append(files, p)
				}
			}
			res, err := scan.Run(context.Background(), cfg, files)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Files {
				if f.Err != nil {
					t.Errorf("%s: %v", f.Name, f.Err)
				}
				if f.Unparsed > 0 {
					t.Errorf("%s: %d record(s) of no known format (detected %q)", filepath.Base(f.Name), f.Unparsed, f.Format)
				}
			}
			for _, x := range readExpect(t, filepath.Join(dir, "expect.txt")) {
				if msg := check(x, res.Incidents); msg != "" {
					t.Errorf("%s/expect.txt:%d: %s %s: %s", d.Name(), x.Line, x.Kind, x.Rule, msg)
				}
			}
			checkGolden(t, dir, res, "go test ./pkg/scan -run TestRealLogs -update")
		})
	}
	if n == 0 {
		t.Fatalf("no real logs under %s", realDir)
	}
}

// readExpect reads an expect.txt: expectations one a line, # comments.
func readExpect(t *testing.T, path string) []scen.Expectation {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v: every folder of real logs says what a scan of it must raise", err)
	}
	defer f.Close()
	var out []scen.Expectation
	sc := bufio.NewScanner(f)
	for i := 1; sc.Scan(); i++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		fields := strings.Fields(rest)
		if (word != "expect" && word != "expect-not" && word != "expect-total") || len(fields) == 0 {
			t.Fatalf("%s:%d: want expect RULE [COND...], expect-not RULE or expect-total N, got %q", path, i, line)
		}
		out = append(out, scen.Expectation{Line: i, Kind: word, Rule: fields[0], Conds: fields[1:]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no expectation", path)
	}
	return out
}
