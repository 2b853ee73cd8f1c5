package envelope

import (
	"encoding/binary"
	"strings"
)

// This file holds the systemd forms that span lines: systemctl status
// blocks, journalctl -x catalog text and journalctl -o export entries.

// statusGlyphs start a systemctl status header: "●" (and "*" without UTF-8)
// for most states, "×" for failed since systemd 250, "○" inactive, "↻"
// reloading.
var statusGlyphs = [...]string{"● ", "× ", "○ ", "↻ ", "* "}

var unitSuffixes = [...]string{".service", ".socket", ".timer", ".target", ".mount", ".automount", ".path", ".slice", ".scope", ".device", ".swap"}

// statusHeader reads "● gunicorn.service - gunicorn daemon" and returns the
// unit.
func statusHeader(s string) (string, bool) {
	var rest string
	for _, g := range statusGlyphs {
		if strings.HasPrefix(s, g) {
			rest = s[len(g):]
			break
		}
	}
	if rest == "" {
		return "", false
	}
	unit := rest
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		unit = rest[:i]
		if !strings.HasPrefix(rest[i:], " - ") {
			return "", false
		}
	}
	for _, suf := range unitSuffixes {
		if len(unit) > len(suf) && strings.HasSuffix(unit, suf) {
			return unit, true
		}
	}
	return "", false
}

// statusLabels are the labels of systemctl status; outside a block that
// began with a header only these are taken, right-aligned as systemctl
// prints them.
var statusLabels = [...]string{"Loaded", "Active", "Main PID", "Process", "Tasks", "Memory", "CPU", "CGroup",
	"TriggeredBy", "Triggers", "Docs", "Drop-In", "Status", "IP", "IO", "Mem peak", "Swap peak", "Invocation",
	"Listen", "Accepted", "Connected", "Trigger", "Notes"}

// statusLabel reads the "Label:" that t (the line without its indentation)
// starts with.
func statusLabel(t string) (string, bool) {
	colon := strings.IndexByte(t, ':')
	if colon < 2 || colon > 14 || t[0] < 'A' || t[0] > 'Z' {
		return "", false
	}
	if colon+1 < len(t) && t[colon+1] != ' ' {
		return "", false
	}
	for i := 1; i < colon; i++ {
		if c := t[i]; !isAlpha(c) && c != ' ' && c != '-' {
			return "", false
		}
	}
	return t[:colon], true
}

// statusLine reads the lines of systemctl status before its journal tail.
// unit is the unit of the block the previous line was in, "" outside one.
// Each line comes back whole (trimmed) as text: "Main PID: 15935
// (code=exited, status=3)" is what signatures look at. A line that less -S
// cut ends in ">"; it is left so.
func (u *Unwrapper) statusLine(p *peel, s string, off int64, unit string) bool {
	if name, ok := statusHeader(s); ok {
		if !p.env.push(SystemctlStatus) {
			return false
		}
		p.env.Unit = name
		p.keyString(name)
		u.unit = name
		u.out = append(u.out, Line{Text: strings.TrimSpace(s), Offset: off, Env: *p.env})
		return true
	}
	t := strings.TrimLeft(s, " ")
	indent := len(s) - len(t)
	if t == "" {
		return false
	}
	label, isLabel := statusLabel(t)
	switch {
	case unit != "":
		tree := strings.HasPrefix(t, "├─") || strings.HasPrefix(t, "└─") || strings.HasPrefix(t, "│")
		if !isLabel && !tree && indent < 9 {
			return false
		}
	case isLabel:
		// Old systemd right-aligns labels at column 10, v246 and later at
		// column 12 ("TriggeredBy:"), newer ones a little wider.
		if col := indent + len(label); col < 9 || col > 12 || !knownLabel(label) {
			return false
		}
	default:
		return false
	}
	if !p.env.push(SystemctlStatus) {
		return false
	}
	text := strings.TrimSpace(t)
	p.env.Unit = unit
	p.keyString(unit)
	p.env.PID = statusPID(text, label)
	if unit != "" {
		u.unit = unit
	}
	u.out = append(u.out, Line{Text: text, Offset: off, Env: *p.env})
	return true
}

func knownLabel(l string) bool {
	for _, k := range statusLabels {
		if l == k {
			return true
		}
	}
	return false
}

// statusPID returns the pid a status line is about: "Main PID: 15935 (...)",
// "Process: 1918 ExecStart=...", or a CGroup tree line "├─1234 /usr/bin/...".
func statusPID(text, label string) string {
	switch label {
	case "Main PID", "Process":
		text = strings.TrimLeft(text[len(label)+1:], " ")
	case "":
		for _, pre := range [...]string{"├─", "└─"} {
			if strings.HasPrefix(text, pre) {
				text = text[len(pre):]
			}
		}
	default:
		return ""
	}
	i := 0
	for i < len(text) && isDigit(text[i]) {
		i++
	}
	if i == 0 || i < len(text) && text[i] != ' ' {
		return ""
	}
	return text[:i]
}

// catalogPrefix marks the explanation lines journalctl -x adds.
const catalogPrefix = "░░"

// catalogLine returns a journalctl -x explanation line without its "░░ "
// marker, as a journald line with no writer: it is systemd's text about
// the entry above, not that writer's output.
func (u *Unwrapper) catalogLine(p *peel, s string, off int64) bool {
	if !strings.HasPrefix(s, catalogPrefix) || !p.env.push(JournalShort) {
		return false
	}
	text := strings.TrimPrefix(s[len(catalogPrefix):], " ")
	u.out = append(u.out, Line{Text: text, Offset: off, Env: *p.env})
	return true
}

// exporter reads journalctl -o export: "KEY=value" lines, a blank line after
// each entry, and values that are not printable text written as
// "KEY\n<64-bit little-endian length><bytes>\n". A line-based reader sees such
// a value cut at its newlines, so its physical lines are put back together
// until the length is reached.
type exporter struct {
	active bool
	off    int64
	f      journalFields
	binKey string    // the field whose binary value is being read, "" when none
	bin    []byte    // what was read of it, length prefix included
	binRaw []rawLine // its physical lines, given back as they are if the length is nonsense
}

type rawLine struct {
	text string
	off  int64
}

func startsExport(line string) bool {
	return strings.HasPrefix(line, "__CURSOR=") || strings.HasPrefix(line, "__REALTIME_TIMESTAMP=")
}

func (e *exporter) start(off int64) {
	*e = exporter{active: true, off: off, bin: e.bin[:0]}
}

// exportField reports whether s is a journal field name.
func exportField(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// add reads one line of the entry. It reports false when the line does not
// belong to an export entry (the entry then ended without its blank line);
// the caller treats that line on its own.
func (e *exporter) add(u *Unwrapper, line string, off int64) bool {
	if e.binKey != "" {
		e.bin = append(e.bin, line...)
		e.binRaw = append(e.binRaw, rawLine{line, off})
		if len(e.bin) >= 8 {
			n := binary.LittleEndian.Uint64(e.bin[:8])
			if n > 64*maxJoin {
				raw := e.binRaw
				e.binKey, e.binRaw = "", nil
				e.end(u)
				for _, r := range raw {
					u.out = append(u.out, Line{Text: r.text, Offset: r.off})
				}
				return true
			}
			if uint64(len(e.bin)-8) >= n {
				e.f.set(e.binKey, string(e.bin[8:8+n]))
				e.binKey, e.bin, e.binRaw = "", e.bin[:0], nil
				return true
			}
		}
		// The newline the line reader took was part of the value.
		e.bin = append(e.bin, '\n')
		return true
	}
	if line == "" {
		e.end(u)
		return true
	}
	if startsExport(line) && strings.HasPrefix(line, "__CURSOR=") && e.f.realtime != "" {
		// A new entry without the blank line before it.
		e.end(u)
		e.start(off)
	}
	eq := strings.IndexByte(line, '=')
	if eq < 0 {
		if !exportField(line) {
			e.end(u)
			return false
		}
		e.binKey = line
		e.bin = e.bin[:0]
		return true
	}
	if !exportField(line[:eq]) {
		e.end(u)
		return false
	}
	e.f.set(line[:eq], line[eq+1:])
	return true
}

// end emits the entry read so far.
func (e *exporter) end(u *Unwrapper) {
	if !e.active {
		return
	}
	raw := e.binRaw
	f := e.f
	off := e.off
	e.active, e.binKey, e.binRaw, e.f = false, "", nil, journalFields{}
	var env Envelope
	p := peel{env: &env}
	if f.apply(&p, JournalExport) {
		f.emit(u, &p, JournalExport, off)
	}
	// An unfinished binary value (end of input) is given back as it was.
	for _, r := range raw {
		u.out = append(u.out, Line{Text: r.text, Offset: r.off})
	}
}
