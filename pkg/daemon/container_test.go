package daemon_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// containerFiles are one container's output (Gunicorn's error and access
// logs, nginx's, the app's prints on one stream) as `docker logs` prints
// it, as docker's json-file driver stores it (with a line split into
// partial entries) and as a CRI runtime stores it (P chunks then F);
// testdata/container/gen.py writes them.
var containerFiles = []string{"plain.log", "docker-json.log", "cri.log"}

// failureMarks are texts of the failure lines in those files: every record
// that holds one must be read in its own format, never as unknown text.
var failureMarks = []string{"WORKER TIMEOUT", "SIGKILL", "Error handling request", "upstream prematurely closed", `" 502 `}

// TestContainerStreamsParsed: in every form of the container's output, the
// failure lines are parsed in their own format.
func TestContainerStreamsParsed(t *testing.T) {
	for _, name := range containerFiles {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("../../testdata/container", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ps := parse.NewStream(parse.StreamConfig{Location: time.UTC, Reference: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
			seen := map[string]int{}
			check := func(evs []*parse.Event) {
				for _, ev := range evs {
					for _, m := range failureMarks {
						if !strings.Contains(ev.Raw, m) {
							continue
						}
						seen[m]++
						if ev.Format == parse.FormatUnknown {
							t.Errorf("failure line read as text of no known format: %q", ev.Raw)
						}
					}
				}
			}
			sc := bufio.NewScanner(f)
			var off int64
			for sc.Scan() {
				check(ps.Add(sc.Text(), off))
				off += int64(len(sc.Bytes())) + 1
			}
			check(ps.Flush())
			for _, m := range failureMarks {
				if seen[m] == 0 {
					t.Errorf("no record holds %q", m)
				}
			}
		})
	}
}

// TestContainerStreamsScanAndRun: `scan` and `run` raise the same incidents
// from each form of the container's output, and the three forms raise the
// same incidents (rule, first seen, count; the evidence's offsets differ
// with the envelope).
func TestContainerStreamsScanAndRun(t *testing.T) {
	cat, set := builtin(t)
	var first []string
	for _, name := range containerFiles {
		mtime := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
		paths := copyLogs(t, []string{filepath.Join("../../testdata/container", name)}, mtime)
		scanned := scanFiles(t, cat, set, paths)
		if len(story(scanned)) == 0 {
			t.Fatalf("%s: scan raised nothing", name)
		}
		ran := runFiles(t, cat, set, paths, mtime)
		if s, r := story(scanned), story(ran); !slices.Equal(s, r) {
			t.Errorf("%s: scan and run differ\nscan: %q\nrun:  %q", name, s, r)
		}
		if first == nil {
			first = summarize(scanned)
		} else if s := summarize(scanned); !slices.Equal(first, s) {
			t.Errorf("%s raises other incidents than %s\n%q\n%q", name, containerFiles[0], s, first)
		}
	}
}

// TestCorpusScanAndRun: every excerpt of the shared corpus of real logs
// (when it is beside the project) gives the same incidents from `scan` and
// from `run`.
func TestCorpusScanAndRun(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/corpus/wild/*.log")
	if len(files) == 0 {
		t.Skip("no corpus at ../shared/corpus/wild")
	}
	if testing.Short() {
		t.Skip("runs the daemon on every excerpt")
	}
	cat, set := builtin(t)
	for _, src := range files {
		t.Run(filepath.Base(src), func(t *testing.T) {
			t.Parallel()
			st, err := os.Stat(src)
			if err != nil {
				t.Fatal(err)
			}
			compareStories(t, cat, set, copyLogs(t, []string{src}, st.ModTime()), st.ModTime())
		})
	}
}

// builtin is the built-in catalog, compiled.
func builtin(t testing.TB) (*catalog.Catalog, *match.Set) {
	t.Helper()
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		t.Fatal(err)
	}
	set, err := match.Compile(cat)
	if err != nil {
		t.Fatal(err)
	}
	return cat, set
}

// summarize is each incident's final state as "rule first_seen count"
// (what was superseded left out).
func summarize(incs []*incident.Incident) []string {
	last := map[string]*incident.Incident{}
	for _, inc := range incs {
		last[inc.ID] = inc
	}
	var out []string
	for _, inc := range last {
		if inc.Status == incident.StatusSuperseded {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s %d", inc.Rule, inc.FirstSeen.UTC().Format(time.RFC3339), inc.Count))
	}
	slices.Sort(out)
	return out
}
