package parse

import (
	"strings"
	"testing"
	"time"
)

var testCtx = &Context{
	Location:  time.UTC,
	Reference: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
	BootTime:  time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
}

// fieldString renders ev.Fields as "k=v k=v" for compact expectations.
func fieldString(ev *Event) string {
	var b strings.Builder
	for i, f := range ev.Fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(f.Value)
	}
	return b.String()
}

// wantEvent is what a table test checks of a parsed record; empty members
// are not checked unless noted.
type wantEvent struct {
	ok      bool
	time    string // RFC 3339 with nanoseconds; "zero" for the zero time
	uptime  time.Duration
	level   string
	pid     int
	message string
	fields  string // fieldString; "-" for none
}

func checkEvent(t *testing.T, p Parser, ctx *Context, rec string, w wantEvent) {
	t.Helper()
	var ev Event
	ev.Source, ev.Offset, ev.LineNo = "src", 42, 5
	ok := p.Parse(rec, ctx, &ev)
	if ok != w.ok {
		t.Fatalf("Parse(%q) = %v, want %v (event %+v)", rec, ok, w.ok, ev)
	}
	if ev.Source != "src" || ev.Offset != 42 || ev.LineNo != 5 {
		t.Errorf("Parse(%q) touched Source, Offset or LineNo", rec)
	}
	if !ok {
		return
	}
	if ev.Format != p.Format() || ev.Raw != rec || ev.Lines != strings.Count(rec, "\n")+1 {
		t.Errorf("Parse(%q): Format %q Raw %q Lines %d", rec, ev.Format, ev.Raw, ev.Lines)
	}
	if w.time != "" {
		got := "zero"
		if !ev.Time.IsZero() {
			got = ev.Time.Format(time.RFC3339Nano)
		}
		if got != w.time {
			t.Errorf("Parse(%q).Time = %s, want %s", rec, got, w.time)
		}
	}
	if ev.Uptime != w.uptime {
		t.Errorf("Parse(%q).Uptime = %v, want %v", rec, ev.Uptime, w.uptime)
	}
	if ev.Level != w.level {
		t.Errorf("Parse(%q).Level = %q, want %q", rec, ev.Level, w.level)
	}
	if ev.PID != w.pid {
		t.Errorf("Parse(%q).PID = %d, want %d", rec, ev.PID, w.pid)
	}
	if ev.Message != w.message {
		t.Errorf("Parse(%q).Message = %q, want %q", rec, ev.Message, w.message)
	}
	if w.fields != "" {
		want := w.fields
		if want == "-" {
			want = ""
		}
		if got := fieldString(&ev); got != want {
			t.Errorf("Parse(%q).Fields =\n  %s\nwant\n  %s", rec, got, want)
		}
	}
}
