// Package workers counts the live Gunicorn workers of each log from the
// lines the master and its workers write: a worker is live from "Booting
// worker with pid: N" until a line says it exited or was killed, and
// "Starting gunicorn" (a new master) starts the count again.
//
// It sees only what the log says. A worker that leaves no line when it
// goes (a SIGKILL under Gunicorn 20.0 and older, a lost log line) stays
// counted until the next master starts; the process table (pkg/probe) is
// what knows the real number.
package workers

import (
	"strconv"
	"time"

	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// The signatures the counter follows.
const (
	sigStarting = "gunicorn.starting"
	sigBooting  = "gunicorn.worker_booting"
)

// Signatures are the ids of the signatures whose hits the counter needs:
// a caller that narrows its match set to what its rules use keeps these
// too.
var Signatures = []string{
	sigBooting,
	"gunicorn.worker_exiting",
	"gunicorn.worker_sigkill",
	"gunicorn.worker_signal",
	"gunicorn.worker_sigterm",
	"gunicorn.worker_exit_code",
	"gunicorn.worker_core_dump",
	sigStarting,
}

// kinds maps each signature to the kind of point it makes.
var kinds = func() map[string]string {
	m := make(map[string]string, len(Signatures))
	for _, id := range Signatures {
		m[id] = KindExit
	}
	m[sigBooting] = KindBoot
	m[sigStarting] = KindMaster
	return m
}()

// What a point records.
const (
	KindBoot   = "boot"   // a worker was forked
	KindExit   = "exit"   // a worker exited or was killed
	KindMaster = "master" // a master started: the count starts again
)

// Point is one change of a log's worker count.
type Point struct {
	Time   time.Time // the record's own time
	Source string    // the log
	Kind   string    // KindBoot, KindExit or KindMaster
	PID    string    // the worker's pid; the master's for KindMaster
	Live   int       // live workers of Source after this change
}

// Counter counts live workers per log. It is not safe for concurrent use.
//
// Its memory is bounded by the logs it is given and the pids live in each
// (a pid seen again is the same entry); the series, when kept, holds at
// most the number of points asked for.
type Counter struct {
	logs map[string]*logState

	keep    int     // points kept at most; 0 keeps none
	series  []Point // a ring once full: next is the oldest
	next    int
	dropped int
}

type logState struct {
	live    map[string]bool // worker pids
	masters int
}

// Option configures a Counter.
type Option func(*Counter)

// WithSeries keeps the last n points of every change (all logs
// together), for a report to draw; older ones are dropped. A daemon that
// only needs the current counts leaves it out.
func WithSeries(n int) Option {
	return func(c *Counter) { c.keep = max(n, 0) }
}

// NewCounter returns a Counter that has seen nothing.
func NewCounter(opts ...Option) *Counter {
	c := &Counter{logs: map[string]*logState{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Observe takes the hits of one record of the log src. It reports whether
// anything the counter tells changed: a worker became live or left, a
// master started, or src was seen for the first time (so a gauge gets its
// series, at 0). Hits of other signatures are ignored, and so are repeats:
// Gunicorn 21–23 write "exited with code N" twice, and a worker's own
// "Worker exiting" comes before the master's line about the same pid.
func (c *Counter) Observe(src string, ev *parse.Event, hits []match.Hit) (changed bool) {
	for i := range hits {
		h := &hits[i]
		kind, ok := kinds[h.Signature.ID]
		if !ok {
			continue
		}
		st, fresh := c.logs[src], false
		if st == nil {
			st, fresh = &logState{live: map[string]bool{}}, true
			c.logs[src] = st
		}
		pid, _ := h.Get("pid")
		if pid == "" && ev.PID != 0 {
			pid = strconv.Itoa(ev.PID)
		}
		switch kind {
		case KindMaster:
			clear(st.live)
			st.masters++
		case KindBoot:
			if st.live[pid] {
				continue
			}
			st.live[pid] = true
		default:
			if !st.live[pid] && !fresh {
				continue
			}
			delete(st.live, pid)
		}
		changed = true
		c.record(Point{Time: ev.Time, Source: src, Kind: kind, PID: pid, Live: len(st.live)})
	}
	return changed
}

func (c *Counter) record(p Point) {
	switch {
	case c.keep == 0:
	case len(c.series) < c.keep:
		c.series = append(c.series, p)
	default:
		c.series[c.next] = p
		c.next = (c.next + 1) % c.keep
		c.dropped++
	}
}

// Live returns how many workers of src are live.
func (c *Counter) Live(src string) int {
	if st := c.logs[src]; st != nil {
		return len(st.live)
	}
	return 0
}

// Masters returns how many times a master started in src: each start
// after the first is a restart.
func (c *Counter) Masters(src string) int {
	if st := c.logs[src]; st != nil {
		return st.masters
	}
	return 0
}

// Series returns the points kept, oldest first, in a new slice; nil
// unless the Counter was made WithSeries.
func (c *Counter) Series() []Point {
	if len(c.series) == 0 {
		return nil
	}
	out := make([]Point, 0, len(c.series))
	out = append(out, c.series[c.next:]...)
	return append(out, c.series[:c.next]...)
}

// Dropped returns how many points the series let go to stay within its
// cap.
func (c *Counter) Dropped() int { return c.dropped }
