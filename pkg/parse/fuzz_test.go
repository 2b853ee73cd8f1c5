package parse

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fuzz targets. Each is seeded with the golden inputs of its format plus a
// few hand-picked edge cases, and checks that parsing never panics and that
// what comes out could only have come from the input.

// addGoldenSeeds adds every line and every whole file of
// testdata/golden/<f>/ as seeds.
func addGoldenSeeds(f *testing.F, format Format) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", string(format), "*.log"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f.Add(l)
		}
		f.Add(string(b))
	}
}

// checkParse runs p on rec and checks the invariants every parser keeps.
// exact is true when the format never decodes escapes, so Message must be a
// substring of the record.
func checkParse(t *testing.T, p Parser, rec string, exact bool) {
	for _, ctx := range []*Context{nil, {}, testCtx, {Location: time.FixedZone("X", -3*3600), Reference: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), BootTime: time.Unix(1<<40, 0)}} {
		var ev Event
		ev.Fields = make([]Field, 3, 8) // stale content must be dropped
		ev.Source, ev.Offset, ev.LineNo = "s", 7, 3
		p.Starts(rec)
		if re, ok := p.(recordEnder); ok {
			re.RecordEnds(rec, true)
			re.RecordEnds(rec, false)
		}
		if !p.Parse(rec, ctx, &ev) {
			if ev.Format != "" || len(ev.Fields) != 0 || ev.Message != "" {
				t.Fatalf("failed Parse(%q) left state: %+v", rec, ev)
			}
			continue
		}
		if ev.Format != p.Format() || ev.Raw != rec || ev.Lines != strings.Count(rec, "\n")+1 {
			t.Fatalf("Parse(%q): Format %q Raw %q Lines %d", rec, ev.Format, ev.Raw, ev.Lines)
		}
		if ev.Source != "s" || ev.Offset != 7 || ev.LineNo != 3 {
			t.Fatalf("Parse(%q) touched Source, Offset or LineNo", rec)
		}
		if len(ev.Message) > len(rec) {
			t.Fatalf("Parse(%q): Message %q longer than the record", rec, ev.Message)
		}
		if exact && !strings.Contains(rec, ev.Message) {
			t.Fatalf("Parse(%q): Message %q is not from the record", rec, ev.Message)
		}
		for _, fl := range ev.Fields {
			if fl.Key == "" {
				t.Fatalf("Parse(%q): empty field key in %+v", rec, ev.Fields)
			}
		}
		if ev.PID < 0 || ev.Uptime < 0 {
			t.Fatalf("Parse(%q): PID %d Uptime %v", rec, ev.PID, ev.Uptime)
		}
	}
}

func FuzzGunicorn(f *testing.F) {
	addGoldenSeeds(f, FormatGunicorn)
	for _, s := range []string{
		"[2026-11-24 10:00:00 +0000] [1] [INFO]",
		"[2026-11-24 10:00:00 +0000] [1] [INFO]\n",
		"May  1 12:00:00 h gunicorn.a.error: [1] a#012b#0",
		"<11>gunicorn.a.error: [1] x\x00\x00",
		"<999>gunicorn.a.error: [1] x",
		"#",
	} {
		f.Add(s)
	}
	p := For(FormatGunicorn)
	f.Fuzz(func(t *testing.T, rec string) {
		checkParse(t, p, rec, !strings.Contains(rec, "#") && !strings.Contains(rec, "\x00"))
	})
}

func FuzzNginxError(f *testing.F) {
	addGoldenSeeds(f, FormatNginxError)
	for _, s := range []string{
		`2026/11/24 10:00:00 [error] 1#1: *1 m, client: `,
		`2026/11/24 10:00:00 [error] 1#1: *1 m, client: a, server: b, request: "`,
		`2026/11/24 10:00:00 [error] 1#1: *1 m, udp client: a, server: b, upstream: "u", bytes from/to client:`,
		`nginx: [emerg] x (`,
		`<0>Jan  1 00:00:00 h t: 2026/11/24 10:00:00 [error] 1#1: `,
	} {
		f.Add(s)
	}
	p := For(FormatNginxError)
	f.Fuzz(func(t *testing.T, rec string) {
		checkParse(t, p, rec, true)
		var ev Event
		if p.Parse(rec, testCtx, &ev) {
			for _, fl := range ev.Fields {
				if !strings.Contains(rec, fl.Value) {
					t.Fatalf("Parse(%q): field %s=%q is not from the record", rec, fl.Key, fl.Value)
				}
			}
		}
	})
}

func FuzzNginxAccess(f *testing.F) {
	addGoldenSeeds(f, FormatNginxAccess)
	for _, s := range []string{
		`1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-" a= "b" c="d 0.1, 0.2 : 0.3 ,`,
		` - [ [24/Nov/2026:10:00:00 +0000] "\" 200 - "\\" "\\\"" `,
	} {
		f.Add(s)
	}
	p := For(FormatNginxAccess)
	f.Fuzz(func(t *testing.T, rec string) {
		checkParse(t, p, rec, true)
		var ev Event
		if p.Parse(rec, testCtx, &ev) {
			for _, fl := range ev.Fields {
				if !strings.Contains(rec, fl.Value) {
					t.Fatalf("Parse(%q): field %s=%q is not from the record", rec, fl.Key, fl.Value)
				}
			}
		}
	})
}

func FuzzKernel(f *testing.F) {
	addGoldenSeeds(f, FormatKernel)
	for _, s := range []string{
		"6,1,2,-;a\\x0\n K=v\n x",
		"kern  :info  : ",
		"<7>",
		"[Tue Nov 24 10:00:00 2026]",
		`{"MESSAGE":[1,2,3],"_SOURCE_MONOTONIC_TIMESTAMP":"-5","__REALTIME_TIMESTAMP":"99999999999999999999"}`,
		"[99999999999999999999.9] x",
		"2026-11-24T10:00:00,1+99:99 x",
	} {
		f.Add(s)
	}
	p := For(FormatKernel)
	f.Fuzz(func(t *testing.T, rec string) {
		checkParse(t, p, rec, false)
	})
}

func FuzzJoiner(f *testing.F) {
	for _, format := range Formats {
		files, _ := filepath.Glob(filepath.Join("testdata", "golden", string(format), "*.log"))
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(b), uint8(0), uint16(0), uint8(len(name)))
			f.Add(string(b), uint8(3), uint16(100), uint8(len(name)))
		}
	}
	f.Fuzz(func(t *testing.T, text string, maxLines uint8, maxBytes uint16, which uint8) {
		p := For(Formats[int(which)%len(Formats)])
		ml, mb := int(maxLines), int(maxBytes)
		j := NewJoiner(p, ml, mb)
		if ml < 1 {
			ml = DefaultMaxLines
		}
		if mb < 1 {
			mb = DefaultMaxBytes
		}
		lines, offsets := splitLines(text)
		var recs []Record
		for i, l := range lines {
			for _, r := range j.Add(l, offsets[i]) {
				r.Text = strings.Clone(r.Text)
				recs = append(recs, r)
			}
		}
		recs = append(recs, j.Flush()...)
		if j.Pending() {
			t.Fatal("pending after Flush")
		}
		outBytes, physical := 0, 0
		last := int64(-1)
		for _, r := range recs {
			outBytes += len(r.Text)
			physical += r.Lines + r.Dropped
			if r.Lines < 1 || r.Lines > ml || r.Lines != strings.Count(r.Text, "\n")+1 {
				t.Fatalf("record %+v: Lines out of bounds (max %d)", r, ml)
			}
			if r.Truncated != (r.Dropped > 0) {
				t.Fatalf("record %+v: Truncated and Dropped disagree", r)
			}
			first, _, _ := strings.Cut(r.Text, "\n")
			if len(r.Text) > max(mb, len(first)) {
				t.Fatalf("record of %d bytes over the cap %d", len(r.Text), mb)
			}
			if r.Offset <= last {
				t.Fatalf("offsets not increasing: %d after %d", r.Offset, last)
			}
			last = r.Offset
		}
		if outBytes > len(text) {
			t.Fatalf("joiner emitted %d bytes from %d", outBytes, len(text))
		}
		if physical != len(lines) {
			t.Fatalf("records span %d lines, input had %d", physical, len(lines))
		}
	})
}

func FuzzNginxAccessFormat(f *testing.F) {
	combined := `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
	line := `203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5.0"`
	f.Add(combined, line)
	f.Add(`'`+combined+` rt=$request_time urt="$upstream_response_time"'`, line+` rt=0.1 urt="0.1, 0.2"`)
	f.Add(`log_format x escape=json '{"t":"$time_iso8601","m":"$msec"}';`, `{"t":"2026-11-24T10:00:00+00:00","m":"1.5"}`)
	f.Add(`$a$b`, `x`)
	f.Add(`${a`, `x`)
	f.Add(`$upstream_addr $status`, `1.1.1.1:80, 2.2.2.2:80 : 3.3.3.3:80 502`)
	f.Fuzz(func(t *testing.T, format, rec string) {
		p, err := NewNginxAccess(format)
		if err != nil {
			var lfe *LogFormatError
			if !errors.Is(err, ErrLogFormat) || !errors.As(err, &lfe) || lfe.Format != format {
				t.Fatalf("NewNginxAccess(%q): bad error %v", format, err)
			}
			return
		}
		checkParse(t, p, rec, true)
		var ev Event
		if p.Parse(rec, testCtx, &ev) {
			for _, fl := range ev.Fields {
				if !strings.Contains(rec, fl.Value) {
					t.Fatalf("Parse(%q): field %s=%q is not from the record", rec, fl.Key, fl.Value)
				}
			}
		}
	})
}
