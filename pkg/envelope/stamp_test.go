package envelope

import (
	"testing"
	"time"
)

var cet = time.FixedZone("CET", 3600)

func utc(y int, mo time.Month, d, h, m, s, ns int) time.Time {
	return time.Date(y, mo, d, h, m, s, ns, time.UTC)
}

// TestYearless covers the year of BSD and journald short stamps: the latest
// year that keeps the stamp at or before Reference plus a day.
func TestYearless(t *testing.T) {
	tests := []struct {
		name  string
		ctx   Context
		stamp string
		want  time.Time
	}{
		{"same year", Context{Reference: utc(2026, 11, 26, 0, 0, 0, 0)}, "Nov 24 10:00:00", utc(2026, 11, 24, 10, 0, 0, 0)},
		{"later month is last year", Context{Reference: utc(2026, 11, 26, 0, 0, 0, 0)}, "Dec 03 10:00:00", utc(2025, 12, 3, 10, 0, 0, 0)},
		{"within the day of slack", Context{Reference: utc(2026, 11, 26, 0, 0, 0, 0)}, "Nov 26 20:00:00", utc(2026, 11, 26, 20, 0, 0, 0)},
		{"past the day of slack", Context{Reference: utc(2026, 11, 26, 0, 0, 0, 0)}, "Nov 27 01:00:00", utc(2025, 11, 27, 1, 0, 0, 0)},
		{"December read in January", Context{Reference: utc(2027, 1, 2, 0, 0, 0, 0)}, "Dec 31 23:00:00", utc(2026, 12, 31, 23, 0, 0, 0)},
		{"New Year read on New Year's Eve", Context{Reference: utc(2026, 12, 31, 23, 0, 0, 0)}, "Jan 01 00:30:00", utc(2027, 1, 1, 0, 30, 0, 0)},
		{"January read days before New Year", Context{Reference: utc(2026, 12, 29, 10, 0, 0, 0)}, "Jan 01 00:30:00", utc(2026, 1, 1, 0, 30, 0, 0)},
		{"February 29 goes to a leap year", Context{Reference: utc(2027, 3, 1, 0, 0, 0, 0)}, "Feb 29 12:00:00", utc(2024, 2, 29, 12, 0, 0, 0)},
		{"space-padded day", Context{Reference: utc(2026, 11, 26, 0, 0, 0, 0)}, "Nov  3 10:00:00", utc(2026, 11, 3, 10, 0, 0, 0)},
		{"short-precise", Context{Reference: utc(2026, 11, 26, 0, 0, 0, 0)}, "Nov 03 10:00:00.123456", utc(2026, 11, 3, 10, 0, 0, 123456000)},
		{"zone from Location", Context{Location: cet, Reference: utc(2026, 11, 26, 0, 0, 0, 0)}, "Nov 24 10:00:00", utc(2026, 11, 24, 9, 0, 0, 0)},
		{"year from Reference in Location", Context{Location: cet, Reference: utc(2026, 12, 31, 23, 30, 0, 0)}, "Jan 02 00:10:00", utc(2027, 1, 1, 23, 10, 0, 0)},
		{"no Reference, no time", Context{}, "Nov 24 10:00:00", time.Time{}},
	}
	for _, tt := range tests {
		b, ok := parseBSD(tt.stamp)
		if !ok {
			t.Errorf("%s: %q does not parse", tt.name, tt.stamp)
			continue
		}
		got := tt.ctx.yearless(b.mon, b.day, b.h, b.m, b.s, b.ns)
		if !got.Equal(tt.want) {
			t.Errorf("%s: %q gives %v, want %v", tt.name, tt.stamp, got, tt.want)
		}
	}
}

func TestParseBSDRejects(t *testing.T) {
	for _, s := range []string{"Foo 24 10:00:00", "Nov 32 10:00:00", "Nov 00 10:00:00", "Feb 30 10:00:00", "Nov 24 24:00:00",
		"Nov 24 10:60:00", "Nov 24 10-00-00", "Nov24 10:00:00", "Nov 2x 10:00:00", "Nov 24 10:00"} {
		if b, ok := parseBSD(s); ok {
			t.Errorf("%q parsed as %+v", s, b)
		}
	}
}

// TestParseISO covers the RFC 3339 stamps of the wrappers: the zones, the
// precisions, and dates that do not exist.
func TestParseISO(t *testing.T) {
	tests := []struct {
		in     string
		loc    *time.Location
		want   time.Time
		digits int
		zone   int
		ok     bool
	}{
		{"2026-11-24T10:00:00+01:00", nil, utc(2026, 11, 24, 9, 0, 0, 0), 0, zoneColon, true},
		{"2026-11-24T10:00:00+0100", nil, utc(2026, 11, 24, 9, 0, 0, 0), 0, zoneBasic, true},
		{"2026-11-24T10:00:00-08:00", nil, utc(2026, 11, 24, 18, 0, 0, 0), 0, zoneColon, true},
		{"2026-11-24T10:00:00Z", nil, utc(2026, 11, 24, 10, 0, 0, 0), 0, zoneZ, true},
		{"2026-11-24T10:00:00.123456789Z", nil, utc(2026, 11, 24, 10, 0, 0, 123456789), 9, zoneZ, true},
		{"2024-06-28T20:44:32.8354846Z", nil, utc(2024, 6, 28, 20, 44, 32, 835484600), 7, zoneZ, true},
		{"2020-02-22T16:00:00.284950+00:00", nil, utc(2020, 2, 22, 16, 0, 0, 284950000), 6, zoneColon, true},
		{"2026-11-24T10:00:00.1234567891234Z", nil, utc(2026, 11, 24, 10, 0, 0, 123456789), 13, zoneZ, true},
		{"2026-11-24T10:00:00", cet, utc(2026, 11, 24, 9, 0, 0, 0), 0, zoneNone, true},
		{"2026-11-24T10:00:00", nil, utc(2026, 11, 24, 10, 0, 0, 0), 0, zoneNone, true},
		{"2024-02-29T00:00:00Z", nil, utc(2024, 2, 29, 0, 0, 0, 0), 0, zoneZ, true},
		{"2026-02-29T00:00:00Z", nil, time.Time{}, 0, 0, false},
		{"2026-13-01T00:00:00Z", nil, time.Time{}, 0, 0, false},
		{"2026-11-24T10:00:00+25:00", nil, time.Time{}, 0, 0, false},
		{"2026-11-24T10:00:00+01", nil, time.Time{}, 0, 0, false},
		{"2026-11-24 10:00:00Z", nil, time.Time{}, 0, 0, false},
		{"2026/11/24T10:00:00Z", nil, time.Time{}, 0, 0, false},
	}
	for _, tt := range tests {
		st, ok := parseISO(tt.in, tt.loc)
		if ok != tt.ok {
			t.Errorf("%q: ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if !st.t.Equal(tt.want) || st.digits != tt.digits || st.zone != tt.zone || st.n != len(tt.in) {
			t.Errorf("%q: got %v digits %d zone %d n %d, want %v digits %d zone %d n %d",
				tt.in, st.t, st.digits, st.zone, st.n, tt.want, tt.digits, tt.zone, len(tt.in))
		}
	}
}

// TestDateless covers honcho's and foreman's HH:MM:SS: Reference's date,
// or the day before for a time past Reference.
func TestDateless(t *testing.T) {
	ref := utc(2026, 11, 26, 0, 10, 0, 0)
	tests := []struct {
		ctx     Context
		h, m, s int
		want    time.Time
	}{
		{Context{Reference: ref}, 0, 5, 0, utc(2026, 11, 26, 0, 5, 0, 0)},
		{Context{Reference: ref}, 23, 59, 0, utc(2026, 11, 25, 23, 59, 0, 0)},
		{Context{Reference: ref}, 1, 0, 0, utc(2026, 11, 26, 1, 0, 0, 0)}, // within the hour of slack
		{Context{Reference: ref}, 2, 0, 0, utc(2026, 11, 25, 2, 0, 0, 0)},
		{Context{Location: cet, Reference: ref}, 1, 5, 0, utc(2026, 11, 26, 0, 5, 0, 0)},
		{Context{}, 1, 0, 0, time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.ctx.dateless(tt.h, tt.m, tt.s); !got.Equal(tt.want) {
			t.Errorf("%+v %02d:%02d:%02d: got %v, want %v", tt.ctx, tt.h, tt.m, tt.s, got, tt.want)
		}
	}
}

// TestNearOuter covers stamps resolved against an outer layer's time: the
// candidate nearest it wins, across New Year and midnight.
func TestNearOuter(t *testing.T) {
	if got, want := nearYear(utc(2027, 1, 1, 0, 0, 5, 0), time.UTC, 12, 31, 23, 59, 59, 0), utc(2026, 12, 31, 23, 59, 59, 0); !got.Equal(want) {
		t.Errorf("nearYear across New Year: %v, want %v", got, want)
	}
	if got, want := nearYear(utc(2026, 12, 31, 23, 59, 59, 0), time.UTC, 1, 1, 0, 0, 1, 0), utc(2027, 1, 1, 0, 0, 1, 0); !got.Equal(want) {
		t.Errorf("nearYear into New Year: %v, want %v", got, want)
	}
	if got, want := nearDate(utc(2026, 11, 26, 0, 0, 30, 0), time.UTC, 23, 59, 50), utc(2026, 11, 25, 23, 59, 50, 0); !got.Equal(want) {
		t.Errorf("nearDate across midnight: %v, want %v", got, want)
	}
	if got, want := nearDate(utc(2024, 5, 1, 10, 0, 1, 0), time.UTC, 12, 0, 1), utc(2024, 5, 1, 12, 0, 1, 0); !got.Equal(want) {
		t.Errorf("nearDate in a zone two hours east: %v, want %v", got, want)
	}
}

func TestEpochStamps(t *testing.T) {
	if got, ok := parseEpochMicros("1720163624123456"); !ok || !got.Equal(utc(2024, 7, 5, 7, 13, 44, 123456000)) {
		t.Errorf("__REALTIME_TIMESTAMP: %v %v", got, ok)
	}
	for _, bad := range []string{"", "17201636241234x6", "1234567890123456789"} {
		if _, ok := parseEpochMicros(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	u := NewUnwrapper(Context{})
	got := u.Add("1795514400.123456 web-1 gunicorn[1932]: msg", 0)
	if len(got) != 1 || !got[0].Env.Time.Equal(utc(2026, 11, 24, 10, 0, 0, 123456000)) || got[0].Text != "msg" {
		t.Errorf("short-unix: %+v", got)
	}
}
