// Package catalog loads and validates sigtail's catalog: the line-level
// failure signatures (signatures/*.yaml) and the rules that turn their hits
// into incidents (rules.yaml).
//
// Load checks everything that can be checked without compiling a regex,
// what the rules tell a person included (lint.go: diagnostics that are
// read-only commands, names their incidents can fill, settings with one
// value), and returns every problem at once, each at its file, line and
// column with the id of the signature or rule it belongs to. Package match compiles the
// patterns and checks the samples, reporting through the same ErrorList.
package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/parse"
)

// The layout of a catalog directory.
const (
	SignaturesGlob = "signatures/*.yaml"
	RulesFile      = "rules.yaml"
)

// DefaultCooldown is how long a rule's incident stays open without a new hit.
const DefaultCooldown = 5 * time.Minute

// Catalog is a loaded, validated catalog.
type Catalog struct {
	Signatures []*SignatureSpec
	Rules      []*Rule
	// Files are the files it was loaded from, as named in errors.
	Files []string

	sigByID map[string]*SignatureSpec
}

// Signature returns the signature with the given id.
func (c *Catalog) Signature(id string) (*SignatureSpec, bool) {
	s, ok := c.sigByID[id]
	return s, ok
}

// Kind is what a rule's condition is.
type Kind int

// The kinds of condition (see When).
const (
	KindHits Kind = iota
	KindSequence
	KindAbsence
	KindRatio
)

func (k Kind) String() string {
	return [...]string{"hits", "sequence", "absence", "ratio"}[k]
}

// AtEnd is what an absence still waiting when the input ends is.
type AtEnd int

// What an absence left waiting at the end of the input is: raised as info
// (the default), raised at its rule's severity, or nothing.
const (
	AtEndInfo AtEnd = iota
	AtEndRaise
	AtEndNothing
)

// Yield is a validated YieldSpec.
type Yield struct {
	Rule   string
	Within time.Duration
	Join   []string
}

// Rule is a validated rule, ready to run.
type Rule struct {
	Kind       Kind
	ID         string
	Title      string
	Summary    string
	Severity   incident.Severity
	Insights   []string
	Detectable bool
	Reason     string
	// Signatures are every signature the rule listens to.
	Signatures []string
	// Hits and ratio: Count hits (at least MinCount for a ratio) within Window.
	Count    int
	Window   time.Duration
	MinCount int
	// Sequence: Steps seen within Within, joined on Join, in order if Ordered.
	Steps   [][]string
	Ordered bool
	Within  time.Duration
	Join    []string
	// Sequence: a hit of Unless voids the steps seen before it; the steps'
	// values of Distinct differ.
	Unless, Distinct []string
	// Absence: Signatures not followed by Absent within Within.
	Absent []string
	// AtEnd is what an absence still waiting at the end of a scan's input
	// is.
	AtEnd AtEnd
	// Ratio: the share of hits that are also hits of RatioOf.
	RatioOf      []string
	RatioAtLeast float64
	// YieldTo lists the rules whose open incidents take this rule's hits.
	YieldTo []Yield
	GroupBy []string
	// SummaryNames are the {name} placeholders of Summary.
	SummaryNames []string
	Cooldown     time.Duration
	Remediation  string
	Diagnostics  []incident.Command
	Parameters   []incident.Parameter
	References   []string

	Spec *RuleSpec
	Pos  Pos
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// Load reads the catalog in fsys. name prefixes file names in errors (a
// directory path, or "" for the embedded default). All problems are
// returned at once as an ErrorList.
func Load(fsys fs.FS, name string) (*Catalog, error) {
	var errs ErrorList
	c := &Catalog{sigByID: map[string]*SignatureSpec{}}
	display := func(p string) string {
		if name == "" {
			return p
		}
		return path.Join(name, p)
	}

	files, err := fs.Glob(fsys, SignaturesGlob)
	if err != nil {
		return nil, fmt.Errorf("listing %s in %s: %w", SignaturesGlob, display("."), err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		errs.Add(Pos{File: display("signatures")}, "", "no signature files (%s)", SignaturesGlob)
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs.Add(Pos{File: display(f)}, "", "reading: %v", err)
			continue
		}
		c.Files = append(c.Files, display(f))
		var sf SignatureFile
		items := decodeStrict(display(f), data, "signatures", &sf, &errs)
		for i := range sf.Signatures {
			s := &sf.Signatures[i]
			s.Pos = Pos{File: display(f)}
			if i < len(items) {
				setSignaturePos(s, items[i], display(f))
			}
			c.Signatures = append(c.Signatures, s)
		}
	}

	data, err := fs.ReadFile(fsys, RulesFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			errs.Add(Pos{File: display(RulesFile)}, "", "missing: a catalog needs %s", RulesFile)
		} else {
			errs.Add(Pos{File: display(RulesFile)}, "", "reading: %v", err)
		}
	} else {
		c.Files = append(c.Files, display(RulesFile))
		var rf RuleFile
		items := decodeStrict(display(RulesFile), data, "rules", &rf, &errs)
		for i := range rf.Rules {
			r := &rf.Rules[i]
			r.Pos = Pos{File: display(RulesFile)}
			if i < len(items) {
				setRulePos(r, items[i], display(RulesFile))
			}
			c.Rules = append(c.Rules, c.validateRule(r, &errs))
		}
	}

	c.validateSignatures(&errs)
	c.checkRuleReferences(&errs)
	c.lintRules(&errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeStrict decodes data into out with unknown keys as errors and
// returns the item nodes of the top-level list under key, so that positions
// can be attached to what was decoded.
func decodeStrict(file string, data []byte, key string, out any, errs *ErrorList) []*yaml.Node {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		errs.Add(Pos{File: file, Line: yamlErrLine(err.Error())}, "", "%s", trimYAMLErr(err.Error()))
		return nil
	}
	if len(root.Content) == 0 {
		errs.Add(Pos{File: file, Line: 1}, "", "empty file: want a top-level %q list", key)
		return nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		errs.Add(nodePos(file, doc), "", "want a mapping with a top-level %q list", key)
		return nil
	}
	list := mapValue(doc, key)
	if list == nil {
		errs.Add(nodePos(file, doc), "", "missing top-level %q list", key)
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		errs.Add(nodePos(file, list), "", "%q must be a list", key)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				line := yamlErrLine(msg)
				pos := Pos{File: file, Line: line, Col: colAtLine(list, line)}
				msg := friendlyTypeErr(trimYAMLErr(msg))
				if k := keyAtLine(list, line); k != "" && !strings.HasPrefix(msg, "unknown key") {
					msg = k + ": " + msg
				}
				errs.Add(pos, idAtLine(list, line), "%s", msg)
			}
		} else {
			errs.Add(Pos{File: file, Line: yamlErrLine(err.Error())}, "", "%s", trimYAMLErr(err.Error()))
		}
	}
	return list.Content
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(msg string) int {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// trimYAMLErr drops the "yaml: line N: " prefix that Pos already says.
func trimYAMLErr(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if loc := yamlLineRE.FindStringIndex(msg); loc != nil && loc[0] == 0 {
		msg = strings.TrimPrefix(msg[loc[1]:], ": ")
	}
	return msg
}

// idAtLine finds the id of the list item that spans line.
func idAtLine(list *yaml.Node, line int) string {
	id := ""
	for _, item := range list.Content {
		if item.Line > line {
			break
		}
		id = ""
		if v := mapValue(item, "id"); v != nil {
			id = v.Value
		}
	}
	return id
}

// colAtLine is the column of the first node on line, 0 when none is.
func colAtLine(n *yaml.Node, line int) int {
	if n.Line == line {
		return n.Column
	}
	for _, c := range n.Content {
		if col := colAtLine(c, line); col != 0 {
			return col
		}
	}
	return 0
}

var unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// friendlyTypeErr rewrites yaml.v3's Go-typed messages in the catalog's terms.
func friendlyTypeErr(msg string) string {
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown key %q", m[1])
	}
	if m := typeErrRE.FindStringSubmatch(msg); m != nil {
		got := yamlKinds[m[1]]
		if got == "" {
			got = "a " + m[1]
		}
		if m[2] != "" && m[1] != "seq" && m[1] != "map" {
			got += " " + strconv.Quote(m[2])
		}
		want := goKinds[m[3]]
		if want == "" {
			switch {
			case strings.HasPrefix(m[3], "[]"):
				want = "a list"
			case strings.HasPrefix(m[3], "map["):
				want = "a mapping"
			default:
				want = "a value of another kind"
			}
		}
		return "want " + want + ", got " + got
	}
	return msg
}

// typeErrRE is yaml.v3's type mismatch, in Go terms: what the YAML held
// (its tag), and the Go type it could not go into.
var typeErrRE = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `([^`]*)`)? into (\\S+)")

var (
	yamlKinds = map[string]string{"seq": "a list", "map": "a mapping", "str": "a string", "int": "a number",
		"float": "a number", "bool": "true or false", "null": "nothing"}
	goKinds = map[string]string{"string": "a string", "int": "a whole number", "float64": "a number",
		"bool": "true or false", "time.Duration": "a duration such as 5m"}
)

// keyAtLine is the key, within the list's items, whose value starts at
// line: where a type mismatch is.
func keyAtLine(list *yaml.Node, line int) string {
	var find func(n *yaml.Node, path string) string
	find = func(n *yaml.Node, path string) string {
		if n.Kind != yaml.MappingNode {
			return ""
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if v.Line == line || k.Line == line && v.Kind != yaml.MappingNode {
				if deeper := find(v, p); deeper != "" {
					return deeper
				}
				return p
			}
			if v.Line < line {
				if deeper := find(v, p); deeper != "" {
					return deeper
				}
			}
		}
		return ""
	}
	for _, item := range list.Content {
		if k := find(item, ""); k != "" {
			return k
		}
	}
	return ""
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func nodePos(file string, n *yaml.Node) Pos {
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

func setSignaturePos(s *SignatureSpec, item *yaml.Node, file string) {
	s.Pos = nodePos(file, item)
	samples := mapValue(item, "samples")
	set := func(list []Sample, n *yaml.Node) {
		if n == nil || n.Kind != yaml.SequenceNode {
			return
		}
		for j := range list {
			if j < len(n.Content) {
				list[j].Pos = nodePos(file, n.Content[j])
			}
		}
	}
	set(s.Samples.Match, mapValue(samples, "match"))
	set(s.Samples.NoMatch, mapValue(samples, "no_match"))
}

// setRulePos attaches to a rule, its condition, its texts, diagnostics and
// parameters the positions they were written at.
func setRulePos(r *RuleSpec, item *yaml.Node, file string) {
	r.Pos = nodePos(file, item)
	r.SummaryPos, r.RemediationPos = r.Pos, r.Pos
	if w := mapValue(item, "when"); w != nil && r.When != nil {
		r.When.Pos = nodePos(file, w)
	}
	if n := mapValue(item, "summary"); n != nil {
		r.SummaryPos = textPos(file, n)
	}
	if n := mapValue(item, "remediation"); n != nil {
		r.RemediationPos = textPos(file, n)
	}
	if n := mapValue(item, "diagnostics"); n != nil && n.Kind == yaml.SequenceNode {
		for j := range r.Diagnostics {
			if j < len(n.Content) {
				r.Diagnostics[j].Pos = nodePos(file, n.Content[j])
				if c := mapValue(n.Content[j], "command"); c != nil {
					r.Diagnostics[j].Pos = nodePos(file, c)
				}
			}
		}
	}
	if n := mapValue(item, "parameters"); n != nil && n.Kind == yaml.SequenceNode {
		for j := range r.Parameters {
			if j < len(n.Content) {
				r.Parameters[j].Pos = nodePos(file, n.Content[j])
			}
		}
	}
}

// textPos is where the first line of a scalar's text is: the node itself,
// or for a block scalar (| or >) the line after its indicator, so that line
// k of the text is at Line+k.
func textPos(file string, n *yaml.Node) Pos {
	p := nodePos(file, n)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		p.Line++
		p.Col = 0
	}
	return p
}

func (c *Catalog) validateSignatures(errs *ErrorList) {
	for _, s := range c.Signatures {
		id := s.ID
		switch {
		case s.ID == "":
			errs.Add(s.Pos, "", "signature without an id")
		case !idPattern.MatchString(s.ID):
			errs.Add(s.Pos, id, "id must be dotted lower-case words, technology first (gunicorn.worker_timeout)")
		default:
			if prev, dup := c.sigByID[s.ID]; dup {
				errs.Add(s.Pos, id, "duplicate signature id (first defined at %s)", prev.Pos)
			} else {
				c.sigByID[s.ID] = s
			}
		}
		if len(s.Formats) == 0 {
			errs.Add(s.Pos, id, "no formats: say which log formats it applies to (%s)", formatList())
		}
		for _, f := range s.Formats {
			if !parse.SignatureFormat(parse.Format(f)) {
				errs.Add(s.Pos, id, "unknown format %q (want one of %s)", f, formatList())
			}
		}
		numeric := s.AtLeast != nil || s.AtMost != nil
		if strings.TrimSpace(s.Pattern) == "" && !numeric {
			errs.Add(s.Pos, id, "empty pattern (and no at_least or at_most)")
		}
		if numeric && (s.Field == "" || s.Field == "message") {
			errs.Add(s.Pos, id, "at_least and at_most need a numeric field (field: request_time, ...), not the message")
		}
		if s.AtLeast != nil && s.AtMost != nil && *s.AtMost < *s.AtLeast {
			errs.Add(s.Pos, id, "at_most %v is below at_least %v", *s.AtMost, *s.AtLeast)
		}
		if strings.TrimSpace(s.Description) == "" {
			errs.Add(s.Pos, id, "empty description: say what the line means")
		}
		if len(s.Samples.Match) == 0 {
			errs.AddHint(s.Pos, id, "Try adding a real log line under samples.match.", "no sample line that must match")
		}
		if len(s.Samples.NoMatch) == 0 {
			errs.AddHint(s.Pos, id, "Try adding a near-miss line under samples.no_match.", "no sample line that must not match")
		}
		for _, list := range [][]Sample{s.Samples.Match, s.Samples.NoMatch} {
			for _, smp := range list {
				if smp.Line == "" {
					errs.Add(smp.Pos, id, "empty sample line")
				}
				if smp.Format != "" && !containsStr(s.Formats, smp.Format) {
					errs.Add(smp.Pos, id, "sample format %q is not one of the signature's formats %v", smp.Format, s.Formats)
				}
			}
		}
		for _, r := range s.Require {
			if r == "" {
				errs.Add(s.Pos, id, "empty string in require")
			}
		}
	}
}

func (c *Catalog) validateRule(r *RuleSpec, errs *ErrorList) *Rule {
	id := r.ID
	out := &Rule{
		ID: r.ID, Title: r.Title, Summary: r.Summary, Insights: r.Insights,
		Detectable: r.Detectable == nil || *r.Detectable, Reason: r.Reason,
		GroupBy: r.GroupBy, SummaryNames: templateNames(r.Summary), Remediation: strings.TrimSpace(r.Remediation),
		References: r.References, Spec: r, Pos: r.Pos, Count: 1, Cooldown: DefaultCooldown,
	}
	fail := func(format string, args ...any) {
		errs.Add(r.Pos, id, format, args...)
	}
	switch {
	case r.ID == "":
		fail("rule without an id")
	case !idPattern.MatchString(r.ID):
		fail("id must be dotted lower-case words (gunicorn.worker_timeout)")
	}
	if strings.TrimSpace(r.Title) == "" {
		fail("empty title")
	}
	sev, err := incident.ParseSeverity(r.Severity)
	switch {
	case r.Severity == "":
		fail("no severity (want info, warning or critical)")
	case err != nil:
		fail("%v", err)
	}
	out.Severity = sev
	if len(r.Insights) == 0 {
		fail("no insights: name the insight titles this rule stands for")
	}
	for _, d := range r.Diagnostics {
		if strings.TrimSpace(d.Command) == "" {
			fail("diagnostic without a command")
		}
		out.Diagnostics = append(out.Diagnostics, incident.Command{Command: d.Command, Why: d.Why})
	}
	for _, p := range r.Parameters {
		if strings.TrimSpace(p.Name) == "" {
			fail("parameter without a name")
		}
		out.Parameters = append(out.Parameters, incident.Parameter{Name: p.Name, Value: p.Value, Why: p.Why})
	}
	if r.Cooldown != "" {
		d, err := time.ParseDuration(r.Cooldown)
		if err != nil || d <= 0 {
			fail("cooldown %q: want a positive duration such as 5m", r.Cooldown)
		}
		out.Cooldown = d
	}
	if !out.Detectable {
		if strings.TrimSpace(r.Reason) == "" {
			fail("detectable: false needs a reason: say why sigtail cannot see it")
		}
		if r.When != nil {
			fail("detectable: false rule must not have a when")
		}
		return out
	}
	if r.When == nil {
		fail("no when: say which signatures raise it, or mark it detectable: false with a reason")
		return out
	}
	w := r.When
	if w.Pos.File == "" {
		w.Pos = r.Pos // a when that did not decode as a mapping has no node of its own
	}
	c.validateWhen(out, w, errs)
	for _, y := range r.YieldTo {
		yl := Yield{Rule: y.Rule, Join: y.Join}
		if y.Rule == "" || y.Rule == r.ID {
			fail("yield_to needs another rule's id")
		}
		d, err := time.ParseDuration(y.Within)
		if err != nil || d <= 0 {
			fail("yield_to %s: within %q: want a positive duration such as 30s", y.Rule, y.Within)
		}
		yl.Within = d
		out.YieldTo = append(out.YieldTo, yl)
	}
	return out
}

// validateWhen reads the condition, whose kind is given by the keys present.
func (c *Catalog) validateWhen(out *Rule, w *When, errs *ErrorList) {
	id := out.ID
	bad := func(format string, args ...any) { errs.Add(w.Pos, id, "when: "+format, args...) }
	dur := func(key, v string, need bool) time.Duration {
		if v == "" {
			if need {
				bad("%s is required for this kind of rule", key)
			}
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("%s %q: want a positive duration such as 60s", key, v)
		}
		return d
	}
	kinds := 0
	if len(w.Sequence) > 0 {
		kinds++
		out.Kind = KindSequence
	}
	if len(w.NotFollowedBy) > 0 {
		kinds++
		out.Kind = KindAbsence
	}
	if w.Ratio != nil {
		kinds++
		out.Kind = KindRatio
	}
	if kinds > 1 {
		bad("sequence, not_followed_by and ratio are different kinds of rule; use one")
		return
	}
	if w.Count < 0 || w.MinCount < 0 {
		bad("count and min_count must be positive")
	}
	if w.Count > 0 {
		out.Count = w.Count
	}
	out.Window = dur("window", w.Window, false)
	out.Join = w.Join
	addSigs := func(list []string) {
		for _, s := range list {
			if !containsStr(out.Signatures, s) {
				out.Signatures = append(out.Signatures, s)
			}
		}
	}
	if (len(w.Unless) > 0 || len(w.Distinct) > 0) && out.Kind != KindSequence {
		bad("unless and distinct belong to sequence rules")
	}
	switch out.Kind {
	case KindHits:
		if len(w.Signatures) == 0 {
			bad("no signatures")
		}

		if w.AtEnd != "" {
			bad("at_end belongs to not_followed_by rules")
		}
		addSigs(w.Signatures)
		if out.Count > 1 && out.Window == 0 {
			bad("count %d needs a window", out.Count)
		}
		if w.Within != "" || len(w.Join) > 0 {
			bad("within and join belong to sequence and not_followed_by rules")
		}
	case KindSequence:
		if len(w.Sequence) < 2 {
			bad("a sequence needs at least two steps")
		}
		if len(w.Signatures) > 0 {
			bad("a sequence lists its signatures in its steps, not in signatures")
		}
		for i, st := range w.Sequence {
			if len(st.Signatures) == 0 {
				bad("sequence step %d has no signatures", i+1)
			}
			out.Steps = append(out.Steps, st.Signatures)
			addSigs(st.Signatures)
		}
		out.Ordered = w.Ordered == nil || *w.Ordered
		out.Within = dur("within", w.Within, true)
		addSigs(w.Unless)
		out.Unless = w.Unless
		out.Distinct = w.Distinct
	case KindAbsence:
		if len(w.Signatures) == 0 {
			bad("no signatures to be followed")
		}
		addSigs(w.Signatures)
		addSigs(w.NotFollowedBy)
		out.Absent = w.NotFollowedBy
		out.Within = dur("within", w.Within, true)
		switch w.AtEnd {
		case "", "info":
			out.AtEnd = AtEndInfo
		case "raise":
			out.AtEnd = AtEndRaise
		case "nothing":
			out.AtEnd = AtEndNothing
		default:
			bad("at_end %q: want info, raise or nothing", w.AtEnd)
		}
	case KindRatio:
		if len(w.Signatures) == 0 {
			bad("no signatures to count the ratio over")
		}
		if len(w.Ratio.Of) == 0 {
			bad("ratio.of names no signatures")
		}
		if w.Ratio.AtLeast <= 0 || w.Ratio.AtLeast > 1 {
			bad("ratio.at_least %v: want a share in (0, 1]", w.Ratio.AtLeast)
		}
		addSigs(w.Signatures)
		addSigs(w.Ratio.Of)
		out.RatioOf, out.RatioAtLeast = w.Ratio.Of, w.Ratio.AtLeast
		out.MinCount = max(w.MinCount, 1)
		if out.Window == 0 {
			bad("a ratio needs a window")
		}
	}
}

func (c *Catalog) checkRuleReferences(errs *ErrorList) {
	seen := map[string]Pos{}
	byID := map[string]*Rule{}
	for _, r := range c.Rules {
		byID[r.ID] = r
	}
	// A hit handed from rule to rule must not come back.
	var cycle func(id string, path []string) []string
	cycle = func(id string, path []string) []string {
		if containsStr(path, id) {
			return append(path, id)
		}
		r := byID[id]
		if r == nil {
			return nil
		}
		for _, y := range r.YieldTo {
			if c := cycle(y.Rule, append(path, id)); c != nil {
				return c
			}
		}
		return nil
	}
	for _, r := range c.Rules {
		if c := cycle(r.ID, nil); c != nil && c[0] == r.ID {
			errs.Add(r.Pos, r.ID, "yield_to makes a cycle: %s", strings.Join(c, " -> "))
		}
		for _, y := range r.YieldTo {
			target, ok := byID[y.Rule]
			switch {
			case !ok:
				errs.Add(r.Pos, r.ID, "yield_to: unknown rule %q", y.Rule)
			case !target.Detectable:
				errs.Add(r.Pos, r.ID, "yield_to: %s is not detectable", y.Rule)
			}
		}
	}
	for _, r := range c.Rules {
		if p, dup := seen[r.ID]; dup {
			errs.Add(r.Pos, r.ID, "duplicate rule id (first defined at %s)", p)
		}
		seen[r.ID] = r.Pos
		for _, sid := range r.Signatures {
			if _, ok := c.sigByID[sid]; !ok {
				pos := r.Pos
				if r.Spec.When != nil {
					pos = r.Spec.When.Pos
				}
				errs.AddHint(pos, r.ID, "Signature ids are listed by `sigtail catalog signatures`.", "unknown signature %q", sid)
			}
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func formatList() string {
	names := make([]string, len(parse.Formats))
	for i, f := range parse.Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
