package correlate

import (
	"strconv"
	"strings"
	"time"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// condition is what one kind of rule watches for one group until it
// holds: hits within a window (hits.go), a sequence of steps
// (sequence.go), a record not followed by another (absence.go), the share
// of some records among others (ratio.go). The engine owns the incident
// lifecycle around it; a condition only decides when the incident opens.
type condition interface {
	// add takes one record of the rule while no incident of the group is
	// open, and returns the records that satisfy the rule when it now
	// holds (they open the incident; the condition starts over).
	add(r *record, hits []*match.Hit) []record
	// expire forgets what fell out of the rule's window by now.
	expire(now time.Time)
	// idle reports whether the condition holds nothing.
	idle() bool
	// deadline is when the condition holds by time alone (an absence
	// whose follow-up did not come); ok false when it waits for none.
	deadline() (t time.Time, ok bool)
	// fire takes what holds by time alone, once its deadline passed.
	fire() []record
	// take removes and returns the records keep accepts: another rule's
	// incident takes them over.
	take(keep func(*record) bool) []record
	// latest is the time of the latest record it holds (zero: none).
	latest() time.Time
	// save and restore carry the condition across a restart.
	save() condState
	restore(condState)
}

// newCondition makes the condition of one group of a rule.
func newCondition(rt *ruleRT, e *Engine) condition {
	switch rt.rule.Kind {
	case catalog.KindSequence:
		return &sequence{r: rt}
	case catalog.KindAbsence:
		return &absence{r: rt}
	case catalog.KindRatio:
		return &ratio{r: rt, maxEv: e.opts.MaxEvidence}
	}
	return &threshold{r: rt}
}

// ruleRT is a rule with what the engine derives from it once.
type ruleRT struct {
	rule *catalog.Rule
	// claimWait is the longest `within` of the rules yielding to this
	// one: its incident stays open at least that long after its last
	// record, so that a record of theirs can still join it.
	claimWait time.Duration
	// yieldedBy are the rules that yield to this one, with how.
	yieldedBy []yielder
	// maxWithin is the longest `within` of this rule's own yields: how
	// long its records stay claimable.
	maxWithin time.Duration
	key       string // the state key of an ungrouped rule
	// states are the rule's live states by key: the rules it yields to
	// look its records up there.
	states  map[string]*state
	stepOf  map[string][]int
	isOf    map[string]bool // ratio numerator / absence follow-up signatures
	unless  map[string]bool // sequence: signatures that void the steps before them
	voidAt  time.Time       // sequence: the latest unless record; steps before it are void
	voidSeq uint64          // and its number (a step of the same time before it is void too)
}

type yielder struct {
	r *ruleRT
	y catalog.Yield
}

func newRuleRT(r *catalog.Rule) *ruleRT {
	rt := &ruleRT{rule: r, stepOf: map[string][]int{}, isOf: map[string]bool{}, key: r.ID + "\x00", states: map[string]*state{}}
	for i, step := range r.Steps {
		for _, s := range step {
			rt.stepOf[s] = append(rt.stepOf[s], i)
		}
	}
	for _, s := range r.RatioOf {
		rt.isOf[s] = true
	}
	for _, s := range r.Absent {
		rt.isOf[s] = true
	}
	for _, s := range r.Unless {
		if rt.unless == nil {
			rt.unless = map[string]bool{}
		}
		rt.unless[s] = true
	}
	for _, y := range r.YieldTo {
		rt.maxWithin = max(rt.maxWithin, y.Within)
	}
	return rt
}

// quiet is how long an incident of the rule stays open after its last
// record: its cooldown, and at least as long as a rule yielding to it may
// still send it a record.
func (rt *ruleRT) quiet() time.Duration { return max(rt.rule.Cooldown, rt.claimWait) }

// isFollowUp reports whether the record is a ratio's numerator or an
// absence's follow-up.
func (rt *ruleRT) isFollowUp(hits []*match.Hit) bool {
	for _, h := range hits {
		if rt.isOf[h.Signature.ID] {
			return true
		}
	}
	return false
}

// voids reports whether the record is one of a sequence's unless
// signatures and none of its steps.
func (rt *ruleRT) voids(hits []*match.Hit) bool {
	v := false
	for _, h := range hits {
		if len(rt.stepOf[h.Signature.ID]) > 0 {
			return false
		}
		v = v || rt.unless[h.Signature.ID]
	}
	return v
}

// yields reports whether a record of a rule that yields may go to another
// rule's incident: for a ratio only its numerator records (the slow
// requests, not every request counted), for an absence only its triggers
// (what follows them is the rule's own business).
func (rt *ruleRT) yields(hits []*match.Hit) bool {
	if len(rt.rule.YieldTo) == 0 {
		return false
	}
	switch rt.rule.Kind {
	case catalog.KindRatio:
		return rt.isFollowUp(hits)
	case catalog.KindAbsence:
		return !rt.isFollowUp(hits)
	}
	return true
}

// record is one log record as a rule keeps it: what it counts for, its
// evidence, and what another rule's incident needs to take it over.
type record struct {
	at  time.Time // the engine's time when it was taken
	seq uint64    // its number: a record counts once per incident
	ev  incident.Evidence
	// from is the rule that first took it (its insights go with it).
	from string
	// caps are its hits' captures, and joins its values of the engine's
	// join names: kept only by rules that yield.
	caps  []match.Capture
	joins []string
	// distinct are its values of its sequence's distinct names.
	distinct []string
}

// state is one (rule, group) being watched: pending until the rule's
// condition holds, then an open incident.
type state struct {
	r    *ruleRT
	key  string
	cond condition
	inc  *incident.Incident
	// firstAt and lastAt are the incident's span in engine time, which
	// its lifecycle and takeovers go by (the incident's own FirstSeen and
	// LastSeen are its records' times).
	firstAt, lastAt time.Time
	// values are the distinct values seen per capture or field.
	values map[string][]string
	// counted are the records the incident already stands for, by number,
	// so a record reaching it twice (directly and through a yield) counts
	// once. Pruned as they age.
	counted map[uint64]time.Time
	// claimable are the incident's records another rule's incident may
	// still take over (rules that yield only), oldest first.
	claimable []record
	emitted   time.Time // when the incident was last emitted
	dirty     bool
	reported  bool // the incident was emitted: its first_seen is fixed
	// endedAfter is, for an absence raised at the end of the input, how
	// long the logs went on after its record (-1: not so raised).
	endedAfter time.Duration
}

// route sends a record to the open incident of a rule it yields to that
// takes it, or else to its own rule.
func (e *Engine) route(rt *ruleRT, ev *parse.Event, hits []*match.Hit, at time.Time, seq uint64, emit Emit) {
	if rt.yields(hits) {
		for _, y := range rt.rule.YieldTo {
			if st := e.claimant(y, ev, hits, at); st != nil {
				r := e.newRecord(rt, ev, hits, at, seq)
				e.absorb(st, &r, rt.rule.Insights, emit)
				return
			}
		}
	}
	e.apply(rt, ev, hits, at, seq, emit)
}

// apply runs a rule's condition on one record's hits.
func (e *Engine) apply(rt *ruleRT, ev *parse.Event, hits []*match.Hit, at time.Time, seq uint64, emit Emit) {
	if rt.unless != nil && rt.voids(hits) {
		// It proves the premise false for every sequence begun before it,
		// whatever its group: it is no step of any. Said once for the rule
		// (a sequence drops the steps before it when it next looks): one
		// served request costs the same with ten pending groups or a
		// thousand.
		if !at.Before(rt.voidAt) {
			rt.voidAt, rt.voidSeq = at, seq
		}
		return
	}
	st := e.stateFor(rt, ev, hits, emit)
	r := rt.rule
	if r.Kind == catalog.KindRatio && !rt.isFollowUp(hits) {
		// Most records a ratio sees are only counted (every request):
		// they cost a counter, not evidence or values.
		st.cond.(*ratio).count(at, false)
		return
	}
	if r.Kind == catalog.KindAbsence && rt.isFollowUp(hits) {
		st.cond.(*absence).followed() // what was awaited came
		if st.inc != nil {
			// Late, but it came: the problem is over (the service started
			// again), and the incident stops taking records now rather than
			// after its quiet period.
			e.resolve(st, emit)
		}
		return
	}
	if st.inc != nil && at.Sub(st.lastAt) > rt.quiet() {
		// Quiet past its cooldown before this record: that incident is
		// over (the sweep would have said so by now), this is a new one.
		e.resolve(st, emit)
	}
	for _, h := range hits {
		e.collect(st, ev, h)
	}
	rec := e.newRecord(rt, ev, hits, at, seq)
	if st.inc != nil {
		// The problem goes on: the incident grows.
		extend := true
		if rc, ok := st.cond.(*ratio); ok {
			extend = rc.count(at, true)
		}
		e.grow(st, &rec, extend, emit)
		return
	}
	if fired := st.cond.add(&rec, hits); fired != nil {
		e.raise(st, fired, at, emit)
	} else if d, ok := st.cond.deadline(); ok {
		e.dueBy(d.Add(time.Nanosecond))
	}
}

// newRecord is one record as rt keeps it.
func (e *Engine) newRecord(rt *ruleRT, ev *parse.Event, hits []*match.Hit, at time.Time, seq uint64) record {
	r := record{at: at, seq: seq, ev: e.evidence(ev, primaryHit(rt, hits), at), from: rt.rule.ID}
	for _, name := range rt.rule.Distinct {
		r.distinct = append(r.distinct, strings.Clone(lookupAny(name, ev, hits)))
	}
	if len(rt.rule.YieldTo) > 0 {
		for _, h := range hits {
			for _, c := range h.Captures {
				r.caps = append(r.caps, match.Capture{Name: c.Name, Value: strings.Clone(c.Value)})
			}
		}
		r.joins = make([]string, len(e.joinNames))
		for i, j := range e.joinNames {
			r.joins[i] = strings.Clone(lookupAny(j, ev, hits))
		}
	}
	return r
}

// joinValue is the record's value of a join name.
func (e *Engine) joinValue(r *record, name string) string {
	for i, j := range e.joinNames {
		if j == name && i < len(r.joins) {
			return r.joins[i]
		}
	}
	return ""
}

// primaryHit is the hit that says what a record is to a rule: for a ratio,
// its numerator (the 499, not "a request"); else the first.
func primaryHit(rt *ruleRT, hits []*match.Hit) *match.Hit {
	if rt.rule.Kind == catalog.KindRatio {
		for _, h := range hits {
			if rt.isOf[h.Signature.ID] {
				return h
			}
		}
	}
	return hits[0]
}

func (e *Engine) stateFor(rt *ruleRT, ev *parse.Event, hits []*match.Hit, emit Emit) *state {
	key := rt.key // no group: one state, and no string built per record
	if len(rt.rule.GroupBy) > 0 || len(rt.rule.Join) > 0 {
		e.keyBuf = append(append(e.keyBuf[:0], rt.key...), groupKey(rt.rule, ev, hits)...)
		if st := e.live[string(e.keyBuf)]; st != nil { // looked up without a copy
			return st
		}
		key = string(e.keyBuf)
	}
	st := e.live[key]
	if st == nil {
		e.limitGroups(rt, emit)
		st = e.newState(rt, key)
	}
	return st
}

func (e *Engine) newState(rt *ruleRT, key string) *state {
	st := &state{r: rt, key: key, values: map[string][]string{}, cond: newCondition(rt, e), endedAfter: -1}
	e.live[key] = st
	rt.states[key] = st
	return st
}

// drop forgets a state that holds nothing.
func (e *Engine) drop(st *state) {
	delete(e.live, st.key)
	delete(st.r.states, st.key)
}

// prune lets go of claimable records too old for any takeover, and of the
// numbers of records counted long ago.
func (st *state) prune(now time.Time, maxClaimable int) {
	i := 0
	for i < len(st.claimable) && (now.Sub(st.claimable[i].at) > st.r.maxWithin || len(st.claimable)-i > maxClaimable) {
		i++
	}
	if i > 0 {
		st.claimable = append(st.claimable[:0], st.claimable[i:]...)
	}
	if len(st.counted) > 4096 {
		for seq, at := range st.counted {
			if now.Sub(at) > time.Hour {
				delete(st.counted, seq)
			}
		}
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

// lookupAny is lookup over all of a record's hits for one rule.
func lookupAny(name string, ev *parse.Event, hits []*match.Hit) string {
	for _, h := range hits {
		if v, ok := h.Get(name); ok {
			return v
		}
	}
	if len(hits) == 0 {
		return ""
	}
	return lookup(name, ev, hits[0])
}

// groupKey is the values of the names that split a rule's incidents: its
// group_by, then its join.
func groupKey(r *catalog.Rule, ev *parse.Event, hits []*match.Hit) string {
	if len(r.GroupBy) == 0 && len(r.Join) == 0 {
		return ""
	}
	var b strings.Builder
	for _, names := range [][]string{r.GroupBy, r.Join} {
		for _, g := range names {
			b.WriteString(lookupAny(g, ev, hits))
			b.WriteByte('\x00')
		}
	}
	return b.String()
}
