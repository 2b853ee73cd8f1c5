package catalog

import (
	"regexp"
	"slices"
	"strings"
)

// lintRules checks what the rules tell a person, as Load's last step:
//
//   - a diagnostic is a read-only command line, runnable as shown: not a
//     bare option, a prompt or prose, a program a Debian host has, nothing
//     that kills, stops, restarts, installs or writes (see command.go);
//   - a command of the remediation that changes the system is quoted in
//     backticks after "changes the system:" on its line;
//   - every {name} of the summary, the remediation and the diagnostics is
//     something the incident can hold: a capture of the rule's signatures
//     or of the signatures of a rule that yields to it, a name it groups or
//     joins on, {count} or {host};
//   - a parameter is a setting spelled as its program spells it, with a
//     real value, and the same setting has one value across the catalog;
//   - no text repeats the knowledge page's own examples (its author's
//     paths and app names) as if they were this host's.
func (c *Catalog) lintRules(errs *ErrorList) {
	names, numeric := c.placeholderNames()
	params := map[string]*ParameterSpec{}
	paramRule := map[*ParameterSpec]string{}
	for _, r := range c.Rules {
		s := r.Spec
		known := names[r]
		checkNames := func(pos Pos, where, text string) {
			if known == nil {
				return // a signature of the rule is broken: said where it is
			}
			for _, n := range templateNames(text) {
				if where != "summary" && numeric[r][n] && !containsStr(r.SummaryNames, n) && !containsStr(r.GroupBy, n) && !containsStr(r.Join, n) {
					// A numeric signature's value is its event's field, which
					// the engine keeps only for the names the rule's summary,
					// group_by or join use.
					errs.AddHint(pos, r.ID, "Name it in the summary too, or use a capture.",
						"%s names {%s}, the field of a numeric signature, which an incident holds only when the summary names it", where, n)
					continue
				}
				if !known[n] {
					errs.AddHint(pos, r.ID, placeholderHint(known),
						"%s names {%s}, which none of the rule's signatures (nor those of the rules yielding to it) captures, and it does not group or join on", where, n)
				}
			}
		}
		checkExamples(errs, r.ID, s.Pos, "title", s.Title)
		checkNames(s.SummaryPos, "summary", s.Summary)
		checkExamples(errs, r.ID, s.SummaryPos, "summary", s.Summary)

		for i, line := range strings.Split(strings.TrimRight(s.Remediation, "\n"), "\n") {
			pos := s.RemediationPos
			if pos.Line > 0 {
				pos.Line += i
			}
			checkNames(pos, "remediation", line)
			checkExamples(errs, r.ID, pos, "remediation", line)
			lintRemediationLine(errs, r.ID, pos, line)
		}

		for _, d := range s.Diagnostics {
			if strings.TrimSpace(d.Command) == "" {
				continue // said by validateRule
			}
			for _, p := range commandProblems(d.Command) {
				hint := ""
				if strings.HasPrefix(p, "changes the system") {
					hint = "A diagnostic only looks; say it in the remediation, after \"changes the system:\"."
				}
				errs.AddHint(d.Pos, r.ID, hint, "diagnostic %q: %s", d.Command, p)
			}
			checkNames(d.Pos, "diagnostic", d.Command)
			checkExamples(errs, r.ID, d.Pos, "diagnostic", d.Command+"\n"+d.Why)
		}

		for i := range s.Parameters {
			p := &s.Parameters[i]
			checkExamples(errs, r.ID, p.Pos, "parameter "+p.Name, p.Value+"\n"+p.Why)
			set, ok := LookupSetting(p.Name)
			if !ok {
				hint := "Name a Gunicorn setting (gunicorn.conf.py or command line), an nginx directive, a systemd unit setting or a sysctl."
				if sp := respell(p.Name); sp != "" {
					hint = "Gunicorn spells it " + sp + "."
				}
				errs.AddHint(p.Pos, r.ID, hint, "parameter %q is not a setting as its program spells it", p.Name)
				continue
			}
			if msg := valueProblem(p.Name, p.Value, set); msg != "" {
				errs.Add(p.Pos, r.ID, "parameter %s: %s", p.Name, msg)
				continue
			}
			if first, seen := params[set.Key]; !seen {
				params[set.Key] = p
				paramRule[p] = r.ID
			} else if strings.TrimSpace(first.Value) != strings.TrimSpace(p.Value) {
				errs.AddHint(p.Pos, r.ID, "A parameter has one recommended value in a catalog; say in why when to depart from it.",
					"parameter %s = %q, but %s recommends %s = %q at %s", p.Name, p.Value, paramRule[first], first.Name, first.Value, first.Pos)
			}
		}
	}
}

// placeholderNames are, for each rule, the names its texts may use: what
// its incidents hold values of; nil for a rule one of whose signatures is
// unknown or has no pattern (an error of its own), so that it does not
// read as a wrong name too.
func (c *Catalog) placeholderNames() (names, numeric map[*Rule]map[string]bool) {
	byID := map[string]*Rule{}
	yieldedBy := map[string][]*Rule{}
	for _, r := range c.Rules {
		byID[r.ID] = r
		for _, y := range r.YieldTo {
			yieldedBy[y.Rule] = append(yieldedBy[y.Rule], r)
		}
	}
	names, numeric = map[*Rule]map[string]bool{}, map[*Rule]map[string]bool{}
	for _, r := range c.Rules {
		known := map[string]bool{"count": true, "host": true}
		num := map[string]bool{}
		if r.Kind == KindRatio && r.Detectable {
			known["share"], known["requests"] = true, true // filled by the engine
		}
		for _, n := range r.GroupBy {
			known[n] = true
		}
		for _, n := range r.Join {
			known[n] = true
		}
		// The records of the rules that yield to r, and of those that yield
		// to them, end up in r's incidents with their captures.
		seen := map[*Rule]bool{}
		var walk func(x *Rule)
		walk = func(x *Rule) {
			if seen[x] {
				return
			}
			seen[x] = true
			for _, sid := range x.Signatures {
				if sig, ok := c.sigByID[sid]; ok {
					for _, n := range captureNames(sig) {
						known[n] = true
					}
					if sig.AtLeast != nil || sig.AtMost != nil {
						known[sig.Field], num[sig.Field] = true, true
					}
				}
			}
			for _, y := range yieldedBy[x.ID] {
				walk(y)
			}
		}
		walk(r)
		for x := range seen {
			for _, sid := range x.Signatures {
				sig, ok := c.sigByID[sid]
				if !ok || strings.TrimSpace(sig.Pattern) == "" && sig.AtLeast == nil && sig.AtMost == nil {
					known = nil
				}
			}
		}
		names[r], numeric[r] = known, num
	}
	return names, numeric
}

var captureRE = regexp.MustCompile(`\(\?P?<([A-Za-z_]\w*)>|\(\?'([A-Za-z_]\w*)'`)

// captureNames are the names a signature's pattern captures.
func captureNames(s *SignatureSpec) []string {
	var out []string
	for _, m := range captureRE.FindAllStringSubmatch(s.Pattern, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

func placeholderHint(known map[string]bool) string {
	var names []string
	for n := range known {
		names = append(names, "{"+n+"}")
	}
	slices.Sort(names)
	return "Names this rule's incidents hold: " + strings.Join(names, ", ")
}

// destructiveRE finds a command that changes the system written in the
// remediation's prose rather than quoted after "changes the system:".
var destructiveRE = regexp.MustCompile(`\b(?:pkill|killall)\s+[\w-]+|\bkill\s+-\w+(?:\s+\w+)?|` +
	`\bsystemctl\s+(?:start|stop|restart|reload|kill|enable|disable|mask|daemon-reload)\b(?:\s+[\w.@-]+)?|` +
	`\bpip3?\s+install(?:\s+[\w.=<>-]+)?|\bapt(?:-get)?\s+(?:install|remove|purge)(?:\s+[\w.-]+)?|\b(?:rm|truncate)\s+-\w+(?:\s+\S+)?`)

// lintRemediationLine checks the commands of one line of a remediation:
// one that changes the system is in backticks, after "changes the
// system:" on the same line.
func lintRemediationLine(errs *ErrorList, id string, pos Pos, line string) {
	var prose strings.Builder
	rest := line
	for {
		i := strings.IndexByte(rest, '`')
		if i < 0 {
			prose.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i+1:], '`')
		if j < 0 {
			prose.WriteString(rest)
			break
		}
		prose.WriteString(rest[:i])
		cmd := rest[i+1 : i+1+j]
		before := line[:len(line)-len(rest)+i]
		if what := changesSystem(cmd); what != "" && !strings.Contains(before, "changes the system:") {
			errs.AddHint(pos, id, `Write "changes the system:" before it on its line.`,
				"remediation: `%s` changes the system (%s) and is not marked so", cmd, what)
		}
		prose.WriteString(" ")
		rest = rest[i+1+j+1:]
	}
	if m := destructiveRE.FindString(prose.String()); m != "" {
		errs.AddHint(pos, id, `Quote the command in backticks after "changes the system:".`,
			"remediation: %q changes the system and is written as prose", strings.TrimSpace(m))
	}
}

// knowledgeExamples are paths and names the knowledge page uses in its own
// examples: its author's server, app and module. A rule that repeats them
// sends a person to a path that is not on their host.
var knowledgeExamples = []string{
	"/home/ubuntu", "my-packing-buddy", "myproject.sock", "/venv/bin/", "mysite.wsgi",
	"mymodule", "app:server", "app:app", "0.0.0.0:8000", "$WORKERS",
}

// checkExamples reports the knowledge page's examples in a rule's text.
func checkExamples(errs *ErrorList, id string, pos Pos, where, text string) {
	for _, ex := range knowledgeExamples {
		if containsWord(text, ex) {
			errs.AddHint(pos, id, "Use the standard place (/run/gunicorn.sock, /var/log/nginx/error.log, gunicorn.service) or a captured {name}.",
				"%s: %q is the knowledge page's own example (someone else's server), not a path or name of this host", where, ex)
		}
	}
}

// containsWord reports whether s holds sub not glued to a longer word on a
// side where sub ends in a letter or digit: "app:app" is not in
// "app:application".
func containsWord(s, sub string) bool {
	isWord := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for off := 0; ; {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(sub)
		okL := !isWord(sub[0]) || i == 0 || !isWord(s[i-1])
		okR := !isWord(sub[len(sub)-1]) || end == len(s) || !isWord(s[end])
		if okL && okR {
			return true
		}
		off = i + 1
	}
}
