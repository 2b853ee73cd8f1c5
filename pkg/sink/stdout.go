package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sigtail/sigtail/pkg/incident"
)

// JSON writes one incident per line, the schema of incident.Incident.
type JSON struct {
	w   *bufio.Writer
	enc *json.Encoder
}

var _ Sink = (*JSON)(nil)

// NewJSON writes to w (not owned: Close flushes but does not close it).
func NewJSON(w io.Writer) *JSON {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSON{w: bw, enc: enc}
}

// Send encodes inc as one line and flushes it, so a reader of a pipe sees
// each incident as soon as it is sent.
func (s *JSON) Send(_ context.Context, inc *incident.Incident) error {
	if err := s.enc.Encode(inc); err != nil {
		return fmt.Errorf("writing incident %s as JSON: %w", inc.ID, err)
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("writing incident %s as JSON: %w", inc.ID, err)
	}
	return nil
}

// Close flushes.
func (s *JSON) Close() error { return s.w.Flush() }

// Text writes a readable block per incident and, on Close, a summary.
type Text struct {
	w     *bufio.Writer
	count map[incident.Severity]int
	rules map[string]int
	total int
}

var _ Sink = (*Text)(nil)

// NewText writes to w (not owned).
func NewText(w io.Writer) *Text {
	return &Text{w: bufio.NewWriter(w), count: map[incident.Severity]int{}, rules: map[string]int{}}
}

// Send writes one incident block.
func (s *Text) Send(_ context.Context, inc *incident.Incident) error {
	s.total++
	s.count[inc.Severity]++
	s.rules[inc.Rule]++
	w := s.w
	fmt.Fprintf(w, "%s  %s  [%s]\n", strings.ToUpper(inc.Severity.String()), inc.Summary, inc.Rule)
	status := string(inc.Status)
	if inc.SupersededBy != "" {
		status += " by " + inc.SupersededBy
	}
	fmt.Fprintf(w, "  id %s, %s, %d record(s), %s", inc.ID, status, inc.Count, span(inc.FirstSeen, inc.LastSeen))
	if inc.Host != "" {
		fmt.Fprintf(w, ", host %s", inc.Host)
	}
	fmt.Fprintf(w, "\n  sources: %s\n", strings.Join(inc.Sources, ", "))
	if len(inc.Fields) > 0 || len(inc.Values) > 0 {
		keys := make([]string, 0, len(inc.Fields))
		for k := range inc.Fields {
			keys = append(keys, k)
		}
		for k := range inc.Values {
			if _, ok := inc.Fields[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		fmt.Fprintf(w, "  fields:")
		for _, k := range keys {
			if vs := inc.Values[k]; len(vs) > 0 {
				fmt.Fprintf(w, " %s=[", k)
				for i, v := range vs {
					if i > 0 {
						w.WriteByte(' ')
					}
					w.WriteString(textValue(v))
				}
				w.WriteByte(']')
				continue
			}
			fmt.Fprintf(w, " %s=%s", k, textValue(inc.Fields[k]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "  evidence:")
	for _, ev := range inc.Evidence {
		first, rest, _ := strings.Cut(ev.Line, "\n")
		if ev.LineNo > 0 {
			fmt.Fprintf(w, "    %s:%d  %s\n", ev.Source, ev.LineNo, first)
		} else {
			fmt.Fprintf(w, "    %s@%d  %s\n", ev.Source, ev.Offset, first)
		}
		if rest != "" {
			lines := strings.Split(rest, "\n")
			const show = 3
			for i, l := range lines {
				if i == show && len(lines) > show+1 {
					fmt.Fprintf(w, "      ... %d more line(s)\n", len(lines)-show-1)
					l = lines[len(lines)-1]
				} else if i > show {
					continue
				}
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
	if inc.EvidenceDropped > 0 {
		fmt.Fprintf(w, "    ... and %d more record(s)\n", inc.EvidenceDropped)
	}
	if len(inc.Insights) > 0 {
		fmt.Fprintf(w, "  insights: %s\n", strings.Join(inc.Insights, "; "))
	}
	if inc.Remediation != "" {
		fmt.Fprintln(w, "  what to do:")
		for _, l := range strings.Split(inc.Remediation, "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	if len(inc.Diagnostics) > 0 {
		fmt.Fprintln(w, "  look with:")
		for _, d := range inc.Diagnostics {
			if d.Why != "" {
				fmt.Fprintf(w, "    $ %s    # %s\n", d.Command, d.Why)
			} else {
				fmt.Fprintf(w, "    $ %s\n", d.Command)
			}
		}
	}
	if len(inc.Parameters) > 0 {
		fmt.Fprintln(w, "  settings:")
		for _, p := range inc.Parameters {
			fmt.Fprintf(w, "    %s = %s", p.Name, p.Value)
			if p.Why != "" {
				fmt.Fprintf(w, "    # %s", p.Why)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing incident %s as text: %w", inc.ID, err)
	}
	return nil
}

// textValue is a field value as the text format shows it: as it is, or
// quoted when it is empty or holds a space, a quote, a bracket or a
// character that does not print, so that k=v and k=[v1 v2] read back
// unambiguously.
func textValue(v string) string {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool {
		return r == ' ' || r == '"' || r == '[' || r == ']' || !unicode.IsPrint(r)
	}) {
		return strconv.Quote(v)
	}
	return v
}

func span(a, b time.Time) string {
	const layout = "2006-01-02 15:04:05 -0700"
	switch {
	case a.IsZero():
		return "time unknown"
	case b.Equal(a):
		return a.Format(layout)
	}
	return fmt.Sprintf("%s to %s (%s)", a.Format(layout), b.Format(layout), b.Sub(a).Round(time.Second))
}

// Close writes the summary and flushes.
func (s *Text) Close() error {
	w := s.w
	if s.total == 0 {
		fmt.Fprintln(w, "No incidents.")
	} else {
		fmt.Fprintf(w, "%d incident(s): %d critical, %d warning, %d info\n", s.total,
			s.count[incident.SeverityCritical], s.count[incident.SeverityWarning], s.count[incident.SeverityInfo])
		rules := make([]string, 0, len(s.rules))
		for r := range s.rules {
			rules = append(rules, r)
		}
		slices.Sort(rules)
		for _, r := range rules {
			fmt.Fprintf(w, "  %-40s %d\n", r, s.rules[r])
		}
	}
	return w.Flush()
}
