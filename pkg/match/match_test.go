package match_test

import (
	"strings"
	"testing"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

func builtin(t testing.TB) *match.Set {
	t.Helper()
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		t.Fatal(err)
	}
	set, err := match.Compile(cat)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func testCatalog(t *testing.T, sigs string) (*match.Set, error) {
	t.Helper()
	dir := t.TempDir()
	if err := writeCatalog(dir, sigs); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(osDirFS(dir), dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return match.Compile(cat)
}

func TestCompileErrorsCarryPositions(t *testing.T) {
	_, err := testCatalog(t, `signatures:
  - id: test.bad_regex
    description: x
    formats: [gunicorn]
    pattern: 'WORKER (TIMEOUT'
    samples: {match: [{line: a}], no_match: [{line: b}]}
  - id: test.regexp2_only
    description: x
    formats: [gunicorn]
    pattern: 'Worker (?=exiting)'
    samples: {match: [{line: a}], no_match: [{line: b}]}
  - id: test.bad_where
    description: x
    formats: [gunicorn]
    pattern: 'x'
    where: {level: '('}
    samples: {match: [{line: a}], no_match: [{line: b}]}
`)
	if err == nil {
		t.Fatal("Compile accepted a broken pattern")
	}
	msg := err.Error()
	for _, want := range []string{
		"signatures/test.yaml:2:5: test.bad_regex: pattern does not compile",
		"signatures/test.yaml:12:5: test.bad_where: where.level does not compile",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "test.regexp2_only") {
		t.Errorf("a lookahead should compile with regexp2: %v", msg)
	}
}

func TestSamplesChecked(t *testing.T) {
	set, err := testCatalog(t, `signatures:
  - id: test.timeout
    description: x
    formats: [gunicorn]
    pattern: 'WORKER TIMEOUT \(pid:(?P<pid>\d+)\)'
    samples:
      match:
        - line: '[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:12)'
          captures: {pid: "13"}
        - line: '[2026-11-24 10:00:00 +0000] [1] [INFO] Worker exiting (pid: 12)'
      no_match:
        - line: '[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:99)'
  - id: test.lookahead
    description: x
    formats: [gunicorn]
    pattern: 'Worker (?=exiting)'
    samples:
      match:
        - line: '[2026-11-24 10:00:00 +0000] [1] [INFO] Worker exiting (pid: 12)'
      no_match:
        - line: '[2026-11-24 10:00:00 +0000] [1] [INFO] Worker booting'
`)
	if err != nil {
		t.Fatal(err)
	}
	err = match.CheckSamples(set)
	if err == nil {
		t.Fatal("CheckSamples passed wrong samples")
	}
	msg := err.Error()
	for _, want := range []string{
		`:8:11: test.timeout: sample captures pid="12", want "13"`,
		`:10:11: test.timeout: sample does not match`,
		`:12:11: test.timeout: no_match sample matches`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error\n%s\ndoes not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "test.lookahead") {
		t.Errorf("the regexp2 signature's samples are right but were reported:\n%s", msg)
	}
}

// TestFieldScoping: a signature sees only its own formats' field, so a
// request URI holding Gunicorn's words fires nothing of Gunicorn's.
func TestFieldScoping(t *testing.T) {
	set := builtin(t)
	m := match.NewMatcher(set)
	line := `203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /WORKER%20TIMEOUT%20(pid:1235)?q=WORKER TIMEOUT (pid:1235) HTTP/1.1" 200 5 "-" "curl/8"`
	var ev parse.Event
	if !parse.For(parse.FormatNginxAccess).Parse(line, &parse.Context{}, &ev) {
		t.Fatal("access line does not parse")
	}
	for _, h := range m.Match(&ev, nil) {
		if strings.HasPrefix(h.Signature.ID, "gunicorn.") {
			t.Errorf("access log line fired %s", h.Signature.ID)
		}
	}
}

// TestMatchAllocatesNothingOnMiss: the common line costs no allocation.
func TestMatchAllocatesNothingOnMiss(t *testing.T) {
	set := builtin(t)
	m := match.NewMatcher(set)
	var ev parse.Event
	line := `[2026-11-24 10:00:00 +0000] [1234] [INFO] Booting worker with pid: 1240`
	parse.For(parse.FormatGunicorn).Parse(line, &parse.Context{}, &ev)
	ev.Message = "GET /api/items 200 ok and nothing else"
	hits := make([]match.Hit, 0, 8)
	allocs := testing.AllocsPerRun(100, func() { hits = m.Match(&ev, hits[:0]) })
	if allocs != 0 {
		t.Errorf("Match on a line matching nothing: %v allocs, want 0", allocs)
	}
}

// FuzzMatch checks the prefilter never hides a match: for any line of any
// format, Match reports exactly the signatures whose pattern, run alone,
// matches.
func FuzzMatch(f *testing.F) {
	set := builtin(f)
	for _, sig := range set.Signatures {
		for _, s := range sig.Spec.Samples.Match {
			f.Add(s.Line)
		}
		for _, s := range sig.Spec.Samples.NoMatch {
			f.Add(s.Line)
		}
	}
	f.Add("WORKER timeout (PID:12)")
	m := match.NewMatcher(set)
	f.Fuzz(func(t *testing.T, line string) {
		for _, format := range parse.Formats {
			var ev parse.Event
			if !parse.For(format).Parse(line, &parse.Context{}, &ev) {
				continue
			}
			got := map[string]bool{}
			for _, h := range m.Match(&ev, nil) {
				if got[h.Signature.ID] {
					t.Fatalf("%s reported twice for %q", h.Signature.ID, line)
				}
				got[h.Signature.ID] = true
			}
			for _, sig := range set.Signatures {
				_, want := sig.Try(&ev)
				if want != got[sig.ID] {
					t.Fatalf("format %s line %q: %s alone says %v, Match says %v", format, line, sig.ID, want, got[sig.ID])
				}
			}
		}
	})
}

func BenchmarkMatchMiss(b *testing.B) {
	benchMatch(b, parse.FormatGunicorn, `[2026-11-24 10:00:00 +0000] [1234] [DEBUG] 3 workers`)
}

func BenchmarkMatchAccess200(b *testing.B) {
	benchMatch(b, parse.FormatNginxAccess, `203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api/items?page=2 HTTP/1.1" 200 5120 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)" 0.012 0.011`)
}

func BenchmarkMatchHit(b *testing.B) {
	benchMatch(b, parse.FormatGunicorn, `[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)`)
}

func benchMatch(b *testing.B, f parse.Format, line string) {
	set := builtin(b)
	m := match.NewMatcher(set)
	var ev parse.Event
	if !parse.For(f).Parse(line, &parse.Context{}, &ev) {
		b.Fatalf("does not parse as %s", f)
	}
	hits := make([]match.Hit, 0, 8)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		hits = m.Match(&ev, hits[:0])
	}
}

// TestMultiFormatSignature: a signature of two formats is prefiltered with
// the right literal ids in each format's automaton.
func TestMultiFormatSignature(t *testing.T) {
	set, err := testCatalog(t, `signatures:
  - id: test.kernel_only
    description: x
    formats: [kernel]
    pattern: 'segfault at (?P<addr>[0-9a-f]+)'
    samples:
      match: [{line: '[12.5] a.out[40342]: segfault at 0 ip 1 sp 2 error 4'}]
      no_match: [{line: '[12.5] all good'}]
  - id: test.both
    description: x
    formats: [gunicorn, kernel]
    pattern: 'Killed process (?P<pid>\d+)'
    samples:
      match:
        - line: '[2026-11-24 10:00:00 +0000] [1] [ERROR] Killed process 12'
        - line: '[12.5] Out of memory: Killed process 12 (gunicorn)'
          format: kernel
      no_match: [{line: '[2026-11-24 10:00:00 +0000] [1] [ERROR] Killed nothing'}]
`)
	if err != nil {
		t.Fatal(err)
	}
	if err := match.CheckSamples(set); err != nil {
		t.Fatal(err)
	}
}
