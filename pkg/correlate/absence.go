package correlate

import (
	"time"

	"github.com/sigtail/sigtail/pkg/match"
)

// absence is the condition of a rule that a record is not followed by
// another within `within`: the trigger waits, a follow-up ends the wait,
// and the deadline passing raises the incident.
type absence struct {
	r       *ruleRT
	waiting *record // the trigger still waiting for its follow-up
}

func (c *absence) add(r *record, _ []*match.Hit) []record {
	if c.waiting == nil {
		w := *r
		c.waiting = &w
	}
	return nil
}

// followed ends the wait: what was awaited came.
func (c *absence) followed() { c.waiting = nil }

func (c *absence) expire(time.Time) {}
func (c *absence) idle() bool       { return c.waiting == nil }

func (c *absence) deadline() (time.Time, bool) {
	if c.waiting == nil {
		return time.Time{}, false
	}
	return c.waiting.at.Add(c.r.rule.Within), true
}

func (c *absence) fire() []record {
	if c.waiting == nil {
		return nil
	}
	w := *c.waiting
	c.waiting = nil
	return []record{w}
}

func (c *absence) take(keep func(*record) bool) []record {
	if c.waiting == nil || !keep(c.waiting) {
		return nil
	}
	w := *c.waiting
	c.waiting = nil
	return []record{w}
}

func (c *absence) save() condState {
	if c.waiting == nil {
		return condState{}
	}
	return condState{Pending: saveRecords([]record{*c.waiting})}
}

func (c *absence) restore(s condState) {
	if rs := restoreRecords(s.Pending); len(rs) == 1 {
		c.waiting = &rs[0]
	}
}

func (c *absence) latest() time.Time {
	if c.waiting == nil {
		return time.Time{}
	}
	return c.waiting.at
}
