package correlate

import (
	"slices"
	"time"

	"github.com/sigtail/sigtail/pkg/match"
)

// maxStepHits bounds the records a pending sequence step remembers.
const maxStepHits = 8

// sequence is the condition of a rule whose steps must all be seen within
// `within`, joined on a capture (the state is per join value), in order
// when the rule says so.
type sequence struct {
	r     *ruleRT
	steps [][]record // records per step, within `within`
}

func (c *sequence) add(r *record, hits []*match.Hit) []record {
	if c.steps == nil {
		c.steps = make([][]record, len(c.r.rule.Steps))
	}
	c.expire(r.at)
	if !c.r.voidAt.IsZero() {
		c.void(c.r.voidAt, c.r.voidSeq)
	}
	for _, h := range hits {
		for _, i := range c.r.stepOf[h.Signature.ID] {
			if n := len(c.steps[i]); n > 0 && c.steps[i][n-1].seq == r.seq {
				continue
			}
			c.steps[i] = append(c.steps[i], *r)
			if len(c.steps[i]) > maxStepHits {
				c.steps[i] = c.steps[i][1:]
			}
		}
	}
	chain := c.chain()
	if chain != nil {
		c.steps = nil
	}
	return chain
}

// chain returns the records that satisfy the sequence, or nil: for an
// ordered sequence, one record per step each no earlier than the one
// before; for an unordered one, one per step. All fall within `within`
// (expire keeps only such records).
func (c *sequence) chain() []record {
	r := c.r.rule
	var chain []record
	var after time.Time
	for _, recs := range c.steps {
		found := false
		for _, h := range recs {
			if r.Ordered && h.at.Before(after) {
				continue
			}
			if slices.ContainsFunc(chain, func(x record) bool { return x.seq == h.seq || sameDistinct(&x, &h) }) {
				continue // one record is one step; distinct values differ
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
	for _, x := range chain {
		first, last = minTime(first, x.at), maxTime(last, x.at)
	}
	if last.Sub(first) > r.Within {
		return nil
	}
	return chain
}

// void forgets the steps seen before the record (at, seq).
func (c *sequence) void(at time.Time, seq uint64) {
	for i, recs := range c.steps {
		c.steps[i] = slices.DeleteFunc(recs, func(r record) bool { return r.at.Before(at) || r.at.Equal(at) && r.seq < seq })
	}
}

func (c *sequence) expire(now time.Time) {
	for i, recs := range c.steps {
		k := 0
		for k < len(recs) && now.Sub(recs[k].at) > c.r.rule.Within {
			k++
		}
		c.steps[i] = recs[k:]
	}
}

func (c *sequence) idle() bool {
	for _, s := range c.steps {
		if len(s) > 0 {
			return false
		}
	}
	return true
}

func (c *sequence) deadline() (time.Time, bool) { return time.Time{}, false }
func (c *sequence) fire() []record              { return nil }

func (c *sequence) take(keep func(*record) bool) []record {
	var out []record
	for i := range c.steps {
		var taken []record
		c.steps[i], taken = split(c.steps[i], keep)
		for _, t := range taken {
			if !slices.ContainsFunc(out, func(x record) bool { return x.seq == t.seq }) {
				out = append(out, t)
			}
		}
	}
	return out
}

func (c *sequence) save() condState {
	var s condState
	for _, recs := range c.steps {
		s.Steps = append(s.Steps, saveRecords(recs))
	}
	return s
}

func (c *sequence) restore(s condState) {
	if len(s.Steps) != len(c.r.rule.Steps) {
		return // the rule changed: start over
	}
	c.steps = make([][]record, len(s.Steps))
	for i, recs := range s.Steps {
		c.steps[i] = restoreRecords(recs)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (c *sequence) latest() time.Time {
	var t time.Time
	for _, s := range c.steps {
		t = maxTime(t, latestOf(s))
	}
	return t
}

// sameDistinct reports whether two records of a sequence with distinct
// names have the same values of them (none: never).
func sameDistinct(a, b *record) bool {
	return len(a.distinct) > 0 && slices.Equal(a.distinct, b.distinct)
}
