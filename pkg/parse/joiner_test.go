package parse

import (
	"strings"
	"testing"
)

// lineParser is a test Parser: a line starting with '>' starts a record.
type lineParser struct{}

func (lineParser) Format() Format                      { return FormatUnknown }
func (lineParser) Starts(l string) bool                { return strings.HasPrefix(l, ">") }
func (lineParser) Parse(string, *Context, *Event) bool { return true }

type endingParser struct{ lineParser }

func (endingParser) RecordEnds(l string, first bool) bool { return strings.HasSuffix(l, ".") }

func collect(j *Joiner, lines ...string) []Record {
	var out []Record
	var off int64
	for _, l := range lines {
		out = append(out, j.Add(l, off)...)
		off += int64(len(l)) + 1
	}
	return append(out, j.Flush()...)
}

func TestJoinerMultiLine(t *testing.T) {
	j := NewJoiner(lineParser{}, 0, 0)
	if got := j.Add(">a", 0); len(got) != 0 || !j.Pending() {
		t.Fatalf("first line: %v pending=%v", got, j.Pending())
	}
	if got := j.Add(" b", 3); len(got) != 0 {
		t.Fatalf("continuation: %v", got)
	}
	got := j.Add(">c", 6)
	if len(got) != 1 || got[0] != (Record{Text: ">a\n b", Offset: 0, Lines: 2}) {
		t.Fatalf("new header: %+v", got)
	}
	got = j.Flush()
	if len(got) != 1 || got[0] != (Record{Text: ">c", Offset: 6, Lines: 1}) || j.Pending() {
		t.Fatalf("flush: %+v", got)
	}
	if got := j.Flush(); len(got) != 0 {
		t.Fatalf("second flush: %+v", got)
	}
}

func TestJoinerHeadless(t *testing.T) {
	got := collect(NewJoiner(lineParser{}, 0, 0), "x", "y", ">a", "z")
	want := []Record{{Text: "x\ny", Lines: 2}, {Text: ">a\nz", Offset: 4, Lines: 2}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestJoinerRecordEnds(t *testing.T) {
	j := NewJoiner(endingParser{}, 0, 0)
	if got := j.Add(">one.", 0); len(got) != 1 || got[0].Text != ">one." || j.Pending() {
		t.Fatalf("complete first line not returned at once: %+v", got)
	}
	if got := j.Add(">two", 6); len(got) != 0 {
		t.Fatalf("open record returned: %+v", got)
	}
	if got := j.Add("end.", 11); len(got) != 1 || got[0].Text != ">two\nend." || got[0].Offset != 6 {
		t.Fatalf("closing line: %+v", got)
	}
	// A continuation with nothing pending starts a record of its own.
	if got := j.Add("stray.", 16); len(got) != 1 || got[0].Text != "stray." {
		t.Fatalf("stray line: %+v", got)
	}
}

func TestJoinerSingleLineNoDelay(t *testing.T) {
	for _, f := range []Format{FormatNginxAccess, FormatNginxError} {
		j := NewJoiner(For(f), 0, 0)
		for i, l := range []string{"one line", "another line", ""} {
			got := j.Add(l, int64(i))
			if len(got) != 1 || got[0].Text != l || got[0].Offset != int64(i) || j.Pending() {
				t.Errorf("%s: Add(%q) = %+v", f, l, got)
			}
		}
	}
}

func TestJoinerCaps(t *testing.T) {
	tests := []struct {
		name               string
		maxLines, maxBytes int
		lines              []string
		want               Record
	}{
		{"lines", 3, 0, []string{">h", "1", "2", "3", "4"},
			Record{Text: ">h\n1\n2", Lines: 3, Truncated: true, Dropped: 2}},
		{"bytes", 0, 8, []string{">h", "12", "34", "5", "6"},
			Record{Text: ">h\n12\n34", Lines: 3, Truncated: true, Dropped: 2}},
		{"no hole after a drop", 0, 8, []string{">h", "123456", "x"},
			Record{Text: ">h", Lines: 1, Truncated: true, Dropped: 2}},
		{"long first line is kept", 0, 4, []string{">long header", "x"},
			Record{Text: ">long header", Lines: 1, Truncated: true, Dropped: 1}},
		{"one line cap", 1, 0, []string{">h", "x", "y"},
			Record{Text: ">h", Lines: 1, Truncated: true, Dropped: 2}},
		{"exactly at the caps", 3, 8, []string{">h", "12", "3"},
			Record{Text: ">h\n12\n3", Lines: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(NewJoiner(lineParser{}, tt.maxLines, tt.maxBytes), tt.lines...)
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The Joiner keeps no more than the caps however long the record goes on.
func TestJoinerBounded(t *testing.T) {
	j := NewJoiner(lineParser{}, 10, 1000)
	j.Add(">h", 0)
	for i := 0; i < 100000; i++ {
		j.Add(strings.Repeat("x", 50), int64(i))
	}
	if cap(j.buf) > 2048 {
		t.Errorf("buffer grew to %d bytes", cap(j.buf))
	}
	got := j.Flush()
	if len(got) != 1 || got[0].Lines != 10 || got[0].Dropped != 100000-9 || !got[0].Truncated {
		t.Fatalf("got %+v", got[0].Lines)
	}
}

// The returned slice is reused: the single-line path does not allocate.
func TestJoinerSingleLineAllocs(t *testing.T) {
	j := NewJoiner(For(FormatNginxAccess), 0, 0)
	line := `1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`
	allocs := testing.AllocsPerRun(1000, func() { j.Add(line, 0) })
	if allocs != 0 {
		t.Errorf("Add allocates %v times per line", allocs)
	}
}
