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

// raise opens the incident of st from the records that satisfied its
// rule, takes over what rules yielding to it saw of the same problem, and
// emits it.
func (e *Engine) raise(st *state, recs []record, at time.Time, emit Emit) {
	r := st.r.rule
	slices.SortStableFunc(recs, func(a, b record) int { return a.at.Compare(b.at) })
	first, firstAt := recs[0].ev.Time, recs[0].at
	for _, p := range recs {
		first, firstAt = minTime(first, p.ev.Time), minTime(firstAt, p.at)
	}
	inc := &incident.Incident{
		ID:         incidentID(e.opts.Host, st.key, first),
		Rule:       r.ID,
		Title:      r.Title,
		Severity:   r.Severity,
		Status:     incident.StatusOpen,
		FirstSeen:  first,
		LastSeen:   first,
		Host:       e.opts.Host,
		Parameters: r.Parameters,
		Insights:   slices.Clone(r.Insights),
		References: r.References,
	}
	st.inc, st.counted, st.claimable = inc, nil, nil
	st.firstAt, st.lastAt = firstAt, at
	for i := range recs {
		p := &recs[i]
		if e.count(st, p.seq, p.at) {
			e.addEvidence(inc, p.ev, true)
			addSource(inc, p.ev.Source)
			inc.LastSeen = maxTime(inc.LastSeen, p.ev.Time)
			st.keep(p)
		}
	}
	if st.endedAfter >= 0 && r.AtEnd == catalog.AtEndInfo {
		inc.Severity = incident.SeverityInfo // the logs end before the rule could decide
	}
	if rc, ok := st.cond.(*ratio); ok {
		st.values["share"] = []string{rc.share}
		st.values["requests"] = []string{rc.requests}
		inc.Count = rc.of // the incident stands for every such record in the window
	}
	st.emitted = e.now
	st.dirty = false
	e.dueBy(at.Add(st.r.quiet() + time.Nanosecond))
	after := e.takeOver(st) // may find the problem showed earlier in another log
	st.reported = true      // from now on first_seen never moves
	emit(e.snapshot(st))
	for _, inc := range after {
		emit(inc)
	}
}

// grow adds one more record of the rule to its open incident; extend says
// it keeps the incident going (a ratio's numerator while the share no
// longer holds counts, but does not).
func (e *Engine) grow(st *state, rec *record, extend bool, emit Emit) {
	fresh := e.count(st, rec.seq, rec.at)
	e.addEvidence(st.inc, rec.ev, fresh)
	addSource(st.inc, rec.ev.Source)
	if extend {
		st.lastAt = maxTime(st.lastAt, rec.at)
		st.inc.LastSeen = maxTime(st.inc.LastSeen, rec.ev.Time)
	}
	if fresh {
		st.keep(rec)
	}
	st.dirty = true
	after := e.takeOver(st)
	if rec.at.Sub(st.emitted) >= e.opts.UpdateEvery || len(after) > 0 {
		e.emitUpdate(st, emit)
	}
	for _, inc := range after {
		emit(inc)
	}
}

// keep remembers a record of an incident another rule's incident may take
// over (only a rule that yields has such records).
func (st *state) keep(r *record) {
	if len(st.r.rule.YieldTo) > 0 {
		st.claimable = append(st.claimable, *r)
	}
}

// resolve closes st's incident after its quiet period.
func (e *Engine) resolve(st *state, emit Emit) {
	st.inc.Status = incident.StatusResolved
	emit(e.snapshot(st))
	st.close()
}

// close forgets the incident of st, and what it gathered.
func (st *state) close() {
	st.inc, st.counted, st.claimable = nil, nil, nil
	st.values = map[string][]string{}
	st.dirty, st.reported = false, false
	st.endedAfter = -1
}

func (e *Engine) emitUpdate(st *state, emit Emit) {
	st.inc.Status = incident.StatusUpdated
	st.emitted = e.now
	st.dirty = false
	emit(e.snapshot(st))
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

// sameRecord reports whether two pieces of evidence are the same record.
func sameRecord(a, b *incident.Evidence) bool {
	return a.Source == b.Source && a.Offset == b.Offset && a.Line == b.Line
}

// addEvidence keeps a record as evidence, up to the cap; fresh says the
// record was not counted before (only then does one past the cap count as
// dropped).
func (e *Engine) addEvidence(inc *incident.Incident, evd incident.Evidence, fresh bool) {
	for i := range inc.Evidence {
		x := &inc.Evidence[i]
		if sameRecord(x, &evd) {
			// The same record, seen again as something else: say so.
			if !slices.Contains(strings.Split(x.Signature, ","), evd.Signature) {
				x.Signature += "," + evd.Signature
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
		if len(vals) == 0 {
			continue
		}
		inc.Fields[k] = vals[0]
		if len(vals) > 1 {
			if inc.Values == nil {
				inc.Values = map[string][]string{}
			}
			inc.Values[k] = slices.Clone(vals)
		}
	}
	// The rule's texts with this incident's values: what is told always
	// says the values of what was seen so far.
	inc.Summary, inc.Remediation, inc.Diagnostics = st.r.rule.Render(values(&inc))
	if st.endedAfter >= 0 {
		inc.Summary += fmt.Sprintf(" (the logs end %s after it, before the %s the rule waits: what came next is not in them)",
			st.endedAfter.Round(time.Second), st.r.rule.Within)
	}
	return &inc
}

// values gives a rule's texts the incident's values of a name: {count},
// {host}, and every distinct value of a field in the order seen (the first
// is the one in Fields).
func values(inc *incident.Incident) catalog.Values {
	return func(name string) []string {
		switch name {
		case "count":
			return []string{strconv.Itoa(inc.Count)}
		case "host":
			return []string{inc.Host}
		}
		if vs := inc.Values[name]; len(vs) > 1 {
			return vs
		}
		if v, ok := inc.Fields[name]; ok {
			return []string{v}
		}
		return nil
	}
}

// incidentID is stable for the same host, rule, group and first time, so
// the same logs always give the same ids, and two hosts never share one.
func incidentID(host, key string, first time.Time) string {
	h := sha256.New()
	h.Write([]byte(host))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(first.UnixNano()))
	h.Write(ts[:])
	return hex.EncodeToString(h.Sum(nil)[:8])
}
