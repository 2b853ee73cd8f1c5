package envelope

import "time"

// The stamp parsers below are hand-written rather than time.Parse layouts:
// a wrapper is recognised by its stamp, so the stamp is tried on every line,
// and a failed time.Parse allocates its error.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num reads the n decimal digits of s at i.
func num(s string, i, n int) (int, bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// clock reads "HH:MM:SS" at s[i:].
func clock(s string, i int) (h, m, sec int, ok bool) {
	if i+8 > len(s) || s[i+2] != ':' || s[i+5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := num(s, i, 2)
	m, ok2 := num(s, i+3, 2)
	sec, ok3 := num(s, i+6, 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 {
		return 0, 0, 0, false
	}
	return h, m, sec, true
}

// fraction reads the digits after a '.' at s[i] (i is the dot). It returns
// nanoseconds, how many digits there were and the index after them; digits
// past the ninth are read but ignored.
func fraction(s string, i int) (ns, digits, end int) {
	if i >= len(s) || s[i] != '.' {
		return 0, 0, i
	}
	j := i + 1
	for j < len(s) && isDigit(s[j]) {
		if digits < 9 {
			ns = ns*10 + int(s[j]-'0')
		}
		digits++
		j++
	}
	if digits == 0 {
		return 0, 0, i
	}
	for k := min(digits, 9); k < 9; k++ {
		ns *= 10
	}
	return ns, digits, j
}

var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func validDate(y, mo, d int) bool {
	if mo < 1 || mo > 12 || d < 1 || d > daysIn[mo] {
		return false
	}
	if mo == 2 && d == 29 {
		return y%4 == 0 && (y%100 != 0 || y%400 == 0)
	}
	return true
}

// zone kinds of an ISO stamp.
const (
	zoneNone  = iota // no zone: local time of Context.Location
	zoneZ            // "Z"
	zoneColon        // "+01:00"
	zoneBasic        // "+0100", as older journalctl printed it
)

// iso is an RFC 3339-like stamp read from the start of a line.
type iso struct {
	t      time.Time
	n      int // bytes read
	digits int // fractional digits
	zone   int
	offset int // seconds east of UTC
}

// parseISO reads "YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH:MM|±HHMM]" from the start
// of s. A zoneless stamp is taken in loc; a zoned one is returned in UTC
// (time.FixedZone would allocate, and callers only compare instants).
func parseISO(s string, loc *time.Location) (st iso, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' {
		return st, false
	}
	y, ok1 := num(s, 0, 4)
	mo, ok2 := num(s, 5, 2)
	d, ok3 := num(s, 8, 2)
	h, mi, sec, ok4 := clock(s, 11)
	if !ok1 || !ok2 || !ok3 || !ok4 || !validDate(y, mo, d) {
		return st, false
	}
	ns, digits, i := fraction(s, 19)
	st.digits = digits
	if i < len(s) {
		switch c := s[i]; c {
		case 'Z':
			st.zone = zoneZ
			i++
		case '+', '-':
			oh, okh := num(s, i+1, 2)
			if !okh {
				return st, false
			}
			var om int
			var okm bool
			if i+3 < len(s) && s[i+3] == ':' {
				om, okm = num(s, i+4, 2)
				st.zone = zoneColon
				i += 6
			} else {
				om, okm = num(s, i+3, 2)
				st.zone = zoneBasic
				i += 5
			}
			if !okm || oh > 23 || om > 59 {
				return st, false
			}
			st.offset = oh*3600 + om*60
			if c == '-' {
				st.offset = -st.offset
			}
		}
	}
	st.n = i
	if st.zone == zoneNone {
		if loc == nil {
			loc = time.UTC
		}
		st.t = time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc)
	} else {
		st.t = time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC).Add(-time.Duration(st.offset) * time.Second)
	}
	return st, true
}

// monthOf reads a three-letter English month abbreviation at the start of s.
func monthOf(s string) int {
	if len(s) < 3 {
		return 0
	}
	switch s[:3] {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// Day paddings of a BSD stamp; they tell journald (zero-padded, %d) from
// rsyslog (space-padded, RFC 3164) when the day is below 10.
const (
	padTwoDigit = iota // "Dec 13": either
	padZero            // "Dec 03": journald
	padSpace           // "Dec  3": rsyslog
	padNone            // "Dec 3": log viewers that collapse spaces
)

// bsd is a "Mmm dd HH:MM:SS[.ffffff]" stamp read from the start of a line.
type bsd struct {
	mon, day, h, m, s, ns int
	n                     int // bytes read
	pad                   int
	digits                int
}

func parseBSD(s string) (b bsd, ok bool) {
	b.mon = monthOf(s)
	if b.mon == 0 || len(s) < 14 || s[3] != ' ' {
		return b, false
	}
	i := 4
	switch {
	case s[4] == ' ' && isDigit(s[5]):
		b.day, b.pad, i = int(s[5]-'0'), padSpace, 6
	case isDigit(s[4]) && isDigit(s[5]):
		b.day, i = int(s[4]-'0')*10+int(s[5]-'0'), 6
		if s[4] == '0' {
			b.pad = padZero
		}
	case isDigit(s[4]) && s[5] == ' ':
		b.day, b.pad, i = int(s[4]-'0'), padNone, 5
	default:
		return b, false
	}
	if b.day < 1 || b.day > daysIn[b.mon] || i >= len(s) || s[i] != ' ' {
		return b, false
	}
	var okc bool
	b.h, b.m, b.s, okc = clock(s, i+1)
	if !okc {
		return b, false
	}
	b.ns, b.digits, b.n = fraction(s, i+9)
	return b, true
}

// loc returns the zone of zoneless stamps.
func (c *Context) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// yearless resolves a stamp without a year: it takes the latest year that
// puts the time at or before Reference plus a day (the day of slack covers
// a writer whose clock or zone is a little ahead of the reader's). A
// February 29 goes back to the last leap year before that.
func (c *Context) yearless(mon, day, h, m, s, ns int) time.Time {
	if c.Reference.IsZero() {
		return time.Time{}
	}
	loc := c.loc()
	limit := c.Reference.Add(24 * time.Hour)
	y := limit.In(loc).Year()
	for range 9 {
		if validDate(y, mon, day) {
			t := time.Date(y, time.Month(mon), day, h, m, s, ns, loc)
			if !t.After(limit) {
				return t
			}
		}
		y--
	}
	return time.Time{}
}

// clockSlack is how far past Reference a dateless clock time may be and
// still be taken on Reference's date rather than the day before: enough for
// the clocks of the writer and the reader to disagree a little.
const clockSlack = time.Hour

// dateless resolves an HH:MM:SS stamp (honcho, foreman) on the date of
// Reference, or of the day before when that would put it after Reference.
func (c *Context) dateless(h, m, s int) time.Time {
	if c.Reference.IsZero() {
		return time.Time{}
	}
	loc := c.loc()
	ref := c.Reference.In(loc)
	t := time.Date(ref.Year(), ref.Month(), ref.Day(), h, m, s, 0, loc)
	if t.After(c.Reference.Add(clockSlack)) {
		t = time.Date(ref.Year(), ref.Month(), ref.Day()-1, h, m, s, 0, loc)
	}
	return t
}

// An outer layer's time is a better guide than Reference for a stamp that
// lacks its year or date (journald inside CRI, honcho inside docker): the
// inner stamp was written at nearly the same instant, give or take the
// writer's zone. So it is resolved to the candidate nearest that time.

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// nearYear puts a yearless stamp in the year that brings it nearest outer.
func nearYear(outer time.Time, loc *time.Location, mon, day, h, m, s, ns int) time.Time {
	var best time.Time
	y := outer.In(loc).Year()
	for _, cand := range [...]int{y, y - 1, y + 1} {
		if !validDate(cand, mon, day) {
			continue
		}
		t := time.Date(cand, time.Month(mon), day, h, m, s, ns, loc)
		if best.IsZero() || absDur(t.Sub(outer)) < absDur(best.Sub(outer)) {
			best = t
		}
	}
	return best
}

// nearDate puts a clock time on the day that brings it nearest outer.
func nearDate(outer time.Time, loc *time.Location, h, m, s int) time.Time {
	var best time.Time
	o := outer.In(loc)
	for _, d := range [...]int{0, -1, 1} {
		t := time.Date(o.Year(), o.Month(), o.Day()+d, h, m, s, 0, loc)
		if best.IsZero() || absDur(t.Sub(outer)) < absDur(best.Sub(outer)) {
			best = t
		}
	}
	return best
}

// parseEpochMicros reads journald's __REALTIME_TIMESTAMP: microseconds since
// the epoch as decimal digits.
func parseEpochMicros(s string) (time.Time, bool) {
	if len(s) == 0 || len(s) > 18 {
		return time.Time{}, false
	}
	var v int64
	for _, c := range []byte(s) {
		if !isDigit(c) {
			return time.Time{}, false
		}
		v = v*10 + int64(c-'0')
	}
	return time.UnixMicro(v).UTC(), true
}

// parseFullISO parses a whole string as an ISO stamp (JSON "time" fields).
func parseFullISO(s string) (time.Time, bool) {
	st, ok := parseISO(s, time.UTC)
	if !ok || st.n != len(s) {
		return time.Time{}, false
	}
	return st.t, true
}
