// Package correlate turns signature hits into incidents. It applies each
// rule's condition (hits, N hits within a window, a sequence of signatures
// joined on a capture across logs, a signature not followed by another, the
// share of one kind of record among others), keeps one incident per problem
// up to date while the problem goes on, resolves it after a quiet period,
// and lets a rule's incident take over the records of a rule that yields to
// it, so one problem seen in several logs is one incident that lists every
// insight it stands for.
//
// Incidents are raised when their condition holds, never held back in case
// something explains them later. When the explanation comes (the kernel's
// OOM kill after Gunicorn's SIGKILL of the same pid), the explaining
// incident takes the records over and the earlier incident is closed as
// superseded, naming it.
//
// The engine runs on event time only. Its clock is the latest time seen on
// an event (or given to Advance); nothing here reads the wall clock, so a
// scan of last week's logs gives the incidents the live daemon gave. Its
// state is bounded: windows expire, pending steps keep a few records each,
// evidence is capped, the records an incident keeps for a takeover age out,
// and resolved incidents are forgotten once emitted. Save and Restore carry
// that state across a restart.
//
// The files follow the engine's parts: one per condition kind (hits.go,
// sequence.go, absence.go, ratio.go) behind the condition interface
// (condition.go), the routing of yields (yield.go) and the incident
// lifecycle (lifecycle.go).
package correlate

import (
	"slices"
	"time"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// Options tune the engine's bounds and identity.
type Options struct {
	// Host is written into every incident, and is part of its id.
	Host string
	// MaxEvidence caps the records kept per incident (default 10).
	MaxEvidence int
	// MaxLine caps the bytes kept of each evidence record (default 4096).
	MaxLine int
	// MaxValues caps the distinct values kept per field (default 10).
	MaxValues int
	// UpdateEvery throttles "updated" emissions of one incident, in event
	// time (default 1m). Opening, resolving and superseding are always
	// emitted.
	UpdateEvery time.Duration
	// MaxClaimable caps the records an incident of a rule that yields
	// keeps while another rule's incident may still take them over
	// (default 1000); past it the oldest stays the incident's own.
	MaxClaimable int
	// MaxGroups caps the groups (incidents and pending windows) one rule
	// keeps at once (default 1000); past it the oldest tenth are closed,
	// Closed is told, and a RuleGroupLimit incident says so.
	MaxGroups int
	Closed    func(rule string, n int)
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
	if o.MaxClaimable <= 0 {
		o.MaxClaimable = 1000
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = 1000
	}
}

// Emit receives an incident when it opens, is updated, resolved or
// superseded. The incident is a snapshot the receiver owns.
type Emit func(*incident.Incident)

// Engine is the correlation state. It is not safe for concurrent use: one
// goroutine feeds it events in time order (roughly: a late event counts at
// the engine's current time, and keeps its own time as evidence).
type Engine struct {
	opts  Options
	rules map[string]*ruleRT   // rule id -> runtime
	bySig map[string][]*ruleRT // signature id -> rules listening to it
	order []*ruleRT            // rules in catalog order
	live  map[string]*state    // rule id + group key -> state
	// joinNames are the names any yield joins on: a record a rule keeps
	// for a takeover remembers its values of them.
	joinNames []string
	now       time.Time
	swept     time.Time
	seq       uint64 // records seen, numbering them
	keys      []string
	takeKeys  []string // scratch: the states a takeover looks at
	keyBuf    []byte   // scratch: a state key being built
	// nextDue is the earliest time a sweep has something to do.
	nextDue time.Time
	ruleOf  []ruleHits // scratch: the current record's hits per rule
}

type ruleHits struct {
	r    *ruleRT
	hits []*match.Hit
}

// New returns an engine for the detectable rules of cat.
func New(cat *catalog.Catalog, opts Options) *Engine {
	opts.defaults()
	e := &Engine{opts: opts, rules: map[string]*ruleRT{}, bySig: map[string][]*ruleRT{}, live: map[string]*state{}}
	for _, r := range append(slices.Clone(cat.Rules), internalRules...) {
		if !r.Detectable {
			continue
		}
		rt := newRuleRT(r)
		e.rules[r.ID] = rt
		e.order = append(e.order, rt)
		for _, sid := range r.Signatures {
			e.bySig[sid] = append(e.bySig[sid], rt)
		}
		for _, y := range r.YieldTo {
			for _, j := range y.Join {
				if !slices.Contains(e.joinNames, j) {
					e.joinNames = append(e.joinNames, j)
				}
			}
		}
	}
	for _, rt := range e.order {
		for _, y := range rt.rule.YieldTo {
			if t := e.rules[y.Rule]; t != nil {
				t.claimWait = max(t.claimWait, y.Within)
				t.yieldedBy = append(t.yieldedBy, yielder{rt, y})
			}
		}
	}
	return e
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
		e.route(rh.r, ev, rh.hits, at, e.seq, emit)
	}
	for i := range e.ruleOf {
		e.ruleOf[i].hits = e.ruleOf[i].hits[:0]
	}
}

// Advance moves the clock to t (never backwards): incidents quiet for
// longer than their cooldown are resolved, absences past their deadline
// fire.
func (e *Engine) Advance(t time.Time, emit Emit) {
	if t.After(e.now) {
		e.now = t
	}
	e.maybeSweep(emit)
}

// maybeSweep sweeps when something is due (an incident to resolve or
// update, an absence to fire), and at least once a minute to forget pending
// state that expired. What falls due is decided at the record that passes
// its time, whoever feeds the engine: the scan and the daemon settle the
// same things at the same records.
func (e *Engine) maybeSweep(emit Emit) {
	if e.now.Before(e.nextDue) && e.now.Sub(e.swept) < time.Minute {
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
		deadline, waits := st.cond.deadline()
		switch {
		case st.inc == nil && waits && e.now.After(deadline),
			st.inc != nil && e.now.Sub(st.lastAt) > st.r.quiet(),
			st.inc != nil && st.dirty && e.now.Sub(st.emitted) >= e.opts.UpdateEvery:
			act = append(act, key)
		case st.inc == nil:
			st.cond.expire(e.now)
			if st.cond.idle() {
				e.drop(st)
			} else if waits {
				due(deadline.Add(time.Nanosecond))
			}
		default:
			due(st.lastAt.Add(st.r.quiet() + time.Nanosecond))
			if st.dirty {
				due(st.emitted.Add(e.opts.UpdateEvery))
			}
			st.prune(e.now, e.opts.MaxClaimable)
		}
	}
	slices.Sort(act)
	e.keys = act
	for _, key := range act {
		st := e.live[key]
		if st == nil {
			continue // taken over by an incident raised before it
		}
		deadline, waits := st.cond.deadline()
		switch {
		case st.inc == nil && !(waits && e.now.After(deadline)):
			// Its records were taken over by an incident raised before it.
		case st.inc == nil:
			// Nothing followed in time: the absence is the incident.
			if fired := st.cond.fire(); len(fired) > 0 {
				e.raise(st, fired, fired[0].at, emit)
			}
		case e.now.Sub(st.lastAt) > st.r.quiet():
			// Quiet for its cooldown, and for as long as a record of a
			// rule yielding to it could still join it.
			e.resolve(st, emit)
			if st.cond.idle() {
				e.drop(st)
			}
		default:
			e.emitUpdate(st, emit)
		}
	}
}

// Flush settles what the logs' time already decides (absences past their
// deadline, incidents past their cooldown): the end of a scan's input,
// where nothing more can come.
func (e *Engine) Flush(emit Emit) {
	e.sweep(emit)
}

// Settle decides, at the end of a scan's input, what only more input
// could have decided: an absence still waiting (a master shut down, the
// logs end before the rule's window) is raised as its rule's at_end says,
// saying how long the logs went on after it. A daemon never settles: time
// goes on and the window passes.
func (e *Engine) Settle(emit Emit) {
	for _, key := range slices.Clone(e.sortedKeys()) {
		st := e.live[key]
		if st == nil || st.inc != nil || st.r.rule.Kind != catalog.KindAbsence || st.r.rule.AtEnd == catalog.AtEndNothing {
			continue
		}
		fired := st.cond.fire()
		if len(fired) == 0 {
			continue
		}
		st.endedAfter = e.now.Sub(fired[0].at)
		e.raise(st, fired, fired[0].at, emit)
	}
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
