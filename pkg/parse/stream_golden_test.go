package parse

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// streamEvent is what a golden file keeps of each event of a Stream.
type streamEvent struct {
	Offset  int64
	Lines   int
	Format  Format
	Time    string `json:",omitempty"`
	Level   string `json:",omitempty"`
	PID     int    `json:",omitempty"`
	Message string
	Fields  []Field  `json:",omitempty"`
	Layers  []string `json:",omitempty"`
	Program string   `json:",omitempty"`
	Key     string   `json:",omitempty"`
}

// TestStreamGolden runs every testdata/stream/*.log through a Stream (the
// step `scan`, `run` and `test` share) and compares the events with
// <case>.json; -update rewrites them.
func TestStreamGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/stream/*.log")
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".log")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := NewStream(StreamConfig{Location: time.UTC, Reference: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
			var got []streamEvent
			keep := func(evs []*Event) {
				for _, ev := range evs {
					e := streamEvent{Offset: ev.Offset, Lines: ev.Lines, Format: ev.Format, Level: ev.Level, PID: ev.PID,
						Message: ev.Message, Fields: append([]Field(nil), ev.Fields...)}
					if !ev.Time.IsZero() {
						e.Time = ev.Time.UTC().Format(time.RFC3339Nano)
					}
					if ev.Env != nil {
						e.Program, e.Key = ev.Env.Program, ev.Env.Key
					}
					for i := 0; ev.Env != nil && i < ev.Env.N; i++ {
						e.Layers = append(e.Layers, string(ev.Env.Layers[i]))
					}
					got = append(got, e)
				}
			}
			lines, offsets := splitLines(string(data))
			for i, l := range lines {
				keep(s.Add(l, offsets[i]))
			}
			keep(s.Flush())
			out, _ := json.MarshalIndent(got, "", "  ")
			out = append(out, '\n')
			golden := strings.TrimSuffix(path, ".log") + ".json"
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/parse -run TestStreamGolden -update)", err)
			}
			if !bytes.Equal(want, out) {
				t.Errorf("events differ from %s (run with -update and review the diff):\n%s", golden, out)
			}
		})
	}
}

// TestStreamQuietWriterEnds: on a journal, a traceback of a process that
// then says nothing is complete once other writers filled quietLines
// lines; it does not wait for the end of the input.
func TestStreamQuietWriterEnds(t *testing.T) {
	s := NewStream(StreamConfig{Location: time.UTC, Reference: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
	var got []Event // copies: a Stream reuses its Events
	add := func(line string) {
		for _, ev := range s.Add(line, 0) {
			if strings.Contains(ev.Message, "ModuleNotFoundError") {
				got = append(got, *ev)
			}
		}
	}
	add("Dec 03 10:00:00 web-1 gunicorn[7]: [2026-12-03 10:00:00 +0000] [7] [ERROR] Exception in worker process")
	add("Dec 03 10:00:00 web-1 gunicorn[7]: Traceback (most recent call last):")
	add("Dec 03 10:00:00 web-1 gunicorn[7]: ModuleNotFoundError: No module named 'x'")
	for i := 0; i < quietLines+16; i++ {
		add("Dec 03 10:00:01 web-1 gunicorn[8]: [2026-12-03 10:00:01 +0000] [8] [INFO] Booting worker with pid: 8")
	}
	if len(got) != 1 || got[0].PID != 7 || got[0].Lines != 3 {
		t.Fatalf("the quiet writer's traceback was not handed on whole: %d record(s)", len(got))
	}
	if s.Pending() == false {
		t.Error("the busy writer's last record should still be open")
	}
}

// mainFormat is the format most records of lines are read in by a Stream.
func mainFormat(lines []string) Format {
	s := NewStream(StreamConfig{Location: time.UTC})
	for i, l := range lines {
		s.Add(l, int64(i))
	}
	s.Flush()
	st := s.Stats()
	return st.Main()
}
