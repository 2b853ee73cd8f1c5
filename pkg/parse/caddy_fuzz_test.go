package parse

import (
	"strings"
	"testing"
)

func FuzzCaddy(f *testing.F) {
	addGoldenSeeds(f, FormatCaddy)
	for _, s := range []string{
		`{"level":`,
		`{"level":"info","msg":null}`,
		`{"level":"info","ts":"","msg":""}`,
		`{"level":"info","ts":99999999999999999999,"msg":"x","status":"5","duration":"","request":{"remote_addr":"[::1"}}`,
		`{"level":"info","ts":"2026-11-24T10:00:00+99:99","msg":"x"}`,
		`{"level":"info","ts":"24/Nov/2026:10:00:00 +0000","msg":"\ud800"}`,
		"{\"level\":\"info\",\"msg\":\"\xff\"}",
		"2026/11/24 10:00:00.\tINFO\tx",
		"1.\tinfo\t\t\t{}",
		"9999999999999999999.9\tinfo\tx",
		"2026/11/24 10:00:00\t\x1b[\tx",
		"2026/11/24 10:00:00\t\x1b[31mINFO\tx\t{\"error\": 1}",
	} {
		f.Add(s)
	}
	p := For(FormatCaddy)
	f.Fuzz(func(t *testing.T, rec string) {
		// JSON values are decoded, so the message need not be a substring.
		checkParse(t, p, rec, !strings.HasPrefix(rec, caddyJSONStart))
		var ev Event
		if p.Parse(rec, testCtx, &ev) {
			if v, ok := ev.Get("status"); ok && (v == "" || digitsAt(v, 0) != len(v)) {
				t.Fatalf("Parse(%q): status %q is not digits", rec, v)
			}
		}
	})
}
