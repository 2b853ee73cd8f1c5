package envelope

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

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the Unwrapper's output")

// goldenReference is the fixed "file mtime" of the golden cases.
var goldenReference = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// goldenContext is the world of a golden case: UTC and goldenReference,
// except that a case whose name ends in "_noref" has no Reference and one
// ending in "_cet" reads zoneless stamps at +01:00.
func goldenContext(name string) Context {
	switch {
	case strings.HasSuffix(name, "_noref"):
		return Context{}
	case strings.HasSuffix(name, "_cet"):
		return Context{Location: time.FixedZone("CET", 3600), Reference: goldenReference}
	}
	return Context{Location: time.UTC, Reference: goldenReference}
}

// splitPhysical cuts text into physical lines at '\n' only, with the offset
// of each, the way a line reader hands them to Add. A last line without a
// newline counts.
func splitPhysical(text string) (lines []string, offsets []int64) {
	var off int64
	for text != "" {
		line, rest, found := strings.Cut(text, "\n")
		lines = append(lines, line)
		offsets = append(offsets, off)
		off += int64(len(line))
		if found {
			off++
		}
		text = rest
	}
	return lines, offsets
}

// unwrapAll runs every line of text through one Unwrapper and flushes it,
// copying the Lines out of the reused slice.
func unwrapAll(ctx Context, text string) []Line {
	lines, offsets := splitPhysical(text)
	u := NewUnwrapper(ctx)
	var out []Line
	for i, l := range lines {
		out = append(out, u.Add(l, offsets[i])...)
	}
	out = append(out, u.Flush()...)
	return out
}

// goldenLine is one output Line as the golden files show it.
type goldenLine struct {
	Text      string `json:"text"`
	Offset    int64  `json:"offset"`
	Layers    []Kind `json:"layers"`
	Time      string `json:"time,omitempty"`
	Host      string `json:"host,omitempty"`
	Program   string `json:"program,omitempty"`
	PID       string `json:"pid,omitempty"`
	Unit      string `json:"unit,omitempty"`
	Container string `json:"container,omitempty"`
	Stream    string `json:"stream,omitempty"`
	Level     string `json:"level,omitempty"`
	Key       string `json:"key,omitempty"`
}

func toGolden(l Line) goldenLine {
	g := goldenLine{
		Text: l.Text, Offset: l.Offset, Layers: append([]Kind{}, l.Env.Layers[:l.Env.N]...),
		Host: l.Env.Host, Program: l.Env.Program, PID: l.Env.PID, Unit: l.Env.Unit,
		Container: l.Env.Container, Stream: l.Env.Stream, Level: l.Env.Level, Key: l.Env.Key,
	}
	if !l.Env.Time.IsZero() {
		g.Time = l.Env.Time.UTC().Format(time.RFC3339Nano)
	}
	return g
}

// TestGolden runs every testdata/golden/<case>.txt through an Unwrapper and
// compares the Lines with <case>.golden, one JSON object per Line.
// Refresh with: go test ./pkg/envelope -run TestGolden -update
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden cases found")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			lines := unwrapAll(goldenContext(name), string(text))
			checkInvariants(t, string(text), lines)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			for _, l := range lines {
				if err := enc.Encode(toGolden(l)); err != nil {
					t.Fatal(err)
				}
			}
			want := strings.TrimSuffix(in, ".txt") + ".golden"
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
				t.Errorf("%s differs from the Unwrapper's output; run with -update and review the diff:\n%s",
					want, firstDiff(string(exp), buf.String()))
			}
		})
	}
}

// checkInvariants checks what must hold for any input: every Offset is one
// that was passed in, and a Line without layers is its physical line,
// unchanged.
func checkInvariants(t *testing.T, text string, got []Line) {
	t.Helper()
	lines, offsets := splitPhysical(text)
	at := make(map[int64]string, len(lines))
	for i, off := range offsets {
		at[off] = lines[i]
	}
	for _, l := range got {
		phys, ok := at[l.Offset]
		if !ok {
			t.Errorf("offset %d was never passed to Add (text %q)", l.Offset, l.Text)
			continue
		}
		if l.Env.N == 0 && l.Text != phys {
			t.Errorf("offset %d: a line without envelope came back changed: %q, was %q", l.Offset, l.Text, phys)
		}
		if l.Env.N < 0 || l.Env.N > len(l.Env.Layers) {
			t.Errorf("offset %d: N = %d", l.Offset, l.Env.N)
		}
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

// TestPlain checks that producer lines that merely look like wrappers come
// back untouched, each as itself.
func TestPlain(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "golden", "plain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines, offsets := splitPhysical(string(text))
	u := NewUnwrapper(Context{Reference: goldenReference})
	for i, l := range lines {
		got := u.Add(l, offsets[i])
		if len(got) != 1 || got[0].Env.N != 0 || got[0].Text != l || got[0].Offset != offsets[i] || got[0].Env.Key != "" {
			t.Errorf("line %d %q: got %+v", i+1, l, got)
		}
	}
	if u.Pending() {
		t.Error("plain lines left something pending")
	}
}
