package envelope

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func dockerRecord(log, stream string) string {
	b, _ := json.Marshal(map[string]string{"log": log, "stream": stream, "time": "2024-05-01T10:00:00Z"})
	return string(b)
}

// TestPending follows what Add holds: a CRI P chunk is pending from its
// offset until its F, and the F returns the whole line at the P's offset.
func TestPending(t *testing.T) {
	u := NewUnwrapper(Context{})
	if u.Pending() {
		t.Fatal("pending at start")
	}
	if got := u.Add("2024-05-01T10:00:00Z stdout P abc", 100); len(got) != 0 {
		t.Fatalf("P chunk returned %+v", got)
	}
	if got := u.Add("2024-05-01T10:00:00Z stderr P xyz", 140); len(got) != 0 {
		t.Fatalf("P chunk returned %+v", got)
	}
	if off, ok := u.OldestPending(); !ok || off != 100 {
		t.Fatalf("OldestPending = %d, %v", off, ok)
	}
	got := u.Add("2024-05-01T10:00:01Z stdout F def", 180)
	if len(got) != 1 || got[0].Text != "abcdef" || got[0].Offset != 100 || got[0].Env.Key != "stdout" {
		t.Fatalf("F chunk returned %+v", got)
	}
	if off, ok := u.OldestPending(); !ok || off != 140 {
		t.Fatalf("OldestPending = %d, %v after stdout completed", off, ok)
	}
	got = u.Flush()
	if len(got) != 1 || got[0].Text != "xyz" || got[0].Offset != 140 {
		t.Fatalf("Flush returned %+v", got)
	}
	if u.Pending() {
		t.Fatal("pending after Flush")
	}
}

// TestJoinCap checks that a line that never ends is cut at maxJoin and
// that nothing of it is lost.
func TestJoinCap(t *testing.T) {
	u := NewUnwrapper(Context{})
	chunk := strings.Repeat("a", 16*1024)
	var out []Line
	var off int64
	for range 100 {
		rec := dockerRecord(chunk, "stdout")
		for _, l := range u.Add(rec, off) {
			out = append(out, l)
		}
		off += int64(len(rec)) + 1
	}
	out = append(out, u.Flush()...)
	total := 0
	for _, l := range out {
		if len(l.Text) > maxJoin {
			t.Errorf("a re-joined line of %d bytes passes the cap", len(l.Text))
		}
		total += len(l.Text)
	}
	if total != 100*len(chunk) || len(out) < 2 {
		t.Errorf("%d lines, %d bytes; want all %d bytes in several lines", len(out), total, 100*len(chunk))
	}
}

// TestReturnedStringsStay checks that the text of a re-joined line does not
// change when the Unwrapper goes on (it must not be a reused buffer).
func TestReturnedStringsStay(t *testing.T) {
	u := NewUnwrapper(Context{})
	u.Add(dockerRecord("first ", "stdout"), 0)
	got := u.Add(dockerRecord("line\n", "stdout"), 10)
	if len(got) != 1 {
		t.Fatalf("%+v", got)
	}
	text := got[0].Text
	u.Add(dockerRecord("XXXXXX", "stdout"), 20)
	u.Add(dockerRecord("YYYY\n", "stdout"), 30)
	if text != "first line" {
		t.Errorf("returned text changed to %q", text)
	}
}

// TestManyWriters checks that partial lines of more writers than maxHeld
// are given back unfinished instead of piling up.
func TestManyWriters(t *testing.T) {
	u := NewUnwrapper(Context{})
	n := 0
	for i := range maxHeld + 10 {
		line := "2020-02-22T16:00:00.000000+00:00 app[web." + strconv.Itoa(i) + "]: " + strings.Repeat("x", herokuChunk)
		n += len(u.Add(line, int64(i)))
	}
	if n != 10 || len(u.held) != maxHeld {
		t.Errorf("%d lines given back early, %d held", n, len(u.held))
	}
}

func TestHas(t *testing.T) {
	u := NewUnwrapper(Context{})
	got := u.Add("\x1b[36mnginx-proxy  | \x1b[0mnginx.1 | 2020/12/17 05:34:04 [error] 1#1: x", 0)
	if len(got) != 1 {
		t.Fatalf("%+v", got)
	}
	e := got[0].Env
	for _, k := range []Kind{ANSI, Compose, Procfile} {
		if !e.Has(k) {
			t.Errorf("Has(%s) = false", k)
		}
	}
	if e.Has(CRI) || e.Has("") {
		t.Error("Has reports a layer that is not there")
	}
	if got[0].Text != "2020/12/17 05:34:04 [error] 1#1: x" || e.Key != "nginx-proxy  | nginx.1" {
		t.Errorf("text %q key %q", got[0].Text, e.Key)
	}
}

// TestDepth checks that peeling stops when the layers are full.
func TestDepth(t *testing.T) {
	u := NewUnwrapper(Context{})
	line := strings.Repeat("a-1 | ", 10) + "msg"
	got := u.Add(line, 0)
	if len(got) != 1 || got[0].Env.N != len(got[0].Env.Layers) {
		t.Fatalf("%+v", got)
	}
	if want := strings.Repeat("a-1 | ", 4) + "msg"; got[0].Text != want {
		t.Errorf("text %q, want %q", got[0].Text, want)
	}
}

// TestJSONStrings covers the JSON string decoder against encoding/json.
func TestJSONStrings(t *testing.T) {
	for _, s := range []string{"plain", "tab\there", `quote " and \ backslash`, "esc \x1b[31m", "<module> & more",
		"snow ☃ and 😀", "\u2028", "nul \x00 byte"} {
		raw, _ := json.Marshal(s)
		got, ok := decodeString(string(raw))
		if !ok || got != s {
			t.Errorf("%s: got %q, %v", raw, got, ok)
		}
	}
	if got, ok := decodeString(`"\ud83d"`); !ok || got != "\ufffd" {
		t.Errorf("lone surrogate: %q %v", got, ok)
	}
	for _, bad := range []string{`"\x41"`, `"\u12"`, `"abc`, `abc"`, `"\"`} {
		if got, ok := decodeString(bad); ok {
			t.Errorf("%s decoded as %q", bad, got)
		}
	}
}

// TestHugeLines feeds long lines of shapes that could make a recogniser
// quadratic; the test's own timeout is the check.
func TestHugeLines(t *testing.T) {
	const n = 1 << 20
	lines := []string{
		"<font>" + strings.Repeat("<a", n),
		"<font>x</font>" + strings.Repeat("&", n),
		`{"log":"` + strings.Repeat("a", n),
		`{"log":"` + strings.Repeat(`\"`, n) + `","stream":"stdout","time":"2024-05-01T10:00:00Z"}`,
		`{"__REALTIME_TIMESTAMP":"1","MESSAGE":[` + strings.Repeat("1,", n) + `1]}`,
		`{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `,"log":"x","stream":"stdout"}`,
		"Nov 24 10:00:00 h t: " + strings.Repeat("#012", n/4),
		strings.Repeat("a", n),
		strings.Repeat("a-b ", n/4),
		"│" + strings.Repeat(" ", n),
		strings.Repeat("\x1b[", n/2),
		"   " + strings.Repeat("Loaded", n/6),
		"2024-05-01T10:00:00Z stdout P " + strings.Repeat("x", n),
	}
	u := NewUnwrapper(Context{Reference: goldenReference})
	for i, l := range lines {
		u.Add(l, int64(i))
	}
	u.Flush()
}
