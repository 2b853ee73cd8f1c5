package catalog

import (
	"strings"

	"github.com/sigtail/sigtail/pkg/incident"
)

// A rule's text may name an incident's values as {name}: a capture of the
// rule's signatures (pid, module, upstream...), a name it groups or joins
// on, {count} or {host}. The summary reads them as prose; commands
// (diagnostics, and the commands quoted in backticks in the remediation)
// take one value, quoted for the shell, so that what is shown can be run
// as it is.

// Values gives the values of a name in an incident, in the order they were
// seen; nil when the incident has none.
type Values func(name string) []string

// FillSummary fills a summary template: every value of a name, joined with
// ", " ("pids 12, 13"); "?" for a name with no value.
func FillSummary(tmpl string, vals Values) string {
	return fill(tmpl, func(name string) string {
		v := vals(name)
		if len(v) == 0 {
			return "?"
		}
		return strings.Join(v, ", ")
	})
}

// FillCommand fills a command template (a diagnostic, or a remediation
// text and the commands in it). A name takes its first value (the one the
// incident's fields hold), quoted for a POSIX shell when it holds anything
// but letters, digits and ./:@%+=,_- so that a value from a log line can
// never run as shell code; a name with no value in this incident is
// written <name>, visibly a placeholder to fill in.
func FillCommand(tmpl string, vals Values) string {
	return fill(tmpl, func(name string) string {
		v := vals(name)
		if len(v) == 0 || v[0] == "" {
			return "<" + name + ">"
		}
		return shellQuote(v[0])
	})
}

// Render fills the rule's summary, remediation and diagnostics from an
// incident's values. A rule without a summary is summed up by its title.
func (r *Rule) Render(vals Values) (summary, remediation string, diagnostics []incident.Command) {
	summary = r.Title
	if r.Summary != "" {
		summary = FillSummary(r.Summary, vals)
	}
	remediation = FillCommand(r.Remediation, vals)
	if len(r.Diagnostics) > 0 {
		diagnostics = make([]incident.Command, len(r.Diagnostics))
		for i, d := range r.Diagnostics {
			diagnostics[i] = incident.Command{Command: FillCommand(d.Command, vals), Why: d.Why}
		}
	}
	return summary, remediation, diagnostics
}

// fill replaces every {name} of t with value(name). Braces that do not
// hold a name ("{", "{}", "{x y}") are left as they are.
func fill(t string, value func(name string) string) string {
	if !strings.Contains(t, "{") {
		return t
	}
	var b strings.Builder
	for {
		i, j, name := nextPlaceholder(t)
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		b.WriteString(t[:i])
		b.WriteString(value(name))
		t = t[j:]
	}
}

// nextPlaceholder finds the first {name} of t: its start, the index just
// after its closing brace, and the name; i is -1 when there is none.
func nextPlaceholder(t string) (i, j int, name string) {
	off := 0
	for {
		k := strings.IndexByte(t[off:], '{')
		if k < 0 {
			return -1, -1, ""
		}
		k += off
		end := strings.IndexByte(t[k:], '}')
		if end < 0 {
			return -1, -1, ""
		}
		if n := t[k+1 : k+end]; isName(n) {
			return k, k + end + 1, n
		}
		off = k + 1
	}
}

// isName: a placeholder's name is a lower-case identifier.
func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// templateNames returns the {name} placeholders of a template, each once.
func templateNames(t string) []string {
	var out []string
	for {
		i, j, name := nextPlaceholder(t)
		if i < 0 {
			return out
		}
		if !containsStr(out, name) {
			out = append(out, name)
		}
		t = t[j:]
	}
}

// shellQuote returns v as one word for a POSIX shell: as it is when it
// holds only characters no shell treats specially, else in single quotes.
func shellQuote(v string) string {
	safe := v != ""
	for i := 0; i < len(v) && safe; i++ {
		c := v[i]
		safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("./:@%+=,_-", c) >= 0
	}
	if safe {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
