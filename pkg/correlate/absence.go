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
	// more are the triggers that came while it waited (the retries of a
	// bind): the incident stands for them too.
	more []record
}

// maxMore bounds the triggers an absence keeps while it waits.
const maxMore = 256

func (c *absence) add(r *record, _ []*match.Hit) []record {
	if c.waiting == nil {
		w := *r
		c.waiting = &w
	} else if len(c.more) < maxMore {
		c.more = append(c.more, *r)
	}
	return nil
}

// followed ends the wait: what was awaited came.
func (c *absence) followed() { c.waiting, c.more = nil, nil }

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
	fired := append([]record{*c.waiting}, c.more...)
	c.waiting, c.more = nil, nil
	return fired
}

func (c *absence) take(keep func(*record) bool) []record {
	if c.waiting == nil || !keep(c.waiting) {
		return nil
	}
	return c.fire()
}

func (c *absence) save() condState {
	if c.waiting == nil {
		return condState{}
	}
	return condState{Pending: saveRecords(append([]record{*c.waiting}, c.more...))}
}

func (c *absence) restore(s condState) {
	if rs := restoreRecords(s.Pending); len(rs) > 0 {
		c.waiting, c.more = &rs[0], rs[1:]
	}
}

func (c *absence) latest() time.Time {
	if c.waiting == nil {
		return time.Time{}
	}
	return maxTime(c.waiting.at, latestOf(c.more))
}
