package correlate

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sigtail/sigtail/pkg/match"
)

// ratioBuckets is how many slices a ratio rule's window is counted in.
const ratioBuckets = 12

// ratio is the condition of a rule on the share of some records (its
// numerator: 499s, slow requests) among all it counts, within a window and
// over a minimum count. Counting every request costs a counter per slice
// of the window; only numerator records are kept, capped, as evidence.
type ratio struct {
	r       *ruleRT
	maxEv   int
	buckets []bucket // counts per slice of the window
	ev      []record // numerator records inside the window, capped
	// share and requests are the figures when it last held, and of the
	// numerator count then: the incident stands for every such record.
	share, requests string
	of              int
}

type bucket struct {
	start     time.Time
	total, of int
}

// add takes a numerator record; the others are only counted.
func (c *ratio) add(r *record, _ []*match.Hit) []record {
	holds := c.count(r.at, true)
	c.ev = append(c.ev, *r)
	if len(c.ev) > c.maxEv {
		c.ev = c.ev[1:]
	}
	if !holds {
		return nil
	}
	fired := c.ev
	c.ev = nil
	return fired
}

// count counts one record (a numerator when isOf) in the window, and
// reports whether the share holds now.
func (c *ratio) count(at time.Time, isOf bool) bool {
	rule := c.r.rule
	slice := max(rule.Window/ratioBuckets, time.Millisecond)
	start := at.Truncate(slice)
	if n := len(c.buckets); n == 0 || c.buckets[n-1].start.Before(start) {
		c.buckets = append(c.buckets, bucket{start: start})
	}
	if at.Sub(c.buckets[0].start) > rule.Window {
		c.expire(at)
	}
	b := &c.buckets[len(c.buckets)-1]
	b.total++
	if isOf {
		b.of++
	}
	total, of := 0, 0
	for _, b := range c.buckets {
		total += b.total
		of += b.of
	}
	holds := total >= rule.MinCount && float64(of) >= rule.RatioAtLeast*float64(total)
	if holds && isOf {
		c.share = fmt.Sprintf("%.1f%%", 100*float64(of)/float64(max(total, 1)))
		c.requests = strconv.Itoa(total)
		c.of = of
	}
	return holds
}

func (c *ratio) expire(now time.Time) {
	w := c.r.rule.Window
	j := 0
	for j < len(c.buckets) && now.Sub(c.buckets[j].start) > w {
		j++
	}
	c.buckets = c.buckets[j:]
	k := 0
	for k < len(c.ev) && now.Sub(c.ev[k].at) > w {
		k++
	}
	c.ev = c.ev[k:]
}

func (c *ratio) idle() bool                  { return len(c.buckets) == 0 && len(c.ev) == 0 }
func (c *ratio) deadline() (time.Time, bool) { return time.Time{}, false }
func (c *ratio) fire() []record              { return nil }

// take removes numerator records another incident takes over: they no
// longer count toward the share.
func (c *ratio) take(keep func(*record) bool) []record {
	var out []record
	c.ev, out = split(c.ev, keep)
	for _, r := range out {
		for i := range c.buckets {
			b := &c.buckets[i]
			if !r.at.Before(b.start) && (i+1 == len(c.buckets) || r.at.Before(c.buckets[i+1].start)) && b.of > 0 {
				b.of--
				b.total--
			}
		}
	}
	return out
}

func (c *ratio) save() condState {
	s := condState{Pending: saveRecords(c.ev)}
	for _, b := range c.buckets {
		s.Buckets = append(s.Buckets, savedBucket{Start: b.start, Total: b.total, Of: b.of})
	}
	return s
}

func (c *ratio) restore(s condState) {
	c.ev = restoreRecords(s.Pending)
	for _, b := range s.Buckets {
		c.buckets = append(c.buckets, bucket{start: b.Start, total: b.Total, of: b.Of})
	}
}

func (c *ratio) latest() time.Time {
	if n := len(c.buckets); n > 0 {
		return c.buckets[n-1].start
	}
	return latestOf(c.ev)
}
