package parse

import (
	"strconv"
	"strings"
	"time"
)

// kernelParser reads the kernel log in the shapes its consumers print it:
//
//	[12345.678901] msg                          dmesg (Uptime; Time = BootTime + Uptime)
//	<6>[12345.678901] msg                       dmesg -r, /proc/kmsg
//	[Tue Nov 24 10:00:00 2026] msg              dmesg -T (Time in ctx.Location)
//	2026-11-24T10:00:00,123456+00:00 msg        dmesg --time-format=iso
//	kern  :info  : [12345.678901] msg          dmesg -x (any of the above after it)
//	6,1234,5678901,-;msg                        /dev/kmsg, with " KEY=value" lines after it
//	Nov 24 10:00:00 host kernel: [12345.6] msg  rsyslog (imklog keeps the bracket), journalctl
//	2026-11-24T10:00:00.123456+00:00 host kernel: msg   RSYSLOG_FileFormat, journalctl -o short-iso
//	[12345.678901] host kernel: msg             journalctl -o short-monotonic
//	{"MESSAGE":"...","PRIORITY":"6",...}        journalctl -o json
//
// Fields: priority (the level, when known), facility (when known: from a
// /dev/kmsg or <PRI> prefix as prefix>>3, from dmesg -x, from the journal),
// seq (/dev/kmsg), caller (CONFIG_PRINTK_CALLER), host and tag (syslog and
// journal), then a /dev/kmsg record's dictionary lines by their KEY.
//
// Userspace can write to /dev/kmsg but never with facility 0, so a record
// whose facility is not 0 is not the kernel's, even when its text reads
// "Out of memory: Killed process". It still parses, with its facility set,
// so that signatures can require facility 0.
//
// Syslog and journal lines of other programs parse as well, with their tag
// (systemd-coredump, systemd) and their pid, and without a facility, since a
// text syslog line does not say it: users point sigtail at /var/log/syslog
// and journal exports, and the userspace side of an OOM kill or a crash
// ("A process of this unit has been killed by the OOM killer", "Process
// 4312 (python3) of user 1000 dumped core.") is logged there. Signatures
// that want the kernel's own lines can require tag "kernel" or no tag.
//
// Lines that begin with white space continue the record before them: a
// /dev/kmsg dictionary line, or the indented rest of a multi-line message
// as dmesg and journalctl print it (the indentation is removed).
type kernelParser struct{}

var _ Parser = kernelParser{}

func (kernelParser) Format() Format { return FormatKernel }

func (kernelParser) Starts(line string) bool {
	return line == "" || (line[0] != ' ' && line[0] != '\t')
}

// RecordEnds: only a journal JSON line is known to be whole; any other
// record may get dictionary or continuation lines.
func (kernelParser) RecordEnds(line string, first bool) bool {
	return first && len(line) > 0 && line[0] == '{'
}

func (kernelParser) Parse(rec string, ctx *Context, ev *Event) bool {
	resetEvent(ev, FormatKernel, rec)
	first, more, multi := strings.Cut(rec, "\n")
	if len(first) > 0 && first[0] == '{' {
		if !multi && parseJournalJSON(first, ctx, ev) {
			return true
		}
		clearEvent(ev)
		return false
	}
	msg, kmsg, ok := parseKernelLine(first, ctx, ev)
	if !ok {
		clearEvent(ev)
		return false
	}
	if kmsg {
		msg = unescapeKmsg(msg)
	}
	if !multi {
		ev.Message = msg
		return true
	}
	// Continuation lines. The indentation of dmesg and journalctl equals
	// the width of the first line's header.
	indent := len(first) - len(msg)
	if kmsg {
		indent = 1
	}
	var b strings.Builder
	lines := 0
	for more != "" || multi {
		var l string
		l, more, multi = strings.Cut(more, "\n")
		if kmsg {
			if k, v, ok := kmsgDictLine(l); ok {
				ev.addField(k, v)
				continue
			}
		}
		if lines == 0 {
			b.Grow(len(rec))
			b.WriteString(msg)
		}
		lines++
		b.WriteByte('\n')
		b.WriteString(trimIndent(l, indent))
	}
	if lines == 0 {
		ev.Message = msg
	} else {
		ev.Message = b.String()
	}
	return true
}

// trimIndent removes up to n leading blanks.
func trimIndent(s string, n int) string {
	i := 0
	for i < n && i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return s[i:]
}

// kmsgDictLine reads a /dev/kmsg dictionary line, " KEY=value".
func kmsgDictLine(l string) (k, v string, ok bool) {
	if len(l) < 3 || l[0] != ' ' {
		return "", "", false
	}
	eq := strings.IndexByte(l, '=')
	if eq < 2 {
		return "", "", false
	}
	for i := 1; i < eq; i++ {
		c := l[i]
		if !(c >= 'A' && c <= 'Z' || c == '_' || isDigit(c)) {
			return "", "", false
		}
	}
	return l[1:eq], l[eq+1:], true
}

// parseKernelLine reads the first line of a record, fills ev's header
// members and returns the message text (still escaped when kmsg is true).
func parseKernelLine(s string, ctx *Context, ev *Event) (msg string, kmsg, ok bool) {
	if s == "" {
		return "", false, false
	}
	if fac, lvl, n, ok := dmesgDecodePrefix(s); ok {
		setPriority(ev, fac<<3|lvl, true)
		return dmesgRest(s[n:], ctx, ev, true)
	}
	switch c := s[0]; {
	case c == '<':
		pri, n, ok := parsePRI(s)
		if !ok {
			return "", false, false
		}
		rest := s[n:]
		if sl, ok := parseSyslog(rest, ctx); ok {
			setPriority(ev, pri, true)
			return syslogKernel(sl, ctx, ev), false, true
		}
		setPriority(ev, pri, true)
		// A bare message after <N> (printk.time=0) is only taken for
		// facility 0: with another facility the line is far more likely a
		// raw syslog datagram of some program than a kernel record.
		return dmesgRest(rest, ctx, ev, pri < 8)
	case isDigit(c):
		if m, ok := parseKmsg(s, ctx, ev); ok {
			return m, true, true
		}
		if t, n, sep, ok := isoTime(s, ctx); ok && sep == ',' {
			// dmesg --time-format=iso
			if n < len(s) && s[n] != ' ' {
				return "", false, false
			}
			ev.Time = t
			return cutSpace(s[n:]), false, true
		}
		if sl, ok := parseSyslog(s, ctx); ok {
			return syslogKernel(sl, ctx, ev), false, true
		}
		return "", false, false
	case c == '[':
		// journalctl -o short-monotonic: "[uptime] host kernel: msg". Only
		// the kernel tag is taken: "usb 1-1: ..." is a dmesg message.
		if d, n, ok := uptimeBracket(s); ok {
			rest := cutSpace(s[n:])
			if sp := strings.IndexByte(rest, ' '); sp > 0 && strings.HasPrefix(rest[sp:], " kernel: ") {
				setUptime(ev, ctx, d)
				ev.addField("host", rest[:sp])
				ev.addField("tag", "kernel")
				return rest[sp+len(" kernel: "):], false, true
			}
		}
		return dmesgRest(s, ctx, ev, false)
	}
	if sl, ok := parseSyslog(s, ctx); ok {
		return syslogKernel(sl, ctx, ev), false, true
	}
	return "", false, false
}

// dmesgRest reads what dmesg prints after its optional -x or -r prefix:
// "[uptime] msg", "[ctime] msg", "iso msg", or, when the prefix was there,
// a bare message (printk.time=0).
func dmesgRest(s string, ctx *Context, ev *Event, prefixed bool) (string, bool, bool) {
	if d, n, ok := uptimeBracket(s); ok {
		setUptime(ev, ctx, d)
		s = s[n:]
		if c, n, ok := callerBracket(s); ok {
			ev.addField("caller", c)
			s = s[n:]
		}
		return cutSpace(s), false, true
	}
	if t, n, ok := ctimeBracket(s, ctx); ok {
		ev.Time = t
		return cutSpace(s[n:]), false, true
	}
	if t, n, sep, ok := isoTime(s, ctx); ok && sep == ',' && (n == len(s) || s[n] == ' ') {
		ev.Time = t
		return cutSpace(s[n:]), false, true
	}
	if prefixed {
		return s, false, true
	}
	return "", false, false
}

func cutSpace(s string) string {
	if len(s) > 0 && s[0] == ' ' {
		return s[1:]
	}
	return s
}

// syslogKernel fills ev from a syslog line and returns the message. A
// kernel line that rsyslog's imklog copied keeps dmesg's "[uptime] ".
func syslogKernel(sl syslogLine, ctx *Context, ev *Event) string {
	ev.Time = sl.time
	if sl.host != "" {
		ev.addField("host", sl.host)
	}
	ev.addField("tag", sl.tag)
	if sl.pid != "" {
		ev.PID, _ = atoi(sl.pid)
	}
	msg := sl.msg
	if sl.tag == "kernel" {
		if d, n, ok := uptimeBracket(msg); ok {
			ev.Uptime = d
			msg = cutSpace(msg[n:])
		}
	}
	return msg
}

// setPriority sets Level and the priority (and facility) fields from a
// <PRI> or /dev/kmsg prefix.
func setPriority(ev *Event, pri int, withFacility bool) {
	lvl := strconv.Itoa(pri & 7) // no allocation below 100
	ev.Level = lvl
	ev.addField("priority", lvl)
	if withFacility {
		ev.addField("facility", strconv.Itoa(pri>>3))
	}
}

// setUptime sets Uptime, and Time when the boot time is known.
func setUptime(ev *Event, ctx *Context, d time.Duration) {
	ev.Uptime = d
	if ctx != nil && !ctx.BootTime.IsZero() {
		ev.Time = ctx.BootTime.Add(d).In(location(ctx))
	}
}

// uptimeBracket reads "[12345.678901]" (seconds right-aligned in width 5).
func uptimeBracket(s string) (time.Duration, int, bool) {
	if len(s) < 4 || s[0] != '[' {
		return 0, 0, false
	}
	i := 1
	for i < len(s) && s[i] == ' ' {
		i++
	}
	end := digitsAt(s, i)
	if end == i || end-i > 10 || end >= len(s) || s[end] != '.' {
		return 0, 0, false
	}
	sec, _ := atoi(s[i:end])
	if sec > maxSeconds {
		return 0, 0, false
	}
	f := end + 1
	fend := digitsAt(s, f)
	if fend == f || fend >= len(s) || s[fend] != ']' {
		return 0, 0, false
	}
	return time.Duration(sec)*time.Second + time.Duration(fraction(s[f:fend])), fend + 1, true
}

// callerBracket reads CONFIG_PRINTK_CALLER's "[  T1234]" or "[C3]", with or
// without a space before it.
func callerBracket(s string) (string, int, bool) {
	i := 0
	if i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) || s[i] != '[' {
		return "", 0, false
	}
	j := i + 1
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) || (s[j] != 'T' && s[j] != 'C') {
		return "", 0, false
	}
	end := digitsAt(s, j+1)
	if end == j+1 || end >= len(s) || s[end] != ']' {
		return "", 0, false
	}
	return s[j:end], end + 1, true
}

// ctimeBracket reads dmesg -T's "[Tue Nov  4 10:00:00 2026]" (strftime
// "%a %b %e %H:%M:%S %Y", English locale only).
func ctimeBracket(s string, ctx *Context) (time.Time, int, bool) {
	const n = len("[Tue Nov 24 10:00:00 2026]")
	if len(s) < n || s[0] != '[' || !weekday3(s[1:]) || s[4] != ' ' || s[8] != ' ' ||
		s[11] != ' ' || s[20] != ' ' || s[25] != ']' {
		return time.Time{}, 0, false
	}
	mon, ok := month3(s[5:])
	if !ok {
		return time.Time{}, 0, false
	}
	var day int
	if s[9] == ' ' {
		day = int(s[10] - '0')
		ok = isDigit(s[10])
	} else {
		day, ok = num2(s, 9)
	}
	h, m, sec, ok2 := clock(s, 12)
	y, ok3 := num4(s, 21)
	if !ok || !ok2 || !ok3 || !validDate(y, mon, day) {
		return time.Time{}, 0, false
	}
	return time.Date(y, mon, day, h, m, sec, 0, location(ctx)), n, true
}

// parseKmsg reads a /dev/kmsg header, "PREFIX,SEQ,USEC,FLAGS[,MORE...];".
func parseKmsg(s string, ctx *Context, ev *Event) (string, bool) {
	semi := strings.IndexByte(s, ';')
	if semi < 0 {
		return "", false
	}
	head := s[:semi]
	pre, head, ok1 := strings.Cut(head, ",")
	seq, head, ok2 := strings.Cut(head, ",")
	usec, head, ok3 := strings.Cut(head, ",")
	flags, more, _ := strings.Cut(head, ",")
	if !ok1 || !ok2 || !ok3 || flags == "" || strings.ContainsAny(flags, " ") {
		return "", false
	}
	prefix, ok1 := atoi(pre)
	_, ok2 = atoi(seq)
	us, ok3 := atoi(usec)
	if !ok1 || !ok2 || !ok3 || len(pre) > 4 || us > maxMicros {
		return "", false
	}
	setPriority(ev, prefix, true)
	ev.addField("seq", seq)
	// Fields after the flags are for future use and are skipped, except
	// the caller id of CONFIG_PRINTK_CALLER.
	for more != "" {
		var f string
		f, more, _ = strings.Cut(more, ",")
		if c, ok := strings.CutPrefix(f, "caller="); ok {
			ev.addField("caller", c)
		}
	}
	setUptime(ev, ctx, time.Duration(us)*time.Microsecond)
	return s[semi+1:], true
}

// maxMicros and maxSeconds are the largest counts a Duration can hold.
const (
	maxMicros  = int(^uint64(0)>>1) / 1000
	maxSeconds = maxMicros/1e6 - 1
)

// unescapeKmsg decodes /dev/kmsg's "\xHH" escapes (control bytes, bytes
// >= 0x7f and the backslash itself are written that way).
func unescapeKmsg(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && s[i+1] == 'x' {
			if v, ok := hexByte(s[i+2], s[i+3]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hexByte(a, b byte) (byte, bool) {
	x, ok1 := hexDigit(a)
	y, ok2 := hexDigit(b)
	return x<<4 | y, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// util-linux dmesg's facility and level names, in code order, for -x.
var (
	dmesgFacilities = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
		"uucp", "cron", "authpriv", "ftp", "res0", "res1", "res2", "res3",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}
	dmesgLevels = [...]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}
)

// dmesgDecodePrefix reads dmesg -x's "kern  :info  : ".
func dmesgDecodePrefix(s string) (fac, lvl, n int, ok bool) {
	if len(s) == 0 || s[0] < 'a' || s[0] > 'z' {
		return 0, 0, 0, false
	}
	name, i := nameBefore(s, 0)
	if fac = indexOf(dmesgFacilities[:], name); fac < 0 {
		return 0, 0, 0, false
	}
	name, i = nameBefore(s, i)
	if lvl = indexOf(dmesgLevels[:], name); lvl < 0 || i >= len(s) || s[i] != ' ' {
		return 0, 0, 0, false
	}
	return fac, lvl, i + 1, true
}

// nameBefore reads a word at s[i:], then blanks, then ':'; it returns the
// word and the index after the colon.
func nameBefore(s string, i int) (string, int) {
	j := i
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || isDigit(s[j])) {
		j++
	}
	name := s[i:j]
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) || s[j] != ':' {
		return "", len(s)
	}
	return name, j + 1
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s && s != "" {
			return i
		}
	}
	return -1
}
