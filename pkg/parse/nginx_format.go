package parse

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLogFormat is what every error of NewNginxAccess wraps.
var ErrLogFormat = errors.New("cannot compile nginx log_format")

// LogFormatError says where and why NewNginxAccess could not compile a
// log_format.
type LogFormatError struct {
	Format string // the log_format as given
	Offset int    // byte offset of the problem, in the format once nginx.conf quoting is removed
	Var    string // the offending variable, without '$', when one is to blame
	Reason string
}

func (e *LogFormatError) Error() string {
	if e.Var != "" {
		return fmt.Sprintf("nginx log_format %q: $%s at offset %d: %s", e.Format, e.Var, e.Offset, e.Reason)
	}
	return fmt.Sprintf("nginx log_format %q: offset %d: %s", e.Format, e.Offset, e.Reason)
}

func (e *LogFormatError) Unwrap() error { return ErrLogFormat }

// NewNginxAccess compiles an nginx log_format into a parser of the lines it
// writes. logFormat is the format text, with or without its configuration
// quoting: `$remote_addr - [$time_local] "$request" $status`, or as copied
// from nginx.conf, `log_format main '$remote_addr ... '
// '"$http_user_agent"';` (single-quoted pieces are joined the way nginx
// joins them; double-quoted pieces only after a `log_format NAME` prefix,
// since a bare format often starts with a double quote of its own).
//
// Fields are named after the variables without '$'; $request also gives
// method, uri and protocol right after it. Time comes from the first of
// $time_local, $time_iso8601 or $msec in the format. Message is $request, or
// else $request_uri or $uri, or else the whole line.
//
// A line is matched left to right, without backtracking: each variable's
// value ends at the first occurrence of the literal text that follows it in
// the format (skipping escaped quotes, and the ", " and " : " separators
// inside $upstream_* lists; $time_local and $time_iso8601 have a fixed
// width). So two variables need literal text between them, and that is the
// error returned for a format like "$remote_addr$status".
func NewNginxAccess(logFormat string) (Parser, error) {
	text, err := unquoteLogFormat(logFormat)
	if err != nil {
		return nil, err
	}
	p := &nginxFormatParser{source: logFormat, timeVar: -1, msgVar: -1}
	var pending strings.Builder
	i := 0
	for i < len(text) {
		c := text[i]
		if c != '$' {
			pending.WriteByte(c)
			i++
			continue
		}
		start := i
		name, n, err := varName(text[i:])
		if err != nil {
			err.Format, err.Offset = logFormat, start
			return nil, err
		}
		i += n
		if len(p.vars) > 0 && pending.Len() == 0 {
			return nil, &LogFormatError{Format: logFormat, Offset: start, Var: name,
				Reason: fmt.Sprintf("follows $%s with no literal text between them, so the end of $%s cannot be found", p.vars[len(p.vars)-1].name, p.vars[len(p.vars)-1].name)}
		}
		p.lits = append(p.lits, pending.String())
		pending.Reset()
		p.vars = append(p.vars, newFormatVar(name))
	}
	p.lits = append(p.lits, pending.String())
	if len(p.vars) == 0 {
		return nil, &LogFormatError{Format: logFormat, Reason: "has no variables"}
	}
	for k, v := range p.vars {
		switch v.name {
		case "time_local", "time_iso8601", "msec":
			if p.timeVar < 0 {
				p.timeVar = k
			}
		}
	}
	for _, want := range [...]string{"request", "request_uri", "uri"} {
		for k, v := range p.vars {
			if v.name == want && p.msgVar < 0 {
				p.msgVar = k
			}
		}
	}
	return p, nil
}

// unquoteLogFormat removes nginx.conf syntax around a format, if any.
func unquoteLogFormat(in string) (string, error) {
	s := strings.TrimSpace(in)
	double := false
	if rest, ok := strings.CutPrefix(s, "log_format"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n') {
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return "", &LogFormatError{Format: in, Reason: "log_format has no name and no format"}
		}
		rest = strings.TrimSpace(rest)
		rest = strings.TrimSpace(rest[len(fields[0]):]) // the name
		if strings.HasPrefix(rest, "escape=") {
			sp := strings.IndexAny(rest, " \t\n")
			if sp < 0 {
				rest = ""
			} else {
				rest = strings.TrimSpace(rest[sp:])
			}
		}
		s = strings.TrimSuffix(rest, ";")
		s = strings.TrimSpace(s)
		double = true
	}
	if s == "" {
		return "", &LogFormatError{Format: in, Reason: "is empty"}
	}
	if s[0] != '\'' && !(double && s[0] == '"') {
		return s, nil
	}
	var b strings.Builder
	for s != "" {
		q := s[0]
		if q != '\'' && q != '"' {
			return "", &LogFormatError{Format: in, Offset: len(in) - len(s), Reason: "text outside the quoted pieces"}
		}
		i := 1
		for ; i < len(s) && s[i] != q; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				default:
					b.WriteByte(s[i])
				}
				continue
			}
			b.WriteByte(s[i])
		}
		if i >= len(s) {
			return "", &LogFormatError{Format: in, Offset: len(in) - len(s), Reason: "unterminated quoted piece"}
		}
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s[i+1:]), ";"))
	}
	return b.String(), nil
}

// varName reads "$name" or "${name}" at the start of s.
func varName(s string) (string, int, *LogFormatError) {
	if len(s) > 1 && s[1] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", 0, &LogFormatError{Reason: "unterminated ${"}
		}
		name := s[2:end]
		if name == "" || nameLen(name) != len(name) {
			return "", 0, &LogFormatError{Var: name, Reason: "is not a variable name"}
		}
		return name, end + 1, nil
	}
	n := nameLen(s[1:])
	if n == 0 {
		return "", 0, &LogFormatError{Reason: "'$' is not followed by a variable name"}
	}
	return s[1 : 1+n], 1 + n, nil
}

// nameLen is the length of the variable name at the start of s.
func nameLen(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || isDigit(c) {
			i++
			continue
		}
		break
	}
	return i
}

type varKind uint8

const (
	varText      varKind = iota
	varTimeLocal         // fixed width
	varTimeISO           // fixed width
	varList              // $upstream_*: "a, b : c"
)

type formatVar struct {
	name string
	kind varKind
}

func newFormatVar(name string) formatVar {
	v := formatVar{name: name}
	switch {
	case name == "time_local":
		v.kind = varTimeLocal
	case name == "time_iso8601":
		v.kind = varTimeISO
	case strings.HasPrefix(name, "upstream_"):
		v.kind = varList
	}
	return v
}

// nginxFormatParser is a compiled log_format: lits[0] vars[0] lits[1] ...
// vars[n-1] lits[n], where every lits[1..n-1] is non-empty.
type nginxFormatParser struct {
	source  string
	lits    []string
	vars    []formatVar
	timeVar int // index in vars of the time source, -1 if none
	msgVar  int // index in vars of the message, -1 if none
}

var _ Parser = (*nginxFormatParser)(nil)

func (*nginxFormatParser) Format() Format                      { return FormatNginxAccess }
func (*nginxFormatParser) Starts(string) bool                  { return true }
func (*nginxFormatParser) RecordEnds(line string, _ bool) bool { return true }

// String returns the log_format the parser was compiled from.
func (p *nginxFormatParser) String() string { return p.source }

func (p *nginxFormatParser) Parse(rec string, ctx *Context, ev *Event) bool {
	resetEvent(ev, FormatNginxAccess, rec)
	if !strings.HasPrefix(rec, p.lits[0]) {
		clearEvent(ev)
		return false
	}
	pos := len(p.lits[0])
	for k, v := range p.vars {
		next := p.lits[k+1]
		end := len(rec) // the last variable may run to the end of the line
		if next != "" {
			end = v.end(rec, pos, next)
			if end < 0 {
				clearEvent(ev)
				return false
			}
		}
		val := rec[pos:end]
		ev.addField(v.name, val)
		if v.name == "request" {
			addRequestParts(ev, val)
		}
		if k == p.timeVar {
			var ok bool
			switch v.name {
			case "time_local":
				ev.Time, ok = timeLocal(val)
			case "time_iso8601":
				ev.Time, ok = timeISO8601(val)
			default:
				ev.Time, ok = msecTime(val, ctx)
			}
			if !ok {
				clearEvent(ev)
				return false
			}
		}
		if k == p.msgVar {
			ev.Message = val
		}
		pos = end + len(next)
	}
	if pos != len(rec) {
		clearEvent(ev)
		return false
	}
	if p.msgVar < 0 {
		ev.Message = rec
	}
	return true
}

// end finds where the value that starts at pos ends: the index of the
// following literal next.
func (v formatVar) end(s string, pos int, next string) int {
	switch v.kind {
	case varTimeLocal, varTimeISO:
		n := timeLocalLen
		if v.kind == varTimeISO {
			n = len("2026-11-24T10:00:00+00:00")
		}
		if len(s) < pos+n || !strings.HasPrefix(s[pos+n:], next) {
			return -1
		}
		return pos + n
	}
	for from := pos; from <= len(s); {
		i := strings.Index(s[from:], next)
		if i < 0 {
			return -1
		}
		i += from
		from = i + 1
		if next[0] == '"' {
			bs := 0
			for k := i - 1; k >= pos && s[k] == '\\'; k-- {
				bs++
			}
			if bs%2 == 1 {
				continue // an escaped quote inside the value
			}
		}
		if v.kind == varList && next[0] == ' ' {
			if i > pos && s[i-1] == ',' || strings.HasPrefix(s[i:], " : ") || i > pos+1 && s[i-2:i] == " :" {
				continue // inside "a, b" or "a : b"
			}
		}
		return i
	}
	return -1
}
