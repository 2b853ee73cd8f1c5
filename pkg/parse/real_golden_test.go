package parse

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realDir holds the logs that the end-to-end test (cmd/sigtail/e2e_test.go)
// captured from real Gunicorn 20.1 and nginx 1.22, one folder per scenario.
const realDir = "../../testdata/real"

// realLogs are the logs of a scenario folder and the format each must be
// detected as.
var realLogs = map[string]Format{
	"gunicorn-error.log": FormatGunicorn,
	"nginx-error.log":    FormatNginxError,
	"nginx-access.log":   FormatNginxAccess,
}

// realRecords is how many records of each real log the golden keeps: the
// clean run's access log has thousands of identical requests, and the
// first ones already hold every shape of line these logs have.
const realRecords = 60

// TestGoldenReal detects the format of every captured real log, runs it
// through a Joiner and the format's parser, and compares the first
// realRecords events with testdata/real/<scenario>/<log>.jsonl (a header
// line, then one event a line). Every record must parse, and every field
// must be one FieldNames knows. Refresh with: go test ./pkg/parse -run
// TestGoldenReal -update
func TestGoldenReal(t *testing.T) {
	dirs, err := os.ReadDir(realDir)
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		for name, f := range realLogs {
			in := filepath.Join(realDir, d.Name(), name)
			text, err := os.ReadFile(in)
			if os.IsNotExist(err) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			cases++
			t.Run(d.Name()+"/"+name, func(t *testing.T) {
				lines, _ := splitLines(string(text))
				detected := mainFormat(lines)
				if detected != f {
					t.Errorf("%s detected as %q, want %q", in, detected, f)
				}
				recs := runFile(For(f), goldenContext(name), string(text), 0, 0)
				known := map[string]bool{}
				for _, k := range FieldNames(f) {
					known[k] = true
				}
				for _, r := range recs {
					if r.Event.Format == "" {
						t.Errorf("%s: record at offset %d does not parse as %s: %q", in, r.Event.Offset, f, r.Event.Raw)
					}
					for _, fl := range r.Event.Fields {
						if !known[fl.Key] && !(f == FormatNginxAccess && strings.HasPrefix(fl.Key, "extra")) {
							t.Errorf("%s: field %q is not in FieldNames(%q)", in, fl.Key, f)
						}
					}
				}
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.Encode(struct {
					Detected Format
					Records  int
					Kept     int
				}{detected, len(recs), min(len(recs), realRecords)})
				for _, r := range recs[:min(len(recs), realRecords)] {
					if err := enc.Encode(r); err != nil {
						t.Fatal(err)
					}
				}
				want := filepath.Join("testdata", "real", d.Name(), strings.TrimSuffix(name, ".log")+".jsonl")
				if *update {
					if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(want, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				exp, err := os.ReadFile(want)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(exp, buf.Bytes()) {
					t.Errorf("%s differs from the parsers' output; run with -update and review the diff:\n%s",
						want, firstDiff(string(exp), buf.String()))
				}
			})
		}
	}
	if cases == 0 {
		t.Fatalf("no real logs under %s", realDir)
	}
}
