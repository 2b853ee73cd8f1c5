// Package match compiles a catalog's signatures into a set that finds, for
// each parsed event, every signature it matches and what they capture.
//
// Patterns compile with Go's RE2 regexp when they can, else with regexp2
// (lookarounds, backreferences) under a match timeout and on a capped
// input. Before any regex runs, a literal prefilter (an Aho-Corasick pass
// per event field, for all signatures of the event's format at once) skips
// the signatures whose required substrings are absent, which is what most
// lines of a healthy log are.
package match

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/dlclark/regexp2"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/parse"
)

// Regexp2Timeout bounds one regexp2 match; its library default is forever.
const Regexp2Timeout = 100 * time.Millisecond

// Regexp2MaxInput caps the text handed to regexp2, which converts its whole
// input to runes before matching.
const Regexp2MaxInput = 16 << 10

// Capture is one named value a pattern captured.
type Capture struct {
	Name, Value string
}

// Hit is one signature matching one event.
type Hit struct {
	Signature *Signature
	Captures  []Capture
}

// Get returns the value of the named capture.
func (h *Hit) Get(name string) (string, bool) {
	for _, c := range h.Captures {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// Signature is one compiled signature.
type Signature struct {
	ID    string
	Field string
	Spec  *catalog.SignatureSpec
	// Names are the pattern's named captures.
	Names []string

	atLeast *float64 // numeric bounds on the field, or nil
	atMost  *float64
	re      *regexp.Regexp  // RE2, or nil
	re2     *regexp2.Regexp // regexp2 fallback, or nil
	where   []condition
	words   []string // required literals; nil = always try
	engine  string
}

// Prefilter returns the literals (lower-cased; matched without regard to
// ASCII case) of which one must occur for the pattern to be tried; nil when
// the pattern is tried on every record of its formats.
func (s *Signature) Prefilter() []string { return s.words }

// Textual reports whether the signature applies to records of no known
// format (catalog.SignatureSpec.Text).
func (s *Signature) Textual() bool {
	if s.Spec.Text != nil {
		return *s.Spec.Text
	}
	return (s.Field == "" || s.Field == "message") && len(s.Spec.Where) == 0 && s.atLeast == nil && s.atMost == nil
}

// Engine says which regex engine runs the pattern: "re2" or "regexp2".
func (s *Signature) Engine() string { return s.engine }

type condition struct {
	field string
	re    *regexp.Regexp
}

// group is the signatures of one format that look at one field, with the
// automaton of their literals.
type group struct {
	field  string
	sigs   []*Signature
	lits   [][]int32    // per sigs[i]: ids of its literals in ac
	always []*Signature // no usable literal: tried on every event
	ac     *automaton
	words  int // bitset length in uint64s
}

// Set is a compiled catalog, immutable and safe for concurrent use. Use a
// Matcher (one per goroutine) to match events.
type Set struct {
	Signatures []*Signature
	byFormat   map[parse.Format][]*group
	byID       map[string]*Signature
}

// Signature returns the compiled signature with the given id.
func (s *Set) Signature(id string) (*Signature, bool) {
	sig, ok := s.byID[id]
	return sig, ok
}

// Compile compiles every signature of cat. Problems come back together as
// a catalog.ErrorList, each at the signature's position.
func Compile(cat *catalog.Catalog) (*Set, error) {
	var errs catalog.ErrorList
	set := &Set{}
	for _, spec := range cat.Signatures {
		sig, err := compileSignature(spec)
		if err != nil {
			errs.Add(spec.Pos, spec.ID, "%v", err)
			continue
		}
		set.Signatures = append(set.Signatures, sig)
	}
	set.index()
	checkRules(cat, set, &errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return set, nil
}

// index groups the signatures per (format, field), with one automaton each.
func (s *Set) index() {
	s.byFormat = map[parse.Format][]*group{}
	s.byID = map[string]*Signature{}
	for _, sig := range s.Signatures {
		s.byID[sig.ID] = sig
		formats := sig.Spec.Formats
		if sig.Textual() {
			formats = append(slices.Clip(formats), string(parse.FormatUnknown))
		}
		for _, f := range formats {
			format := parse.Format(f)
			var g *group
			for _, cand := range s.byFormat[format] {
				if cand.field == sig.Field {
					g = cand
				}
			}
			if g == nil {
				g = &group{field: sig.Field}
				s.byFormat[format] = append(s.byFormat[format], g)
			}
			g.sigs = append(g.sigs, sig)
		}
	}
	for _, groups := range s.byFormat {
		for _, g := range groups {
			g.build()
		}
	}
}

// Subset returns a Set of the signatures keep accepts, for a pipeline that
// needs only some (those its rules use): the others then cost nothing.
func (s *Set) Subset(keep func(id string) bool) *Set {
	sub := &Set{}
	for _, sig := range s.Signatures {
		if keep(sig.ID) {
			sub.Signatures = append(sub.Signatures, sig)
		}
	}
	sub.index()
	return sub
}

func compileSignature(spec *catalog.SignatureSpec) (*Signature, error) {
	sig := &Signature{ID: spec.ID, Field: spec.Field, Spec: spec, atLeast: spec.AtLeast, atMost: spec.AtMost}
	if sig.Field == "" {
		sig.Field = "message"
	}
	numeric := sig.atLeast != nil || sig.atMost != nil
	if numeric {
		sig.Names = []string{sig.Field} // a field of the event (see match)
	}
	re, errRE2 := regexp.Compile(spec.Pattern)
	switch {
	case spec.Pattern == "" && numeric:
		sig.engine = "number"
	case errRE2 == nil:
		sig.re, sig.engine = re, "re2"
		for _, n := range re.SubexpNames() {
			if n != "" {
				sig.Names = append(sig.Names, n)
			}
		}
	default:
		re2, err := regexp2.Compile(spec.Pattern, regexp2.RE2)
		if err != nil {
			return nil, fmt.Errorf("pattern does not compile: %v", errRE2)
		}
		re2.MatchTimeout = Regexp2Timeout
		sig.re2, sig.engine = re2, "regexp2"
		for _, n := range re2.GetGroupNames() {
			if n != "" && (n[0] < '0' || n[0] > '9') {
				sig.Names = append(sig.Names, n)
			}
		}
	}
	req := spec.Require
	if len(req) == 0 && sig.re != nil && !numeric {
		req = requiredLiterals(spec.Pattern)
	}
	for _, l := range req {
		if l = lowerASCII(l); !slices.Contains(sig.words, l) {
			sig.words = append(sig.words, l)
		}
	}
	for field, pat := range spec.Where {
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("where.%s does not compile: %v", field, err)
		}
		sig.where = append(sig.where, condition{field: field, re: re})
	}
	return sig, nil
}

// build makes the group's automaton. Each signature's literals get their own
// ids, so a literal shared by two signatures is simply listed twice. A
// signature of several formats is in several groups, with other ids in each.
func (g *group) build() {
	var lits []string
	var prefiltered []*Signature
	for _, sig := range g.sigs {
		if len(sig.words) == 0 {
			g.always = append(g.always, sig)
			continue
		}
		ids := make([]int32, 0, len(sig.words))
		for _, l := range sig.words {
			ids = append(ids, int32(len(lits)))
			lits = append(lits, l)
		}
		prefiltered = append(prefiltered, sig)
		g.lits = append(g.lits, ids)
	}
	g.sigs = prefiltered
	g.ac = newAutomaton(lits)
	g.words = (len(lits) + 63) / 64
}

// Matcher matches events against a Set. It keeps scratch space between
// calls, so it is not safe for concurrent use: give each goroutine its own.
type Matcher struct {
	set  *Set
	seen []uint64
}

// NewMatcher returns a Matcher for set.
func NewMatcher(set *Set) *Matcher { return &Matcher{set: set} }

// Match appends to dst a Hit for every signature ev matches and returns
// the extended slice. Lines that match nothing allocate nothing.
func (m *Matcher) Match(ev *parse.Event, dst []Hit) []Hit {
	for _, g := range m.set.byFormat[ev.Format] {
		text, ok := ev.Get(g.field)
		if !ok {
			continue
		}
		for _, sig := range g.always {
			dst = sig.match(ev, text, dst)
		}
		if g.words == 0 {
			continue
		}
		if cap(m.seen) < g.words {
			m.seen = make([]uint64, g.words)
		}
		seen := m.seen[:g.words]
		clear(seen)
		if !g.ac.scan(text, seen) {
			continue
		}
		for i, sig := range g.sigs {
			for _, id := range g.lits[i] {
				if seen[id>>6]&(1<<(uint(id)&63)) != 0 {
					dst = sig.match(ev, text, dst)
					break
				}
			}
		}
	}
	return dst
}

// match runs the signature's pattern and conditions on text.
func (sig *Signature) match(ev *parse.Event, text string, dst []Hit) []Hit {
	var caps []Capture
	if sig.atLeast != nil || sig.atMost != nil {
		v, ok := parseNumber(text)
		if !ok || sig.atLeast != nil && v < *sig.atLeast || sig.atMost != nil && v > *sig.atMost {
			return dst
		}
		// No capture: the value is the event's own field, found there by
		// name, and a numeric signature may run on every record (every
		// request counted by a ratio) where an allocation would show.
	}
	if sig.re != nil && sig.Spec.Pattern != "" {
		// Most records that pass the prefilter still do not match, and
		// MatchString (no captures) is the cheaper way to find that out.
		if !sig.re.MatchString(text) {
			return dst
		}
		loc := sig.re.FindStringSubmatchIndex(text)
		if loc == nil {
			return dst
		}
		for i, name := range sig.re.SubexpNames() {
			if name != "" && loc[2*i] >= 0 {
				caps = append(caps, Capture{Name: name, Value: text[loc[2*i]:loc[2*i+1]]})
			}
		}
	} else if sig.re2 != nil {
		if len(text) > Regexp2MaxInput {
			text = text[:Regexp2MaxInput]
		}
		mt, err := sig.re2.FindStringMatch(text)
		if err != nil || mt == nil {
			// A timeout is a non-match: the line is too costly to judge.
			return dst
		}
		for _, name := range sig.Names {
			if g := mt.GroupByName(name); g != nil && len(g.Captures) > 0 {
				caps = append(caps, Capture{Name: name, Value: g.String()})
			}
		}
	}
	for _, c := range sig.where {
		// An absent field is tested as "": '^(0)?$' accepts a kernel
		// record with facility 0 or with no facility (syslog text).
		v, _ := ev.Get(c.field)
		if !c.re.MatchString(v) {
			return dst
		}
	}
	return append(dst, Hit{Signature: sig, Captures: caps})
}

// Try runs the signature on ev directly, without the prefilter: what Match
// would report for it if the prefilter let every event through.
func (sig *Signature) Try(ev *parse.Event) (Hit, bool) {
	if !slices.Contains(sig.Spec.Formats, string(ev.Format)) {
		return Hit{}, false
	}
	text, ok := ev.Get(sig.Field)
	if !ok {
		return Hit{}, false
	}
	hits := sig.match(ev, text, nil)
	if len(hits) == 0 {
		return Hit{}, false
	}
	return hits[0], true
}

// parseNumber reads a plain decimal number ("30.004", "502") without the
// allocations and generality of strconv: numeric fields are short and hot.
func parseNumber(s string) (float64, bool) {
	if s == "" || len(s) > 24 {
		return 0, false
	}
	var v, scale float64 = 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*10 + float64(c-'0')
			if scale != 0 {
				scale *= 10
			}
		case c == '.' && scale == 0:
			scale = 1
		default:
			return 0, false
		}
	}
	if scale > 1 {
		v /= scale
	}
	return v, true
}
