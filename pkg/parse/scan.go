package parse

import (
	"strings"
	"sync/atomic"
	"time"
)

// This file holds the byte-level helpers the parsers share. They work on
// string indexes instead of regexps because every parser runs once per log
// line, and they never allocate on the common path.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi parses s, which must be 1 to 18 ASCII digits.
func atoi(s string) (int, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, true
}

// digitsAt returns the index just past the run of digits that starts at i.
func digitsAt(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// num2 parses the two digits at s[i:i+2]; the caller checks the length.
func num2(s string, i int) (int, bool) {
	a, b := s[i]-'0', s[i+1]-'0'
	if a > 9 || b > 9 {
		return 0, false
	}
	return int(a)*10 + int(b), true
}

// num4 parses the four digits at s[i:i+4]; the caller checks the length.
func num4(s string, i int) (int, bool) {
	h, ok1 := num2(s, i)
	l, ok2 := num2(s, i+2)
	return h*100 + l, ok1 && ok2
}

// month3 reads an English three-letter month abbreviation.
func month3(s string) (time.Month, bool) {
	if len(s) < 3 {
		return 0, false
	}
	switch s[:3] {
	case "Jan":
		return time.January, true
	case "Feb":
		return time.February, true
	case "Mar":
		return time.March, true
	case "Apr":
		return time.April, true
	case "May":
		return time.May, true
	case "Jun":
		return time.June, true
	case "Jul":
		return time.July, true
	case "Aug":
		return time.August, true
	case "Sep":
		return time.September, true
	case "Oct":
		return time.October, true
	case "Nov":
		return time.November, true
	case "Dec":
		return time.December, true
	}
	return 0, false
}

// weekday3 reports whether s starts with an English weekday abbreviation.
func weekday3(s string) bool {
	if len(s) < 3 {
		return false
	}
	switch s[:3] {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

// clock reads "HH:MM:SS" at s[i:i+8].
func clock(s string, i int) (h, m, sec int, ok bool) {
	if len(s) < i+8 || s[i+2] != ':' || s[i+5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := num2(s, i)
	m, ok2 := num2(s, i+3)
	sec, ok3 := num2(s, i+6)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 {
		return 0, 0, 0, false
	}
	return h, m, sec, true
}

// validDate reports whether y-m-d names a real calendar day.
func validDate(y int, m time.Month, d int) bool {
	if m < time.January || m > time.December || d < 1 {
		return false
	}
	return d <= daysIn(m, y)
}

func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// fraction reads the digits of a decimal fraction (after '.' or ',') as
// nanoseconds; digits past the ninth are ignored.
func fraction(s string) int {
	ns := 0
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(s) {
			ns += int(s[i] - '0')
		}
	}
	return ns
}

// zoneOffset reads a numeric zone at the start of s: "Z", "+hhmm" or
// "+hh:mm". It returns the offset in seconds east of UTC and the bytes used.
func zoneOffset(s string) (sec, n int, ok bool) {
	if len(s) >= 1 && s[0] == 'Z' {
		return 0, 1, true
	}
	if len(s) < 5 || (s[0] != '+' && s[0] != '-') {
		return 0, 0, false
	}
	h, ok := num2(s, 1)
	if !ok {
		return 0, 0, false
	}
	i := 3
	if s[i] == ':' {
		i++
	}
	if len(s) < i+2 {
		return 0, 0, false
	}
	m, ok := num2(s, i)
	if !ok || h > 23 || m > 59 {
		return 0, 0, false
	}
	sec = h*3600 + m*60
	if s[0] == '-' {
		sec = -sec
	}
	return sec, i + 2, true
}

// zones caches one *time.Location per whole-minute UTC offset so that
// parsing "+0100" does not allocate a new zone for every line. The cached
// values are immutable, so sharing them between goroutines is safe.
var zones [2*24*60 + 1]atomic.Pointer[time.Location]

// fixedZone returns a zone for offset seconds east of UTC; UTC itself for 0.
func fixedZone(offset int) *time.Location {
	if offset == 0 {
		return time.UTC
	}
	if offset%60 != 0 || offset <= -24*3600 || offset >= 24*3600 {
		return time.FixedZone("", offset)
	}
	z := &zones[offset/60+24*60]
	if l := z.Load(); l != nil {
		return l
	}
	z.CompareAndSwap(nil, time.FixedZone("", offset))
	return z.Load()
}

// location is ctx.Location, or UTC when there is none.
func location(ctx *Context) *time.Location {
	if ctx == nil || ctx.Location == nil {
		return time.UTC
	}
	return ctx.Location
}

// yearless resolves a timestamp written without a year (BSD syslog). It
// takes the year of ctx.Reference, or the year before when that would put
// the event more than a day after Reference (a December line read in
// January). The day of slack absorbs clock skew between the writer and the
// file's modification time. A 29 February goes back to the last leap year.
// Without a Reference the year is unknown and the result is zero.
func yearless(ctx *Context, mon time.Month, day, h, m, s, ns int) time.Time {
	if ctx == nil || ctx.Reference.IsZero() {
		return time.Time{}
	}
	loc := location(ctx)
	limit := ctx.Reference.Add(24 * time.Hour)
	y := ctx.Reference.In(loc).Year()
	// Eight years back always reaches a leap year, even across 2100.
	for k := 0; k <= 8; k++ {
		if !validDate(y-k, mon, day) {
			continue
		}
		t := time.Date(y-k, mon, day, h, m, s, ns, loc)
		if !t.After(limit) {
			return t
		}
	}
	return time.Time{}
}

// countLines is the number of physical lines in a record.
func countLines(rec string) int {
	return strings.Count(rec, "\n") + 1
}

// resetEvent clears what a parser owns in ev and keeps the rest (Source,
// Offset and whatever else the caller sets), along with the capacity of
// Fields for reuse. Members are cleared one by one, not by assigning a new
// Event, so that caller-owned members added later survive too.
func resetEvent(ev *Event, f Format, rec string) {
	ev.Format = f
	ev.Time = time.Time{}
	ev.Uptime = 0
	ev.Level = ""
	ev.PID = 0
	ev.Message = ""
	ev.Fields = ev.Fields[:0]
	ev.Raw = rec
	ev.Lines = countLines(rec)
}

// clearEvent resets ev after a failed parse so no half-filled state leaks.
func clearEvent(ev *Event) {
	resetEvent(ev, FormatUnknown, "")
	ev.Lines = 0
}

// addField appends a field to ev.
func (e *Event) addField(k, v string) {
	e.Fields = append(e.Fields, Field{Key: k, Value: v})
}
