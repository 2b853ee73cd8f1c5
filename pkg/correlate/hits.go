package correlate

import (
	"time"

	"github.com/sigtail/sigtail/pkg/match"
)

// threshold is the hits condition: count records within window (count 1:
// every record).
type threshold struct {
	r       *ruleRT
	pending []record // the records inside the window, oldest first
}

func (c *threshold) add(r *record, _ []*match.Hit) []record {
	c.expire(r.at)
	c.pending = append(c.pending, *r)
	if n := c.r.rule.Count; len(c.pending) > n {
		c.pending = c.pending[len(c.pending)-n:]
	}
	if len(c.pending) < c.r.rule.Count {
		return nil
	}
	fired := c.pending
	c.pending = nil
	return fired
}

func (c *threshold) expire(now time.Time) {
	w := c.r.rule.Window
	if w <= 0 {
		return
	}
	i := 0
	for i < len(c.pending) && now.Sub(c.pending[i].at) > w {
		i++
	}
	c.pending = c.pending[i:]
}

func (c *threshold) idle() bool                  { return len(c.pending) == 0 }
func (c *threshold) deadline() (time.Time, bool) { return time.Time{}, false }
func (c *threshold) fire() []record              { return nil }

func (c *threshold) take(keep func(*record) bool) []record {
	var out []record
	c.pending, out = split(c.pending, keep)
	return out
}

func (c *threshold) save() condState { return condState{Pending: saveRecords(c.pending)} }

func (c *threshold) restore(s condState) { c.pending = restoreRecords(s.Pending) }

// split removes the records keep accepts from rs, and returns what is left
// and what was taken.
func split(rs []record, keep func(*record) bool) (left, taken []record) {
	left = rs[:0]
	for i := range rs {
		if keep(&rs[i]) {
			taken = append(taken, rs[i])
		} else {
			left = append(left, rs[i])
		}
	}
	return left, taken
}

func (c *threshold) latest() time.Time { return latestOf(c.pending) }

// latestOf is the time of the latest of rs.
func latestOf(rs []record) time.Time {
	var t time.Time
	for _, r := range rs {
		t = maxTime(t, r.at)
	}
	return t
}
