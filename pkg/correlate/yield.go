package correlate

import (
	"slices"
	"time"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// A rule yields to another (yield_to) when its records, seen close enough
// to the other's incident and with the same values of the join names, are
// part of that problem: the SIGKILL of a worker the kernel OOM-killed.
// Either may come first. A record whose explanation is already open goes
// straight to it (claimant, absorb); an incident raised or grown later
// takes over the records of the rules yielding to it that it explains
// (takeOver), and an incident left with none of its own is superseded.

// claimant finds the open incident of y.Rule that the record belongs to:
// seen within y.Within of it, with the same values of y.Join.
func (e *Engine) claimant(y catalog.Yield, ev *parse.Event, hits []*match.Hit, at time.Time) *state {
	t := e.rules[y.Rule]
	if t == nil {
		return nil
	}
	var best *state
	for _, st := range t.states {
		if st.inc == nil || at.Before(st.firstAt.Add(-y.Within)) || at.After(st.lastAt.Add(y.Within)) {
			continue
		}
		ok := true
		for _, j := range y.Join {
			v := lookupAny(j, ev, hits)
			if v == "" || !slices.Contains(st.values[j], v) {
				ok = false
				break
			}
		}
		if ok && (best == nil || st.key < best.key) {
			best = st
		}
	}
	return best
}

// claims reports whether t's incident explains record r of a rule that
// yields to it as y says.
func (e *Engine) claims(t *state, y catalog.Yield, r *record) bool {
	if r.at.Before(t.firstAt.Add(-y.Within)) || r.at.After(t.lastAt.Add(y.Within)) {
		return false
	}
	for _, j := range y.Join {
		v := e.joinValue(r, j)
		if v == "" || !slices.Contains(t.values[j], v) {
			return false
		}
	}
	return true
}

// explains reports whether t's incident takes over record r of an
// incident of yd's rule: as that rule yields to t's, or as the rule that
// first took the record does (a record passed along a chain of yields).
func (e *Engine) explains(t *state, yd yielder, r *record) bool {
	if e.claims(t, yd.y, r) {
		return true
	}
	if from := e.rules[r.from]; from != nil && from != yd.r {
		for _, y := range from.rule.YieldTo {
			if y.Rule == t.r.rule.ID && e.claims(t, y, r) {
				return true
			}
		}
	}
	return false
}

// absorb adds a record of another rule to st's incident: its evidence, its
// values, and the insights of the rule that first took it. It emits an
// update when one is due and emit is not nil.
func (e *Engine) absorb(st *state, r *record, insights []string, emit Emit) {
	// Only what the record's own patterns captured: its event fields (an
	// nginx worker's pid) mean something else than the incident's, and the
	// names that identify the incident already hold its values.
	rule := st.r.rule
	for _, c := range r.caps {
		if !slices.Contains(rule.Join, c.Name) && !slices.Contains(rule.GroupBy, c.Name) {
			e.addValue(st, c.Name, c.Value)
		}
	}
	inc := st.inc
	for _, in := range insights {
		if !slices.Contains(inc.Insights, in) {
			inc.Insights = append(inc.Insights, in)
		}
	}
	if r.from != rule.ID && !slices.Contains(inc.Related, r.from) {
		inc.Related = append(inc.Related, r.from)
	}
	// A record counts once, but its evidence says every way it was seen.
	fresh := e.count(st, r.seq, r.at)
	e.addEvidence(inc, r.ev, fresh)
	addSource(inc, r.ev.Source)
	inc.LastSeen = maxTime(inc.LastSeen, r.ev.Time)
	if !st.reported {
		// Taken over while it opens: the problem showed earlier in another
		// log. Once reported, first_seen never moves (the id never does).
		inc.FirstSeen = minTime(inc.FirstSeen, r.ev.Time)
	}
	st.lastAt = maxTime(st.lastAt, r.at)
	st.firstAt = minTime(st.firstAt, r.at)
	if fresh {
		st.keep(r)
	}
	st.dirty = true
	if emit != nil && e.now.Sub(st.emitted) >= e.opts.UpdateEvery {
		e.emitUpdate(st, emit)
	}
}

// takeOver moves to t's incident the records of rules yielding to it that
// it explains: those still pending in their conditions, and those of their
// open incidents. An incident left with no record of its own is closed as
// superseded by t; one left with fewer is updated. It returns what to emit
// after t itself.
func (e *Engine) takeOver(t *state) []*incident.Incident {
	var out []*incident.Incident
	for _, yd := range t.r.yieldedBy {
		keys := e.takeKeys[:0]
		for k, s := range yd.r.states {
			if s != t && (len(s.claimable) > 0 || !s.cond.idle()) {
				keys = append(keys, k)
			}
		}
		e.takeKeys = keys
		if len(keys) == 0 {
			continue // the common case: nothing to take, and nothing allocated
		}
		slices.Sort(keys)
		keep := func(r *record) bool { return e.explains(t, yd, r) }
		for _, k := range keys {
			s := yd.r.states[k]
			if s == nil {
				continue
			}
			for _, r := range s.cond.take(keep) {
				e.absorb(t, &r, e.insightsOf(r.from), nil)
			}
			if s.inc != nil {
				var taken []record
				s.claimable, taken = split(s.claimable, keep)
				if len(taken) > 0 {
					out = append(out, e.giveUp(s, t, taken))
				}
			}
			if s.inc == nil && s.cond.idle() {
				e.drop(s)
			}
		}
	}
	return out
}

// giveUp hands records of s's incident over to t's, and returns s's
// incident as it is now: superseded when nothing of its own is left.
func (e *Engine) giveUp(s, t *state, taken []record) *incident.Incident {
	count, evidence := s.inc.Count, slices.Clone(s.inc.Evidence)
	for i := range taken {
		r := &taken[i]
		e.absorb(t, r, e.insightsOf(r.from), nil)
		s.inc.Count--
		s.inc.Evidence = slices.DeleteFunc(s.inc.Evidence, func(x incident.Evidence) bool { return sameRecord(&x, &r.ev) })
		delete(s.counted, r.seq)
	}
	if s.inc.Count > 0 {
		// Some of it is its own: it stays, smaller.
		s.inc.Status = incident.StatusUpdated
		s.emitted = e.now
		s.dirty = false
		return e.snapshot(s)
	}
	// All of it was t's problem.
	for _, in := range s.inc.Insights {
		if !slices.Contains(t.inc.Insights, in) {
			t.inc.Insights = append(t.inc.Insights, in)
		}
	}
	for _, rel := range append([]string{s.r.rule.ID}, s.inc.Related...) {
		if rel != t.r.rule.ID && !slices.Contains(t.inc.Related, rel) {
			t.inc.Related = append(t.inc.Related, rel)
		}
	}
	// Its last word says what it was, and who has it now.
	s.inc.Status = incident.StatusSuperseded
	s.inc.SupersededBy = t.inc.ID
	s.inc.Count, s.inc.Evidence = count, evidence
	snap := e.snapshot(s)
	s.close()
	return snap
}

// insightsOf is the insights of a rule by id.
func (e *Engine) insightsOf(rule string) []string {
	if rt := e.rules[rule]; rt != nil {
		return rt.rule.Insights
	}
	return nil
}
