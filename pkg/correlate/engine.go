// Package correlate turns signature hits into incidents. It applies each
// rule's condition (hits, N hits within a window, a sequence of signatures
// joined on a capture across logs, a signature not followed by another, the
// share of one kind of record among others), keeps one incident per problem
// up to date while the problem goes on, resolves it after a quiet period,
// and hands a rule's hits to a related rule's open incident when the rule
// says it yields to it, so one problem seen in several logs is one incident
// that lists every insight it stands for.
//
// The engine runs on event time only. Its clock is the latest time seen on
// an event (or given to Advance); nothing here reads the wall clock, so a
// scan of last week's logs gives the incidents the live daemon gave. Its
// state is bounded: windows and held hits expire, pending steps keep a few
// hits each, evidence is capped, and resolved incidents are forgotten once
// emitted.
package correlate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
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
	// MaxHeld caps the hits one rule holds while they may yet belong to
	// another rule's incident (default 10000); past it the oldest is
	// released at once.
	MaxHeld int
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
	if o.MaxHeld <= 0 {
		o.MaxHeld = 10000
	}
}

// maxStepHits bounds the hits a pending sequence step remembers.
const maxStepHits = 8

// ratioBuckets is how many slices a ratio rule's window is counted in.
const ratioBuckets = 12

// Emit receives an incident when it opens, is updated or is resolved. The
// incident is a snapshot the receiver owns.
type Emit func(*incident.Incident)

// Engine is the correlation state. It is not safe for concurrent use: one
// goroutine feeds it events in time order (roughly: a late event is taken
// at the engine's current time).
type Engine struct {
	opts  Options
	rules map[string]*ruleRT   // rule id -> runtime
	bySig map[string][]*ruleRT // signature id -> rules listening to it
	order []*ruleRT            // rules in catalog order
	live  map[string]*state    // rule id + group key -> state
	now   time.Time
	// releasing holds the held hits taken out of their rules' lists and
	// not yet released while releaseDue steps the clock: they still count
	// as held for an absence about to fire.
	releasing []heldHit
	relRules  []*ruleRT
	swept     time.Time
	seq       uint64 // records seen, numbering them
	keys      []string
	keyBuf    []byte // scratch: a state key being built
	// nextRelease is the earliest release time of a held hit (zero: none);
	// nextDue the earliest time a sweep has something to do.
	nextRelease, nextDue time.Time
	ruleOf               []ruleHits // scratch: the current record's hits per rule
}

// ruleRT is a rule with what the engine derives from it once.
type ruleRT struct {
	rule *catalog.Rule
	hold time.Duration // how long hits wait for a rule they yield to
	// claimWait is the longest hold of the rules yielding to this one: its
	// incident stays open at least that long after its last record, so a
	// held hit can still find it.
	claimWait time.Duration
	key       string    // the state key of an ungrouped rule
	held      []heldHit // FIFO, in release order
	stepOf    map[string][]int
	isOf      map[string]bool // ratio numerator / absence follow-up signatures
}

type ruleHits struct {
	r    *ruleRT
	hits []*match.Hit
}

// heldHit is a record a rule holds until it knows whether the incident of a
// rule it yields to takes it.
type heldHit struct {
	ev      parse.Event
	hits    []match.Hit
	at      time.Time
	seq     uint64
	release time.Time
}

// state is one (rule, group) being watched: pending until the rule's
// condition holds, then an open incident.
type state struct {
	r   *ruleRT
	key string
	inc *incident.Incident
	// values are the distinct values seen per capture or field.
	values map[string][]string
	// counted are the records the incident already stands for, by number,
	// so a record reaching it twice (directly and through a yield) counts
	// once. Pruned as they age past any hold.
	counted map[uint64]time.Time
	emitted time.Time // when the incident was last emitted
	dirty   bool

	pending []pendingHit   // hits: the hits inside the window
	steps   [][]pendingHit // sequence: hits per step, within `within`
	waiting *pendingHit    // absence: the hit still waiting for its follow-up
	buckets []bucket       // ratio: counts per slice of the window
	ratioEv []pendingHit   // ratio: numerator hits inside the window, capped
}

type pendingHit struct {
	at  time.Time
	seq uint64
	ev  incident.Evidence
}

type bucket struct {
	start     time.Time
	total, of int
}

// New returns an engine for the detectable rules of cat.
func New(cat *catalog.Catalog, opts Options) *Engine {
	opts.defaults()
	e := &Engine{opts: opts, rules: map[string]*ruleRT{}, bySig: map[string][]*ruleRT{}, live: map[string]*state{}}
	for _, r := range cat.Rules {
		if !r.Detectable {
			continue
		}
		rt := &ruleRT{rule: r, stepOf: map[string][]int{}, isOf: map[string]bool{}, hold: holdFor(cat, r, 0), key: r.ID + "\x00"}
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
		e.rules[r.ID] = rt
		e.order = append(e.order, rt)
		for _, sid := range r.Signatures {
			e.bySig[sid] = append(e.bySig[sid], rt)
		}
	}
	for _, rt := range e.order {
		for _, y := range rt.rule.YieldTo {
			if t := e.rules[y.Rule]; t != nil {
				t.claimWait = max(t.claimWait, rt.hold)
			}
		}
	}
	return e
}

// holdFor is how long a rule's hits wait before they are its own: long
// enough for every rule they may go to to have decided, including rules
// that themselves wait for others. The catalog forbids cycles; depth bounds
// a broken one anyway.
func holdFor(cat *catalog.Catalog, r *catalog.Rule, depth int) time.Duration {
	var hold time.Duration
	if depth > len(cat.Rules) {
		return 0
	}
	for _, y := range r.YieldTo {
		h := y.Within
		for _, t := range cat.Rules {
			if t.ID == y.Rule {
				h += holdFor(cat, t, depth+1)
			}
		}
		hold = max(hold, h)
	}
	return hold
}

// Now is the engine's event-time clock.
func (e *Engine) Now() time.Time { return e.now }

// Observe feeds one record and its hits. Records with a zero Time are taken
// at the engine's current time. Observe keeps nothing of ev and hits past
// the call but copies.
func (e *Engine) Observe(ev *parse.Event, hits []match.Hit, emit Emit) {
	at := ev.Time
	if at.IsZero() || at.Before(e.now) {
		at = e.now
	}
	e.Advance(at, emit)
	e.seq++
	// The record's hits, per rule: a record counts once per rule.
	e.ruleOf = e.ruleOf[:0]
	for i := range hits {
		h := &hits[i]
		for _, rt := range e.bySig[h.Signature.ID] {
			j := slices.IndexFunc(e.ruleOf, func(x ruleHits) bool { return x.r == rt })
			if j < 0 {
				// Reuse the slot, and its hits buffer, from earlier records.
				j = len(e.ruleOf)
				if j < cap(e.ruleOf) {
					e.ruleOf = e.ruleOf[:j+1]
					e.ruleOf[j].r = rt
				} else {
					e.ruleOf = append(e.ruleOf, ruleHits{r: rt})
				}
			}
			e.ruleOf[j].hits = append(e.ruleOf[j].hits, h)
		}
	}
	for _, rh := range e.ruleOf {
		if rh.r.hold > 0 && (rh.r.rule.Kind != catalog.KindRatio || e.yields(rh.r, rh.hits)) {
			// Held, in order (an absence's follow-ups must not overtake its
			// trigger); a ratio holds only the records that may yield,
			// not every request it counts.
			e.holdHit(rh.r, ev, rh.hits, at, emit)
			continue
		}
		e.apply(rh.r, ev, rh.hits, at, e.seq, emit)
	}
	for i := range e.ruleOf {
		e.ruleOf[i].hits = e.ruleOf[i].hits[:0]
	}
}

// holdHit keeps a copy of the record until the rules it yields to have had
// their chance at it.
func (e *Engine) holdHit(rt *ruleRT, ev *parse.Event, hits []*match.Hit, at time.Time, emit Emit) {
	h := heldHit{ev: *ev, at: at, seq: e.seq, release: at.Add(rt.hold)}
	h.ev.Fields = slices.Clone(ev.Fields)
	for _, x := range hits {
		h.hits = append(h.hits, *x)
	}
	if len(rt.held) >= e.opts.MaxHeld {
		e.release(rt, rt.held[0], emit)
		rt.held = rt.held[1:]
	}
	rt.held = append(rt.held, h)
	if e.nextRelease.IsZero() || h.release.Before(e.nextRelease) {
		e.nextRelease = h.release
	}
}

// Advance moves the clock to t (never backwards): held hits whose time has
// come are released, incidents quiet for longer than their cooldown are
// resolved, absences past their deadline fire.
func (e *Engine) Advance(t time.Time, emit Emit) {
	if !e.nextRelease.IsZero() && !e.nextRelease.After(t) {
		// Step the clock through the release times on the way to t, so a
		// long jump (a backlog, a quiet log) settles things in the order
		// they fell due: an absence that fired before a held record's time
		// is there for it to join.
		e.releaseDue(func(h *heldHit) bool { return !h.release.After(t) }, emit, true)
	}
	if t.After(e.now) {
		e.now = t
	}
	e.maybeSweep(emit)
}

// maybeSweep sweeps when something is due (an incident to resolve or
// update, an absence to fire), and at least once a minute to forget pending
// state that expired; never more than once a second.
func (e *Engine) maybeSweep(emit Emit) {
	if e.now.Sub(e.swept) < time.Second || e.now.Before(e.nextDue) && e.now.Sub(e.swept) < time.Minute {
		return
	}
	e.sweep(emit)
}

// dueBy makes sure a sweep runs by t.
func (e *Engine) dueBy(t time.Time) {
	if e.nextDue.IsZero() || t.Before(e.nextDue) {
		e.nextDue = t
	}
}

// releaseDue releases the held hits due() accepts, across all rules in
// the order of their release time (then of arrival): a rule's hits must not
// wait for another rule's to be decided just because of catalog order.
func (e *Engine) releaseDue(due func(*heldHit) bool, emit Emit, step bool) {
	type item struct {
		rt *ruleRT
		h  heldHit
	}
	var ready []item
	for _, rt := range e.order {
		n := 0
		for n < len(rt.held) && due(&rt.held[n]) {
			ready = append(ready, item{rt, rt.held[n]})
			n++
		}
		if n > 0 {
			rt.held = append(rt.held[:0], rt.held[n:]...)
		}
	}
	e.nextRelease = time.Time{}
	for _, rt := range e.order {
		if len(rt.held) > 0 && (e.nextRelease.IsZero() || rt.held[0].release.Before(e.nextRelease)) {
			e.nextRelease = rt.held[0].release
		}
	}
	slices.SortStableFunc(ready, func(a, b item) int {
		if c := a.h.release.Compare(b.h.release); c != 0 {
			return c
		}
		return int(a.h.seq) - int(b.h.seq)
	})
	for i, it := range ready {
		if step && it.h.release.After(e.now) {
			e.now = it.h.release
			e.releasing, e.relRules = e.releasing[:0], e.relRules[:0]
			for _, rest := range ready[i:] {
				e.releasing = append(e.releasing, rest.h)
				e.relRules = append(e.relRules, rest.rt)
			}
			e.maybeSweep(emit)
			e.releasing, e.relRules = e.releasing[:0], e.relRules[:0]
		}
		e.release(it.rt, it.h, emit)
	}
}

// followUpHeld reports whether a record that would satisfy st's absence,
// seen within its window, is still held for the rules it yields to: the
// absence waits for it instead of firing because the hold outlasted the
// window. A follow-up whose time was taken as the engine's, later than the
// trigger's, is released after the trigger, and the clock stepping to its
// release would otherwise pass the absence's deadline first.
func (e *Engine) followUpHeld(st *state) bool {
	isFollow := func(h *heldHit) bool {
		for j := range h.hits {
			if st.r.isOf[h.hits[j].Signature.ID] {
				return true
			}
		}
		return false
	}
	for i := range st.r.held {
		if isFollow(&st.r.held[i]) {
			return true
		}
	}
	for i := range e.releasing {
		if e.relRules[i] == st.r && isFollow(&e.releasing[i]) {
			return true
		}
	}
	return false
}

// sweep resolves quiet incidents, fires absences past their deadline and
// forgets expired pending state.
func (e *Engine) sweep(emit Emit) {
	e.swept = e.now
	var next time.Time
	due := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	defer func() {
		if next.IsZero() {
			next = e.now.Add(time.Minute)
		}
		e.nextDue = next
	}()
	// Most states need nothing; those that do are acted on in key order,
	// so that what is emitted, and in which order, depends only on the
	// input (sorting them all every second would cost more than the rest).
	act := e.keys[:0]
	for key, st := range e.live {
		switch {
		case st.inc == nil && st.waiting != nil && e.now.Sub(st.waiting.at) > st.r.rule.Within && !e.followUpHeld(st),
			st.inc != nil && e.now.Sub(st.inc.LastSeen) > max(st.r.rule.Cooldown, st.r.claimWait),
			st.inc != nil && st.dirty && e.now.Sub(st.emitted) >= e.opts.UpdateEvery:
			act = append(act, key)
		case st.inc == nil:
			st.expire(e.now)
			if st.idle() {
				delete(e.live, key)
			} else if st.waiting != nil {
				due(st.waiting.at.Add(st.r.rule.Within + time.Nanosecond))
			}
		default:
			due(st.inc.LastSeen.Add(max(st.r.rule.Cooldown, st.r.claimWait) + time.Nanosecond))
			if st.dirty {
				due(st.emitted.Add(e.opts.UpdateEvery))
			}
		}
		if st.counted != nil && len(st.counted) > 4096 {
			for seq, at := range st.counted {
				if e.now.Sub(at) > time.Hour {
					delete(st.counted, seq)
				}
			}
		}
	}
	slices.Sort(act)
	e.keys = act
	for _, key := range act {
		st := e.live[key]
		switch {
		case st.inc == nil:
			// Nothing followed in time: the absence is the incident.
			w := *st.waiting
			st.waiting = nil
			e.raise(st, []pendingHit{w}, w.at, emit)
		case e.now.Sub(st.inc.LastSeen) > max(st.r.rule.Cooldown, st.r.claimWait):
			// Quiet for its cooldown, and for as long as a held hit of a
			// rule yielding to it could still arrive.
			st.inc.Status = incident.StatusResolved
			emit(e.snapshot(st))
			delete(e.live, key)
		default:
			e.emitUpdate(st, emit)
		}
	}
}

// Flush releases every held hit without moving the clock, then settles what
// the logs' time already decides (absences past their deadline): the end
// of a scan's input, where nothing more can come.
func (e *Engine) Flush(emit Emit) {
	// What the logs' time already decided comes first (absences past their
	// deadline), then the held records, which may join it.
	e.sweep(emit)
	e.releaseDue(func(*heldHit) bool { return true }, emit, false)
	e.sweep(emit)
}

// Open returns snapshots of the incidents still open, in the order they
// were first seen. A scan calls it at the end of its input, after Flush.
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

// release gives a held record to the first open incident of a rule it
// yields to that takes it, or else to its own rule.
func (e *Engine) release(rt *ruleRT, h heldHit, emit Emit) {
	hits := make([]*match.Hit, len(h.hits))
	for i := range h.hits {
		hits[i] = &h.hits[i]
	}
	if e.yields(rt, hits) {
		for _, y := range rt.rule.YieldTo {
			if st := e.claimant(y, &h.ev, hits, h.at); st != nil {
				e.absorb(st, rt, &h.ev, hits, h.at, h.seq, emit)
				return
			}
		}
	}
	e.apply(rt, &h.ev, hits, h.at, h.seq, emit)
}

// claimant finds the open incident of y.Rule that the record belongs to:
// seen within y.Within of it, with the same values of y.Join.
func (e *Engine) claimant(y catalog.Yield, ev *parse.Event, hits []*match.Hit, at time.Time) *state {
	prefix := y.Rule + "\x00"
	var best *state
	for key, st := range e.live {
		if st.inc == nil || !strings.HasPrefix(key, prefix) {
			continue
		}
		if at.Before(st.inc.FirstSeen.Add(-y.Within)) || at.After(st.inc.LastSeen.Add(y.Within)) {
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

// absorb adds a yielded record to another rule's incident: its evidence,
// its values, and the insights of the rule that yielded it.
func (e *Engine) absorb(st *state, from *ruleRT, ev *parse.Event, hits []*match.Hit, at time.Time, seq uint64, emit Emit) {
	// Only what the record's own patterns captured: its event fields (an
	// nginx worker's pid) mean something else than the incident's, and the
	// names that identify the incident already hold its values.
	r := st.r.rule
	for _, h := range hits {
		for _, c := range h.Captures {
			if !slices.Contains(r.Join, c.Name) && !slices.Contains(r.GroupBy, c.Name) {
				e.addValue(st, c.Name, c.Value)
			}
		}
	}
	for _, in := range from.rule.Insights {
		if !slices.Contains(st.inc.Insights, in) {
			st.inc.Insights = append(st.inc.Insights, in)
		}
	}
	if !slices.Contains(st.inc.Related, from.rule.ID) {
		st.inc.Related = append(st.inc.Related, from.rule.ID)
	}
	// A record counts once, but its evidence says every way it was seen.
	fresh := e.count(st, seq, at)
	e.addEvidence(st.inc, e.evidence(ev, primaryHit(from, hits), at), fresh)
	addSource(st.inc, ev.Source)
	if at.After(st.inc.LastSeen) {
		st.inc.LastSeen = at
	}
	if at.Before(st.inc.FirstSeen) {
		st.inc.FirstSeen = at // the problem showed earlier in another log (the id stays)
	}
	st.dirty = true
	if e.now.Sub(st.emitted) >= e.opts.UpdateEvery {
		e.emitUpdate(st, emit)
	}
}

// count records that the incident stands for record seq; false when it
// already did.
func (e *Engine) count(st *state, seq uint64, at time.Time) bool {
	if st.counted == nil {
		st.counted = map[uint64]time.Time{}
	}
	if _, dup := st.counted[seq]; dup {
		return false
	}
	st.counted[seq] = at
	st.inc.Count++
	return true
}

func (e *Engine) stateFor(rt *ruleRT, ev *parse.Event, hits []*match.Hit) *state {
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
		st = &state{r: rt, key: key, values: map[string][]string{}}
		e.live[key] = st
	}
	return st
}

// apply runs a rule's condition on one record's hits.
func (e *Engine) apply(rt *ruleRT, ev *parse.Event, hits []*match.Hit, at time.Time, seq uint64, emit Emit) {
	st := e.stateFor(rt, ev, hits)
	r := rt.rule
	if r.Kind == catalog.KindRatio {
		// Most records a ratio sees are only counted (every request):
		// they cost a counter, not evidence or values.
		if !e.isFollowUp(rt, hits) {
			e.countRatio(st, at, false)
			return
		}
		for _, h := range hits {
			e.collect(st, ev, h)
		}
		e.applyRatio(st, hits, at, seq, e.evidence(ev, primaryHit(rt, hits), at), emit)
		return
	}
	evd := e.evidence(ev, primaryHit(rt, hits), at)
	for _, h := range hits {
		e.collect(st, ev, h)
	}
	if r.Kind == catalog.KindAbsence && e.isFollowUp(rt, hits) {
		st.waiting = nil // what was awaited came
		return
	}
	if st.inc != nil && at.Sub(st.inc.LastSeen) > max(r.Cooldown, rt.claimWait) {
		// Quiet past its cooldown before this record: that incident is
		// over (the sweep would have said so by now), this is a new one.
		st.inc.Status = incident.StatusResolved
		emit(e.snapshot(st))
		st.inc = nil
	}
	if st.inc != nil {
		// The problem goes on: the incident grows.
		fresh := e.count(st, seq, at)
		e.addEvidence(st.inc, evd, fresh)
		addSource(st.inc, ev.Source)
		st.inc.LastSeen = at
		st.dirty = true
		if at.Sub(st.emitted) >= e.opts.UpdateEvery {
			e.emitUpdate(st, emit)
		}
		return
	}
	p := pendingHit{at: at, seq: seq, ev: evd}
	switch r.Kind {
	case catalog.KindHits:
		st.expire(at)
		st.pending = append(st.pending, p)
		if len(st.pending) > r.Count {
			st.pending = st.pending[1:]
		}
		if len(st.pending) >= r.Count {
			hits := st.pending
			st.pending = nil
			e.raise(st, hits, at, emit)
		}
	case catalog.KindSequence:
		if st.steps == nil {
			st.steps = make([][]pendingHit, len(r.Steps))
		}
		st.expire(at)
		for _, h := range hits {
			for _, i := range rt.stepOf[h.Signature.ID] {
				if len(st.steps[i]) > 0 && st.steps[i][len(st.steps[i])-1].seq == seq {
					continue
				}
				st.steps[i] = append(st.steps[i], p)
				if len(st.steps[i]) > maxStepHits {
					st.steps[i] = st.steps[i][1:]
				}
			}
		}
		if chain := st.sequenceChain(); chain != nil {
			st.steps = nil
			e.raise(st, chain, at, emit)
		}
	case catalog.KindAbsence:
		if st.waiting == nil {
			st.waiting = &p
			e.dueBy(at.Add(r.Within + time.Nanosecond))
		}
	}
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

// yields reports whether a record of a rule that yields may go to another
// rule's incident: for a ratio only its numerator records (the slow
// requests, not every request counted), for an absence only its triggers
// (what follows them is the rule's own business).
func (e *Engine) yields(rt *ruleRT, hits []*match.Hit) bool {
	switch rt.rule.Kind {
	case catalog.KindRatio:
		return e.isFollowUp(rt, hits)
	case catalog.KindAbsence:
		return !e.isFollowUp(rt, hits)
	}
	return true
}

func (e *Engine) isFollowUp(rt *ruleRT, hits []*match.Hit) bool {
	for _, h := range hits {
		if rt.isOf[h.Signature.ID] {
			return true
		}
	}
	return false
}

// sequenceChain returns the hits that satisfy the sequence, or nil: for an
// ordered sequence, one hit per step each no earlier than the one before;
// for an unordered one, one hit per step. All fall within `within` (expire
// keeps only such hits).
func (st *state) sequenceChain() []pendingHit {
	r := st.r.rule
	var chain []pendingHit
	var after time.Time
	for _, hits := range st.steps {
		found := false
		for _, h := range hits {
			if r.Ordered && h.at.Before(after) {
				continue
			}
			if slices.ContainsFunc(chain, func(c pendingHit) bool { return c.seq == h.seq }) {
				continue // one record is one step
			}
			chain = append(chain, h)
			after = h.at
			found = true
			break
		}
		if !found {
			return nil
		}
	}
	first, last := chain[0].at, chain[0].at
	for _, c := range chain {
		if c.at.Before(first) {
			first = c.at
		}
		if c.at.After(last) {
			last = c.at
		}
	}
	if last.Sub(first) > r.Within {
		return nil
	}
	return chain
}

// applyRatio counts one record in the window and raises or grows the
// incident while the share holds.
func (e *Engine) applyRatio(st *state, hits []*match.Hit, at time.Time, seq uint64, evd incident.Evidence, emit Emit) {
	r := st.r.rule
	total, of := e.countRatio(st, at, true)
	st.ratioEv = append(st.ratioEv, pendingHit{at: at, seq: seq, ev: evd})
	if len(st.ratioEv) > e.opts.MaxEvidence {
		st.ratioEv = st.ratioEv[1:]
	}
	isOf := true
	holds := total >= r.MinCount && float64(of) >= r.RatioAtLeast*float64(total)
	if st.inc != nil {
		if isOf && e.count(st, seq, at) {
			e.addEvidence(st.inc, evd, true)
			if holds {
				st.inc.LastSeen = at
			}
			st.dirty = true
		}
		return
	}
	if !holds || !isOf {
		return
	}
	st.values["share"] = []string{fmt.Sprintf("%.1f%%", 100*float64(of)/float64(max(total, 1)))}
	st.values["requests"] = []string{strconv.Itoa(total)}
	ev := st.ratioEv
	st.ratioEv = nil
	e.raise(st, ev, at, emit)
	st.inc.Count = of // the incident stands for every such record in the window
}

// countRatio counts one record (a numerator when isOf) in the ratio's
// window and returns the window's totals.
func (e *Engine) countRatio(st *state, at time.Time, isOf bool) (total, of int) {
	r := st.r.rule
	slice := max(r.Window/ratioBuckets, time.Millisecond)
	start := at.Truncate(slice)
	if n := len(st.buckets); n == 0 || st.buckets[n-1].start.Before(start) {
		st.buckets = append(st.buckets, bucket{start: start})
	}
	if len(st.buckets) > 0 && at.Sub(st.buckets[0].start) > r.Window {
		st.expire(at)
	}
	b := &st.buckets[len(st.buckets)-1]
	b.total++
	if isOf {
		b.of++
	}
	for _, b := range st.buckets {
		total += b.total
		of += b.of
	}
	return total, of
}

// expire drops what fell out of the rule's window.
func (st *state) expire(now time.Time) {
	r := st.r.rule
	if r.Window > 0 {
		i := 0
		for i < len(st.pending) && now.Sub(st.pending[i].at) > r.Window {
			i++
		}
		st.pending = st.pending[i:]
		j := 0
		for j < len(st.buckets) && now.Sub(st.buckets[j].start) > r.Window {
			j++
		}
		st.buckets = st.buckets[j:]
		k := 0
		for k < len(st.ratioEv) && now.Sub(st.ratioEv[k].at) > r.Window {
			k++
		}
		st.ratioEv = st.ratioEv[k:]
	}
	if r.Kind == catalog.KindSequence {
		for i, hits := range st.steps {
			k := 0
			for k < len(hits) && now.Sub(hits[k].at) > r.Within {
				k++
			}
			st.steps[i] = hits[k:]
		}
	}
}

// idle reports whether a state without an incident holds nothing.
func (st *state) idle() bool {
	if len(st.pending) > 0 || st.waiting != nil || len(st.buckets) > 0 {
		return false
	}
	for _, s := range st.steps {
		if len(s) > 0 {
			return false
		}
	}
	return true
}

// raise opens the incident of st from the hits that satisfied its rule.
func (e *Engine) raise(st *state, hits []pendingHit, at time.Time, emit Emit) {
	r := st.r.rule
	first := at
	for _, p := range hits {
		if p.at.Before(first) {
			first = p.at
		}
	}
	inc := &incident.Incident{
		ID:          incidentID(st.key, first),
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
		Insights:    slices.Clone(r.Insights),
		References:  r.References,
	}
	st.inc = inc
	st.counted = nil
	slices.SortStableFunc(hits, func(a, b pendingHit) int { return a.at.Compare(b.at) })
	for _, p := range hits {
		if e.count(st, p.seq, p.at) {
			e.addEvidence(inc, p.ev, true)
			addSource(inc, p.ev.Source)
		}
	}
	st.emitted = e.now
	st.dirty = false
	e.dueBy(at.Add(max(r.Cooldown, st.r.claimWait) + time.Nanosecond))
	emit(e.snapshot(st))
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

// addEvidence keeps a record as evidence, up to the cap; fresh says the
// record was not counted before (only then does one past the cap count as
// dropped).
func (e *Engine) addEvidence(inc *incident.Incident, evd incident.Evidence, fresh bool) {
	for i, x := range inc.Evidence {
		if x.Source == evd.Source && x.Offset == evd.Offset && x.Line == evd.Line {
			// The same record, seen again as something else: say so.
			if !slices.Contains(strings.Split(x.Signature, ","), evd.Signature) {
				inc.Evidence[i].Signature += "," + evd.Signature
			}
			return
		}
	}
	if len(inc.Evidence) < e.opts.MaxEvidence {
		inc.Evidence = append(inc.Evidence, evd)
		return
	}
	if fresh {
		inc.EvidenceDropped++
	}
	// At the cap, the first record of a signature not yet shown takes the
	// place of the latest record of a signature shown more than once, so
	// that no kind of evidence is hidden by the cap.
	seen := map[string]int{}
	for _, x := range inc.Evidence {
		seen[x.Signature]++
	}
	if seen[evd.Signature] > 0 {
		return
	}
	for i := len(inc.Evidence) - 1; i >= 0; i-- {
		if seen[inc.Evidence[i].Signature] > 1 {
			inc.Evidence = append(inc.Evidence[:i], inc.Evidence[i+1:]...)
			inc.Evidence = append(inc.Evidence, evd)
			return
		}
	}
}

func addSource(inc *incident.Incident, src string) {
	if src == "" || slices.Contains(inc.Sources, src) || len(inc.Sources) >= 32 {
		return
	}
	inc.Sources = append(inc.Sources, src)
}

// collect records the distinct values of the hit's captures, and of the
// names the rule groups, joins or templates on.
func (e *Engine) collect(st *state, ev *parse.Event, h *match.Hit) {
	add := func(k, v string) { e.addValue(st, k, v) }
	for _, c := range h.Captures {
		add(c.Name, c.Value)
	}
	r := st.r.rule
	for _, names := range [][]string{r.GroupBy, r.Join, r.SummaryNames} {
		for _, name := range names {
			if _, ok := h.Get(name); !ok {
				add(name, lookup(name, ev, h))
			}
		}
	}
	for _, y := range r.YieldTo {
		for _, name := range y.Join {
			add(name, lookup(name, ev, h))
		}
	}
}

// addValue records one distinct value of a field, up to MaxValues.
func (e *Engine) addValue(st *state, k, v string) {
	if v == "" {
		return
	}
	vals := st.values[k]
	if slices.Contains(vals, v) || len(vals) >= e.opts.MaxValues {
		return
	}
	st.values[k] = append(vals, strings.Clone(v))
}

func (e *Engine) snapshot(st *state) *incident.Incident {
	inc := *st.inc
	inc.Sources = slices.Clone(inc.Sources)
	inc.Evidence = slices.Clone(inc.Evidence)
	inc.Insights = slices.Clone(inc.Insights)
	inc.Related = slices.Clone(inc.Related)
	slices.SortStableFunc(inc.Evidence, func(a, b incident.Evidence) int { return a.Time.Compare(b.Time) })
	inc.Fields = make(map[string]string, len(st.values))
	for k, vals := range st.values {
		inc.Fields[k] = strings.Join(vals, ",")
	}
	inc.Summary = render(st.r.rule.Summary, st.r.rule.Title, &inc)
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

// HoldFor is how long, in event time, the engine may hold a record with
// these hits before it is settled (the longest hold of the rules they go
// to; 0 when none holds). A daemon keeps the record's position from being
// saved until then, so a restart reads it again instead of losing it.
func (e *Engine) HoldFor(hits []match.Hit) time.Duration {
	var d time.Duration
	for i := range hits {
		for _, rt := range e.bySig[hits[i].Signature.ID] {
			d = max(d, rt.hold)
		}
	}
	return d
}
