package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tt := range []struct {
		in   string
		loc  *time.Location
		want time.Time
		bad  bool
	}{
		{in: "", want: time.Time{}},
		{in: "30m", want: now.Add(-30 * time.Minute)},
		{in: "6h", want: now.Add(-6 * time.Hour)},
		{in: "1h30m", want: now.Add(-90 * time.Minute)},
		{in: "2d", want: now.Add(-48 * time.Hour)},
		{in: "1.5d", want: now.Add(-36 * time.Hour)},
		{in: "1w", want: now.Add(-7 * 24 * time.Hour)},
		{in: "2026-11-24T08:00:00Z", want: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)},
		{in: "2026-11-24T08:00:00+02:00", want: time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)},
		{in: "2026-11-24 08:00", loc: paris, want: time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)},
		{in: "2026-11-24 08:00:30", want: time.Date(2026, 11, 24, 8, 0, 30, 0, time.UTC)},
		{in: "2026-11-24", want: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{in: "-2h", bad: true},
		{in: "2x", bad: true},
		{in: "d", bad: true},
		{in: "yesterday", bad: true},
		{in: "24/Nov/2026", bad: true},
	} {
		loc := tt.loc
		if loc == nil {
			loc = time.UTC
		}
		got, err := parseWhen("--since", tt.in, now, loc)
		if tt.bad {
			if err == nil || !strings.Contains(err.Error(), "--since") {
				t.Errorf("%q: %v, %v; want an error naming --since", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzRunConfig: any bytes as a config file give a config or an error
// naming the file, never a panic, and never a Go type in the words.
func FuzzRunConfig(f *testing.F) {
	for _, seed := range []string{
		"",
		"kernel: false\nprobe_interval: often\n",
		"files:\n  - path: /x\n    fromat: gunicorn\n",
		"outputs:\n  - type: loki\n    url: http://x\n    labels: {a: [1]}\n",
		"units: [a, {b: c}]\n",
		"max_groups: 1e99\nfiles: &a [*a]\n",
		"outputs: [stdout]\n",
		"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nunits: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "c.yaml")
	f.Fuzz(func(t *testing.T, body string) {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := loadRunConfig(path)
		if err == nil {
			if c == nil {
				t.Fatal("no config and no error")
			}
			return
		}
		msg := err.Error()
		if !strings.Contains(msg, path) {
			t.Errorf("error does not name the file: %s", msg)
		}
		for _, goWord := range []string{"main.", "time.Duration", "[]string", "!!"} {
			if ce, ok := err.(*configError); ok && strings.Contains(msg, goWord) && !strings.Contains(body, goWord) {
				t.Errorf("error in Go terms (%q): %s (%d problems)", goWord, msg, len(ce.problems))
			}
		}
	})
}
