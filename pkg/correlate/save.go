package correlate

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
)

// savedVersion is the version of the saved state's layout; a state of
// another version is not restored (the engine starts empty, as on a first
// start).
const savedVersion = 1

// Saved engine state: what a restart needs to go on where the engine
// stopped, the open incidents and the pending windows, sequences and
// absences. JSON, so that a person can read what a daemon kept.
type savedEngine struct {
	Version   int       `json:"version"`
	Host      string    `json:"host"`
	Now       time.Time `json:"now"`
	Seq       uint64    `json:"seq"`
	JoinNames []string  `json:"join_names,omitempty"`
	// VoidAt is, per sequence rule with unless, its latest voiding record
	// (time and number).
	VoidAt map[string]savedVoid `json:"void_at,omitempty"`
	States []savedState         `json:"states"`
}

type savedState struct {
	Key        string              `json:"key"`
	Rule       string              `json:"rule"`
	Cond       condState           `json:"cond"`
	Incident   *incident.Incident  `json:"incident,omitempty"`
	FirstAt    time.Time           `json:"first_at,omitzero"`
	LastAt     time.Time           `json:"last_at,omitzero"`
	Values     map[string][]string `json:"values,omitempty"`
	Claimable  []savedRecord       `json:"claimable,omitempty"`
	Emitted    time.Time           `json:"emitted,omitzero"`
	Dirty      bool                `json:"dirty,omitempty"`
	EndedAfter time.Duration       `json:"ended_after,omitempty"`
}

// condState is a condition's pending state.
type condState struct {
	Pending  []savedRecord   `json:"pending,omitempty"`
	Steps    [][]savedRecord `json:"steps,omitempty"`
	Buckets  []savedBucket   `json:"buckets,omitempty"`
	Share    string          `json:"share,omitempty"`
	Requests string          `json:"requests,omitempty"`
	Of       int             `json:"of,omitempty"`
}

type savedVoid struct {
	At  time.Time `json:"at"`
	Seq uint64    `json:"seq"`
}

type savedBucket struct {
	Start time.Time `json:"start"`
	Total int       `json:"total"`
	Of    int       `json:"of"`
}

type savedRecord struct {
	At       time.Time         `json:"at"`
	Seq      uint64            `json:"seq"`
	Ev       incident.Evidence `json:"evidence"`
	From     string            `json:"from,omitempty"`
	Caps     map[string]string `json:"captures,omitempty"`
	Joins    []string          `json:"joins,omitempty"`
	Distinct []string          `json:"distinct,omitempty"`
}

func saveRecords(rs []record) []savedRecord {
	if len(rs) == 0 {
		return nil
	}
	out := make([]savedRecord, len(rs))
	for i, r := range rs {
		out[i] = savedRecord{At: r.at, Seq: r.seq, Ev: r.ev, From: r.from, Joins: r.joins, Distinct: r.distinct}
		for _, c := range r.caps {
			if out[i].Caps == nil {
				out[i].Caps = map[string]string{}
			}
			out[i].Caps[c.Name] = c.Value
		}
	}
	return out
}

func restoreRecords(rs []savedRecord) []record {
	if len(rs) == 0 {
		return nil
	}
	out := make([]record, len(rs))
	for i, r := range rs {
		out[i] = record{at: r.At, seq: r.Seq, ev: r.Ev, from: r.From, joins: r.Joins, distinct: r.Distinct}
		for k, v := range r.Caps {
			out[i].caps = append(out[i].caps, match.Capture{Name: k, Value: v})
		}
	}
	return out
}

// Save returns the engine's state: the open incidents and everything
// pending. A daemon writes it with the positions, at the same moment, so
// that a restart goes on from there: it resolves nothing and joins the
// records after it to what came before.
func (e *Engine) Save() ([]byte, error) {
	s := savedEngine{Version: savedVersion, Host: e.opts.Host, Now: e.now, Seq: e.seq, JoinNames: e.joinNames}
	for _, rt := range e.order {
		if !rt.voidAt.IsZero() {
			if s.VoidAt == nil {
				s.VoidAt = map[string]savedVoid{}
			}
			s.VoidAt[rt.rule.ID] = savedVoid{At: rt.voidAt, Seq: rt.voidSeq}
		}
	}
	for _, key := range e.sortedKeys() {
		st := e.live[key]
		inc := st.inc
		if inc != nil {
			// The rule's own texts come back from the catalog: a state of
			// many incidents is saved often, and small.
			light := *inc
			light.Title, light.Parameters, light.References = "", nil, nil
			inc = &light
		}
		ss := savedState{Key: key, Rule: st.r.rule.ID, Cond: st.cond.save(), Incident: inc, FirstAt: st.firstAt,
			LastAt: st.lastAt, Values: st.values, Claimable: saveRecords(st.claimable), Emitted: st.emitted, Dirty: st.dirty,
			EndedAfter: st.endedAfter + 1}
		if rc, ok := st.cond.(*ratio); ok {
			ss.Cond.Share, ss.Cond.Requests, ss.Cond.Of = rc.share, rc.requests, rc.of
		}
		s.States = append(s.States, ss)
	}
	b, err := json.Marshal(&s)
	if err != nil {
		return nil, fmt.Errorf("saving the correlation state: %w", err)
	}
	return b, nil
}

// Restore replaces the engine's state with a saved one. The state of a
// rule the catalog no longer has is left out; a state saved for another
// host or layout is refused with an error, and the engine stays empty.
func (e *Engine) Restore(data []byte) error {
	var s savedEngine
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("restoring the correlation state: %w", err)
	}
	if s.Version != savedVersion {
		return fmt.Errorf("restoring the correlation state: layout version %d, this sigtail reads %d", s.Version, savedVersion)
	}
	if s.Host != e.opts.Host {
		return fmt.Errorf("restoring the correlation state: it was saved for host %q, not %q", s.Host, e.opts.Host)
	}
	e.live = map[string]*state{}
	for _, rt := range e.order {
		rt.states = map[string]*state{}
		rt.voidAt, rt.voidSeq = s.VoidAt[rt.rule.ID].At, s.VoidAt[rt.rule.ID].Seq
	}
	e.now, e.seq, e.swept, e.nextDue = s.Now, s.Seq, time.Time{}, time.Time{}
	// Join values are kept by the position of their name, which may have
	// moved with a new catalog.
	remap := func(rs []record) []record {
		for i := range rs {
			if rs[i].joins == nil {
				continue
			}
			joins := make([]string, len(e.joinNames))
			for j, name := range s.JoinNames {
				if k := indexOf(e.joinNames, name); k >= 0 && j < len(rs[i].joins) {
					joins[k] = rs[i].joins[j]
				}
			}
			rs[i].joins = joins
		}
		return rs
	}
	for _, ss := range s.States {
		rt := e.rules[ss.Rule]
		if rt == nil {
			continue
		}
		st := e.newState(rt, ss.Key)
		st.cond.restore(remapCond(ss.Cond, remap))
		if rc, ok := st.cond.(*ratio); ok {
			rc.share, rc.requests, rc.of = ss.Cond.Share, ss.Cond.Requests, ss.Cond.Of
		}
		st.inc, st.firstAt, st.lastAt = ss.Incident, ss.FirstAt, ss.LastAt
		if st.inc != nil {
			st.inc.Title, st.inc.Parameters, st.inc.References = rt.rule.Title, rt.rule.Parameters, rt.rule.References
		}
		if ss.Values != nil {
			st.values = ss.Values
		}
		st.claimable = remap(restoreRecords(ss.Claimable))
		st.emitted, st.dirty, st.endedAfter = ss.Emitted, ss.Dirty, ss.EndedAfter-1
		st.reported = st.inc != nil
		if st.inc != nil {
			for _, r := range st.claimable {
				if st.counted == nil {
					st.counted = map[uint64]time.Time{}
				}
				st.counted[r.seq] = r.at
			}
		}
	}
	return nil
}

// remapCond applies remap to the records of a saved condition.
func remapCond(c condState, remap func([]record) []record) condState {
	fix := func(rs []savedRecord) []savedRecord { return saveRecords(remap(restoreRecords(rs))) }
	c.Pending = fix(c.Pending)
	for i := range c.Steps {
		c.Steps[i] = fix(c.Steps[i])
	}
	return c
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
