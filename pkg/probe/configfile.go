package probe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// This file reads the literal assignments of a Gunicorn config file (a
// Python module) without running it. Gunicorn executes the file and takes
// every module-level name that is a setting; here a module-level
// `name = LITERAL` (a number, a string, True/False/None, a list or tuple of
// those) is a known value, and anything else (a call, arithmetic, a name,
// an f-string with fields, an assignment under if/for/try) is an unknown
// value reported with its expression. Assignments inside def and class
// bodies (server hooks) are not settings and are skipped.

// configValue is the last module-level assignment of a setting.
type configValue struct {
	literal bool
	value   string   // the literal's value (strings unquoted)
	list    []string // for a list or tuple literal
	expr    string   // the expression as written, when not a literal
	line    int
}

// configFile is what parseConfigFile found.
type configFile struct {
	values map[string]configValue
	notes  []string // what may set settings unseen (star imports, exec)
}

// logicalLine is one Python statement line: comments gone, lines joined
// inside brackets and after a backslash.
type logicalLine struct {
	line   int // first physical line, from 1
	indent int
	text   string
}

// splitLogical splits Python source into logical lines.
func splitLogical(src string) []logicalLine {
	var out []logicalLine
	var b strings.Builder
	line, start, depth := 1, 1, 0
	indent, atStart := 0, true
	var quote byte
	triple := false
	flush := func() {
		if t := strings.TrimSpace(b.String()); t != "" {
			out = append(out, logicalLine{line: start, indent: indent, text: t})
		}
		b.Reset()
		atStart, indent = true, 0
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if quote != 0 {
			b.WriteByte(c)
			switch {
			case c == '\\' && i+1 < len(src):
				i++
				b.WriteByte(src[i])
				if src[i] == '\n' {
					line++
				}
			case c == '\n':
				line++
			case c == quote && (!triple || strings.HasPrefix(src[i:], strings.Repeat(string(quote), 3))):
				if triple {
					b.WriteString(src[i+1 : i+3])
					i += 2
				}
				quote = 0
			}
			continue
		}
		if atStart {
			switch c {
			case ' ':
				indent++
				continue
			case '\t':
				indent = (indent/8 + 1) * 8
				continue
			case '\n', '\r', '#':
				// a blank or comment-only line: no indentation to keep
			default:
				atStart, start = false, line
			}
		}
		switch c {
		case '#':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case '\'', '"':
			quote = c
			triple = strings.HasPrefix(src[i:], strings.Repeat(string(c), 3))
			b.WriteByte(c)
			if triple {
				b.WriteString(src[i+1 : i+3])
				i += 2
			}
		case '(', '[', '{':
			depth++
			b.WriteByte(c)
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
			b.WriteByte(c)
		case '\\':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
				line++
				b.WriteByte(' ')
			} else {
				b.WriteByte(c)
			}
		case '\n':
			line++
			if depth > 0 {
				b.WriteByte(' ')
				continue
			}
			if atStart {
				indent = 0
				continue
			}
			flush()
		case '\r':
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return out
}

var (
	blockHeader = regexp.MustCompile(`^(async\s+)?(def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b`)
	starImport  = regexp.MustCompile(`^from\s+\S+\s+import\s+\*`)
	identifier  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// parseConfigFile reads the settings a Gunicorn config file assigns.
// isSetting says which module-level names Gunicorn would take.
func parseConfigFile(src string, isSetting func(string) bool) configFile {
	cf := configFile{values: map[string]configValue{}}
	type block struct {
		indent int
		skip   bool // def or class: assignments there are not settings
		line   int
	}
	var blocks []block
	assign := func(name, op, rhs string, line int, cond *block) {
		if !isSetting(name) {
			return
		}
		v := configValue{expr: strings.TrimSpace(rhs), line: line}
		if op != "=" {
			v.expr = fmt.Sprintf("%s %s %s", name, op, v.expr)
		} else if val, list, ok := parseLiteral(v.expr); ok && cond == nil {
			v.literal, v.value, v.list = true, val, list
		}
		if cond != nil {
			prev, had := cf.values[name]
			was := "unset"
			if had {
				was = prev.expr
			}
			v.expr = fmt.Sprintf("%s, or %s under the condition at line %d", was, v.expr, cond.line)
			v.literal = false
		}
		cf.values[name] = v
	}
	for _, l := range splitLogical(src) {
		for len(blocks) > 0 && blocks[len(blocks)-1].indent >= l.indent {
			blocks = blocks[:len(blocks)-1]
		}
		var cond *block
		skip := false
		for i := range blocks {
			if blocks[i].skip {
				skip = true
			} else if cond == nil {
				cond = &blocks[i]
			}
		}
		if skip {
			continue
		}
		text := l.text
		if m := blockHeader.FindStringSubmatch(text); m != nil {
			colon := topLevelColon(text)
			b := block{indent: l.indent, skip: m[2] == "def" || m[2] == "class", line: l.line}
			if colon < 0 {
				continue // a header we cannot read; its body still pops by indent
			}
			body := strings.TrimSpace(text[colon+1:])
			if body == "" {
				blocks = append(blocks, b)
				continue
			}
			if b.skip {
				continue
			}
			// `if x: workers = 3` — a one-line body under a condition.
			for _, stmt := range strings.Split(body, ";") {
				if lhs, op, rhs, ok := splitAssign(stmt); ok {
					for _, name := range assignTargets(lhs) {
						assign(name, op, rhs, l.line, &b)
					}
				}
			}
			continue
		}
		if starImport.MatchString(text) {
			cf.notes = append(cf.notes, fmt.Sprintf("line %d: %q may set any setting", l.line, text))
			continue
		}
		if strings.HasPrefix(text, "exec(") || strings.Contains(text, "globals()") {
			cf.notes = append(cf.notes, fmt.Sprintf("line %d: %q may set settings that cannot be read here", l.line, text))
		}
		for _, stmt := range strings.Split(text, ";") {
			lhs, op, rhs, ok := splitAssign(stmt)
			if !ok {
				continue
			}
			targets := assignTargets(lhs)
			if len(targets) == 1 && !strings.ContainsAny(lhs, ",") {
				assign(targets[0], op, rhs, l.line, cond)
				continue
			}
			// a, b = ...: each is known only as part of the expression.
			for _, name := range targets {
				assign(name, "=", fmt.Sprintf("(%s = %s)", strings.TrimSpace(lhs), strings.TrimSpace(rhs)), l.line, cond)
				if v := cf.values[name]; v.literal {
					v.literal = false
					cf.values[name] = v
				}
			}
		}
	}
	return cf
}

// topLevelColon is the index of the ':' ending a compound statement's
// header, outside brackets and strings; -1 if none.
func topLevelColon(s string) int { return topLevel(s, 0, ':') }

// topLevel is the index of the first c at or after from that stands
// outside brackets and string literals; -1 if none.
func topLevel(s string, from int, c byte) int {
	depth := 0
	var quote byte
	for i := from; i < len(s); i++ {
		b := s[i]
		switch {
		case quote != 0:
			if b == '\\' {
				i++
			} else if b == quote {
				quote = 0
			}
		case b == '\'' || b == '"':
			quote = b
		case b == '(' || b == '[' || b == '{':
			depth++
		case b == ')' || b == ']' || b == '}':
			depth--
		case b == c && depth == 0:
			return i
		}
	}
	return -1
}

// splitAssign splits `lhs = rhs` (or an augmented `lhs += rhs`, or an
// annotated `name: int = rhs`) at its top-level assignment operator.
func splitAssign(stmt string) (lhs, op, rhs string, ok bool) {
	i := topLevel(stmt, 0, '=')
	switch {
	case i < 0, i+1 < len(stmt) && stmt[i+1] == '=':
		return "", "", "", false // none, or a comparison
	case i > 0 && strings.IndexByte("=!<>", stmt[i-1]) >= 0 && !strings.HasSuffix(stmt[:i], "<<") && !strings.HasSuffix(stmt[:i], ">>"):
		return "", "", "", false
	}
	lhs, op = stmt[:i], "="
	for _, aug := range []string{"//", "**", ">>", "<<", "+", "-", "*", "/", "%", "&", "|", "^", "@"} {
		if strings.HasSuffix(lhs, aug) {
			lhs, op = lhs[:len(lhs)-len(aug)], aug+"="
			break
		}
	}
	if name, _, annotated := strings.Cut(lhs, ":"); annotated && op == "=" {
		lhs = name
	}
	return strings.TrimSpace(lhs), op, stmt[i+1:], true
}

// assignTargets lists the plain names on the left of an assignment
// (`workers`, or `workers, threads` and `(a, b)`); attribute and item
// targets (`os.environ["X"]`) set no setting.
func assignTargets(lhs string) []string {
	var names []string
	for _, part := range strings.Split(strings.Trim(lhs, "()[] "), ",") {
		part = strings.TrimSpace(part)
		if identifier.MatchString(part) {
			names = append(names, part)
		}
	}
	return names
}

var pyInt = regexp.MustCompile(`^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$`)

// parseLiteral evaluates a Python literal: an int, a string, True, False,
// None, or a list or tuple of strings and ints. Anything else is not one.
func parseLiteral(expr string) (value string, list []string, ok bool) {
	expr = strings.TrimSpace(expr)
	switch expr {
	case "True", "False", "None":
		return expr, nil, true
	}
	if pyInt.MatchString(expr) {
		n, err := strconv.ParseInt(strings.ReplaceAll(expr, "_", ""), 0, 64)
		if err != nil {
			return "", nil, false
		}
		return strconv.FormatInt(n, 10), nil, true
	}
	if s, ok := parseString(expr); ok {
		return s, nil, true
	}
	if n := len(expr); n >= 2 && (expr[0] == '[' && expr[n-1] == ']' || expr[0] == '(' && expr[n-1] == ')') {
		inner := strings.TrimSpace(expr[1 : n-1])
		if inner == "" {
			return "", []string{}, true
		}
		items := splitTopLevel(inner, ',')
		if expr[0] == '(' && len(items) == 1 {
			// (x) is x, not a tuple.
			v, l, ok := parseLiteral(inner)
			return v, l, ok
		}
		for _, it := range items {
			it = strings.TrimSpace(it)
			if it == "" {
				continue // the trailing comma of ("a",)
			}
			v, l, ok := parseLiteral(it)
			if !ok || l != nil {
				return "", nil, false
			}
			list = append(list, v)
		}
		return strings.Join(list, ","), list, true
	}
	return "", nil, false
}

// parseString evaluates one Python string literal with an optional r, u or
// b prefix; an f-string is a literal only when it has no fields.
func parseString(expr string) (string, bool) {
	i := 0
	raw, f := false, false
	for i < len(expr) && i < 2 && strings.IndexByte("rRuUbBfF", expr[i]) >= 0 {
		switch expr[i] {
		case 'r', 'R':
			raw = true
		case 'f', 'F':
			f = true
		}
		i++
	}
	body := expr[i:]
	if len(body) < 2 {
		return "", false
	}
	q := body[:1]
	if q != "'" && q != `"` {
		return "", false
	}
	if strings.HasPrefix(body, q+q+q) && len(body) >= 6 && strings.HasSuffix(body, q+q+q) {
		body = body[3 : len(body)-3]
	} else if body[len(body)-1:] == q {
		body = body[1 : len(body)-1]
		if strings.Contains(strings.ReplaceAll(body, `\`+q, ""), q) {
			return "", false // two literals side by side, or not one at all
		}
	} else {
		return "", false
	}
	if f && strings.ContainsAny(strings.ReplaceAll(strings.ReplaceAll(body, "{{", ""), "}}", ""), "{}") {
		return "", false
	}
	if raw {
		return body, true
	}
	var b strings.Builder
	for j := 0; j < len(body); j++ {
		if body[j] != '\\' || j+1 == len(body) {
			b.WriteByte(body[j])
			continue
		}
		j++
		switch body[j] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '\\', '\'', '"':
			b.WriteByte(body[j])
		default:
			b.WriteByte('\\')
			b.WriteByte(body[j])
		}
	}
	return b.String(), true
}

// splitTopLevel splits s at sep outside brackets and strings.
func splitTopLevel(s string, sep byte) []string {
	var out []string
	depth, last := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[last:i])
			last = i + 1
		}
	}
	return append(out, s[last:])
}
