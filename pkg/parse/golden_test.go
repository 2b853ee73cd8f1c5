package parse

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/*.json from the parsers' output")

// goldenContext is the fixed world of the golden cases. A case whose name
// ends in "_noref" gets a zero Reference and BootTime instead.
func goldenContext(name string) *Context {
	if strings.HasSuffix(name, "_noref") {
		return &Context{Location: time.UTC}
	}
	return &Context{
		Location:  time.UTC,
		Reference: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		BootTime:  time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
	}
}

// goldenRecord is one record of a golden case: the Joiner's view of it and
// the Event the parser made (Format "" when it did not parse).
type goldenRecord struct {
	Truncated bool  `json:",omitempty"`
	Dropped   int   `json:",omitempty"`
	Event     Event `json:"Event"`
}

type goldenFile struct {
	Detected Format         `json:"Detected"`
	Records  []goldenRecord `json:"Records"`
}

// splitLines cuts text into lines with the offset of each: "\n" ends a
// line, a "\r" before it is dropped, and a last line without a newline
// counts.
func splitLines(text string) (lines []string, offsets []int64) {
	var off int64
	for text != "" {
		line, rest, found := strings.Cut(text, "\n")
		n := int64(len(line))
		if found {
			n++
		}
		lines = append(lines, strings.TrimSuffix(line, "\r"))
		offsets = append(offsets, off)
		off += n
		text = rest
	}
	return lines, offsets
}

// runFile joins and parses a whole file the way a caller would.
func runFile(p Parser, ctx *Context, text string, maxLines, maxBytes int) []goldenRecord {
	lines, offsets := splitLines(text)
	j := NewJoiner(p, maxLines, maxBytes)
	var out []goldenRecord
	emit := func(recs []Record) {
		for _, r := range recs {
			g := goldenRecord{Truncated: r.Truncated, Dropped: r.Dropped}
			if !p.Parse(r.Text, ctx, &g.Event) {
				g.Event = Event{Raw: r.Text, Lines: r.Lines}
			}
			g.Event.Offset = r.Offset
			out = append(out, g)
		}
	}
	for i, l := range lines {
		emit(j.Add(l, offsets[i]))
	}
	emit(j.Flush())
	return out
}

// TestGolden runs every testdata/golden/<format>/<case>.log through a Joiner
// and the format's default parser and compares the events with <case>.json.
// Refresh with: go test ./pkg/parse -run TestGolden -update
func TestGolden(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		f := Format(d.Name())
		p := For(f)
		if p == nil {
			t.Errorf("testdata/golden/%s: not a format", d.Name())
			continue
		}
		files, err := filepath.Glob(filepath.Join("testdata", "golden", d.Name(), "*.log"))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range files {
			name := strings.TrimSuffix(filepath.Base(in), ".log")
			cases++
			t.Run(d.Name()+"/"+name, func(t *testing.T) {
				text, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				lines, _ := splitLines(string(text))
				got := goldenFile{
					Detected: mainFormat(lines),
					Records:  runFile(p, goldenContext(name), string(text), 0, 0),
				}
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(got); err != nil {
					t.Fatal(err)
				}
				want := strings.TrimSuffix(in, ".log") + ".json"
				if *update {
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
		t.Fatal("no golden cases found")
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + a + "\n  got:  " + b
		}
	}
	return ""
}

// TestFieldNames checks that every field key the default parsers set in the
// golden cases is listed by FieldNames, except the keys that are not fixed.
func TestFieldNames(t *testing.T) {
	for _, f := range Formats {
		known := map[string]bool{}
		for _, k := range FieldNames(f) {
			known[k] = true
		}
		files, _ := filepath.Glob(filepath.Join("testdata", "golden", string(f), "*.log"))
		for _, in := range files {
			text, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runFile(For(f), testCtx, string(text), 0, 0) {
				for _, fl := range r.Event.Fields {
					dynamic := f == FormatNginxAccess && (strings.HasPrefix(fl.Key, "extra") || strings.Contains(r.Event.Raw, " "+fl.Key+"=")) ||
						f == FormatKernel && strings.Contains(r.Event.Raw, "\n "+fl.Key+"=")
					if !known[fl.Key] && !dynamic {
						t.Errorf("%s: field %q is not in FieldNames(%q)", in, fl.Key, f)
					}
				}
			}
		}
	}
}
