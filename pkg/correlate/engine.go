// Package correlate turns signature hits into incidents: it applies each
// rule's condition (a hit, or N hits within a window), groups hits into one
// incident per problem, keeps that incident up to date while the problem
// goes on and resolves it after a quiet period.
//
// The engine runs on event time only. Its clock is the latest time seen on
// an event (or given to Advance); nothing here reads the wall clock, so a
// scan of last week's logs gives the incidents the live daemon gave. Its
// state is bounded: pending windows hold at most Count hits, evidence is
// capped, and resolved incidents are forgotten once emitted.
package correlate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// Options tune the engine's bounds and identity.
type Options struct {
	// Host is written into every incident.
	Host string
	// MaxEvidence caps the records kept per incident (default 10).
	MaxEvidence int
	// MaxLine caps the bytes kept of each evidence record (default 4096).
	MaxLine int
	// MaxValues caps the distinct values kept per field (default 10).
	MaxValues int
	// UpdateEvery throttles "updated" emissions of one incident, in event
	// time (default 1m). Opening and resolving are always emitted.
	UpdateEvery time.Duration
}

func (o *Options) defaults() {
	if o.MaxEvidence <= 0 {
		o.MaxEvidence = 10
	}
	if o.MaxLine <= 0 {
		o.MaxLine = 4096
	}
	if o.MaxValues <= 0 {
		o.MaxValues = 10
	}
	if o.UpdateEvery <= 0 {
		o.UpdateEvery = time.Minute
	}
}

// Emit receives an incident when it opens, is updated or is resolved. The
// incident is a snapshot the receiver owns.
type Emit func(*incident.Incident)

// Engine is the correlation state. It is not safe for concurrent use: one
// goroutine feeds it events in time order (roughly: a late event is taken
// at the engine's current time).
type Engine struct {
	opts  Options
	rules map[string][]*catalog.Rule // signature id -> rules using it
	live  map[string]*state          // rule id + group key -> state
	now   time.Time
	swept time.Time
	seen  []*catalog.Rule // scratch: rules already fed by the current event
	keys  []string        // scratch: sorted keys of live
}

// state is one (rule, group) being watched: pending until the rule's
// condition holds, then an open incident.
type state struct {
	rule    *catalog.Rule
	key     string
	pending []pendingHit
	inc     *incident.Incident
	values  map[string][]string
	emitted time.Time // when an update was last emitted
	dirty   bool
}

type pendingHit struct {
	at  time.Time
	ev  incident.Evidence
	sig string
}

// New returns an engine for the detectable rules of cat.
func New(cat *catalog.Catalog, opts Options) *Engine {
	opts.defaults()
	e := &Engine{opts: opts, rules: map[string][]*catalog.Rule{}, live: map[string]*state{}}
	for _, r := range cat.Rules {
		if !r.Detectable {
			continue
		}
		for _, sid := range r.Signatures {
			e.rules[sid] = append(e.rules[sid], r)
		}
	}
	return e
}

// Now is the engine's event-time clock.
func (e *Engine) Now() time.Time { return e.now }

// Observe feeds one event and its hits. Events with a zero Time are taken
// at the engine's current time.
func (e *Engine) Observe(ev *parse.Event, hits []match.Hit, emit Emit) {
	at := ev.Time
	if at.IsZero() || at.Before(e.now) {
		at = e.now
	}
	e.Advance(at, emit)
	e.seen = e.seen[:0]
	for i := range hits {
		h := &hits[i]
		for _, r := range e.rules[h.Signature.ID] {
			if slices.Contains(e.seen, r) {
				continue // one event counts once per rule
			}
			e.seen = append(e.seen, r)
			e.feed(r, ev, h, at, emit)
		}
	}
}

// Advance moves the clock to t (never backwards) and resolves incidents
// quiet for longer than their rule's cooldown.
func (e *Engine) Advance(t time.Time, emit Emit) {
	if t.After(e.now) {
		e.now = t
	}
	if e.now.Sub(e.swept) < time.Second {
		return
	}
	e.swept = e.now
	for _, key := range e.sortedKeys() {
		st := e.live[key]
		switch {
		case st.inc != nil && e.now.Sub(st.inc.LastSeen) > st.rule.Cooldown:
			st.inc.Status = incident.StatusResolved
			emit(e.snapshot(st))
			delete(e.live, key)
		case st.inc == nil:
			st.expire(e.now)
			if len(st.pending) == 0 {
				delete(e.live, key)
			}
		case st.dirty && e.now.Sub(st.emitted) >= e.opts.UpdateEvery:
			e.emitUpdate(st, emit)
		}
	}
}

// Open returns snapshots of the incidents still open, in the order they
// were first seen. A scan calls it at the end of its input.
func (e *Engine) Open() []*incident.Incident {
	var out []*incident.Incident
	for _, key := range e.sortedKeys() {
		if st := e.live[key]; st.inc != nil {
			inc := e.snapshot(st)
			inc.Status = incident.StatusOpen // as of now, whatever was last emitted
			out = append(out, inc)
		}
	}
	slices.SortStableFunc(out, func(a, b *incident.Incident) int { return a.FirstSeen.Compare(b.FirstSeen) })
	return out
}

// sortedKeys lists the live states in a stable order, so that what is
// emitted, and in which order, depends only on the input. The slice is
// reused: it is valid until the next call.
func (e *Engine) sortedKeys() []string {
	e.keys = e.keys[:0]
	for k := range e.live {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	return e.keys
}

func (e *Engine) feed(r *catalog.Rule, ev *parse.Event, h *match.Hit, at time.Time, emit Emit) {
	key := r.ID + "\x00" + groupKey(r, ev, h)
	st := e.live[key]
	if st == nil {
		st = &state{rule: r, key: key, values: map[string][]string{}}
		e.live[key] = st
	}
	evd := e.evidence(ev, h, at)
	e.collect(st, ev, h)
	if st.inc != nil {
		st.inc.Count++
		st.inc.LastSeen = at
		e.addEvidence(st.inc, evd)
		addSource(st.inc, ev.Source)
		st.dirty = true
		if at.Sub(st.emitted) >= e.opts.UpdateEvery {
			e.emitUpdate(st, emit)
		}
		return
	}
	st.expire(at)
	st.pending = append(st.pending, pendingHit{at: at, ev: evd, sig: h.Signature.ID})
	if len(st.pending) < r.Count {
		return
	}
	// The condition holds: open the incident from the pending hits.
	first := st.pending[0].at
	inc := &incident.Incident{
		ID:          incidentID(key, first),
		Rule:        r.ID,
		Title:       r.Title,
		Severity:    r.Severity,
		Status:      incident.StatusOpen,
		FirstSeen:   first,
		LastSeen:    at,
		Host:        e.opts.Host,
		Remediation: r.Remediation,
		Diagnostics: r.Diagnostics,
		Parameters:  r.Parameters,
		Insights:    r.Insights,
		References:  r.References,
	}
	for _, p := range st.pending {
		inc.Count++
		e.addEvidence(inc, p.ev)
		addSource(inc, p.ev.Source)
	}
	st.pending = nil
	st.inc = inc
	st.emitted = at
	emit(e.snapshot(st))
}

// expire drops pending hits that fell out of the rule's window.
func (st *state) expire(now time.Time) {
	if st.rule.Window <= 0 {
		return
	}
	i := 0
	for i < len(st.pending) && now.Sub(st.pending[i].at) > st.rule.Window {
		i++
	}
	if i > 0 {
		st.pending = append(st.pending[:0], st.pending[i:]...)
	}
}

func (e *Engine) emitUpdate(st *state, emit Emit) {
	st.inc.Status = incident.StatusUpdated
	st.emitted = e.now
	st.dirty = false
	emit(e.snapshot(st))
}

func (e *Engine) evidence(ev *parse.Event, h *match.Hit, at time.Time) incident.Evidence {
	line := ev.Raw
	if len(line) > e.opts.MaxLine {
		line = line[:e.opts.MaxLine]
	}
	t := ev.Time
	if t.IsZero() {
		t = at
	}
	return incident.Evidence{Time: t, Source: ev.Source, Offset: ev.Offset, LineNo: ev.LineNo, Signature: h.Signature.ID, Line: strings.Clone(line)}
}

func (e *Engine) addEvidence(inc *incident.Incident, evd incident.Evidence) {
	if len(inc.Evidence) < e.opts.MaxEvidence {
		inc.Evidence = append(inc.Evidence, evd)
		return
	}
	inc.EvidenceDropped++
}

func addSource(inc *incident.Incident, src string) {
	if src == "" || slices.Contains(inc.Sources, src) || len(inc.Sources) >= 32 {
		return
	}
	inc.Sources = append(inc.Sources, src)
}

// collect records the distinct values of the hit's captures.
func (e *Engine) collect(st *state, ev *parse.Event, h *match.Hit) {
	add := func(k, v string) {
		if v == "" {
			return
		}
		vals := st.values[k]
		if slices.Contains(vals, v) || len(vals) >= e.opts.MaxValues {
			return
		}
		st.values[k] = append(vals, strings.Clone(v))
	}
	for _, c := range h.Captures {
		add(c.Name, c.Value)
	}
	for _, g := range st.rule.GroupBy {
		add(g, lookup(g, ev, h))
	}
	for _, name := range st.rule.SummaryNames {
		if _, ok := h.Get(name); !ok {
			add(name, lookup(name, ev, h))
		}
	}
}

func (e *Engine) snapshot(st *state) *incident.Incident {
	inc := *st.inc
	inc.Sources = slices.Clone(inc.Sources)
	inc.Evidence = slices.Clone(inc.Evidence)
	inc.Fields = make(map[string]string, len(st.values))
	for k, vals := range st.values {
		inc.Fields[k] = strings.Join(vals, ",")
	}
	inc.Summary = render(st.rule.Summary, st.rule.Title, &inc)
	return &inc
}

// render fills a summary template from the incident's fields.
func render(tmpl, title string, inc *incident.Incident) string {
	if tmpl == "" {
		return title
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		j := strings.IndexByte(tmpl[max(i, 0):], '}')
		if i < 0 || j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		name := tmpl[i+1 : i+j]
		b.WriteString(tmpl[:i])
		switch v, ok := inc.Fields[name]; {
		case name == "count":
			b.WriteString(strconv.Itoa(inc.Count))
		case name == "host":
			b.WriteString(inc.Host)
		case ok:
			b.WriteString(v)
		default:
			b.WriteString("?")
		}
		tmpl = tmpl[i+j+1:]
	}
}

// lookup resolves a group or template name for one hit: a capture first,
// then a field of the event, then the event's own pid and source.
func lookup(name string, ev *parse.Event, h *match.Hit) string {
	if v, ok := h.Get(name); ok {
		return v
	}
	if v, ok := ev.Get(name); ok {
		return v
	}
	switch name {
	case "pid":
		if ev.PID != 0 {
			return strconv.Itoa(ev.PID)
		}
	case "source":
		return ev.Source
	}
	return ""
}

func groupKey(r *catalog.Rule, ev *parse.Event, h *match.Hit) string {
	if len(r.GroupBy) == 0 {
		return ""
	}
	var b strings.Builder
	for i, g := range r.GroupBy {
		if i > 0 {
			b.WriteByte('\x00')
		}
		b.WriteString(lookup(g, ev, h))
	}
	return b.String()
}

// incidentID is stable for the same rule, group and first time, so the
// same logs always give the same ids.
func incidentID(key string, first time.Time) string {
	h := sha256.New()
	h.Write([]byte(key))
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(first.UnixNano()))
	h.Write(ts[:])
	return hex.EncodeToString(h.Sum(nil)[:8])
}
