package daemon

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/probe"
)

// Prober samples the process table (probe.Prober; a fake in tests).
type Prober interface {
	Sample(now time.Time) (*probe.Snapshot, error)
}

// runProbe samples at once and then every ProbeEvery until ctx is done,
// sending each snapshot to out. A failed sample is logged when the error
// changes, and sampling goes on.
func (d *Daemon) runProbe(ctx context.Context, out chan<- *probe.Snapshot) {
	cfg := &d.cfg
	tick := time.NewTicker(cfg.ProbeEvery)
	defer tick.Stop()
	var said string
	for {
		snap, err := cfg.Probe.Sample(cfg.Now())
		switch {
		case err != nil && err.Error() != said:
			said = err.Error()
			cfg.Log.Error().Err(err).Msg("the process-table probe cannot read; it tries again every interval")
		case err == nil:
			said = ""
			select {
			case out <- snap:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// probeRecords turns snapshots into records of the probe's source: one per
// finding of probe.Audit, and one per master gone since the last sample,
// each a line of the probe format (parse.FormatProbe) matched like a log
// record. It also sets the probe's metrics.
type probeRecords struct {
	src     *fileState
	metrics *Metrics
	set     *match.Set
	matcher *match.Matcher
	hits    []match.Hit
	masters map[int]string // the masters of the last sample, described
	seen    bool
}

func (p *probeRecords) records(snap *probe.Snapshot, set *match.Set) []record {
	if set != p.set {
		p.set, p.matcher = set, match.NewMatcher(set)
	}
	p.gauges(snap)
	var lines []string
	for _, f := range probe.Audit(snap).Findings {
		line := fmt.Sprintf("probe: check=%s master=%d severity=%s | %s: %s", f.Check, f.Master, f.Severity, f.Title, f.Measured)
		if f.Recommended != "" {
			line += fmt.Sprintf("; recommended %s %s (%s)", f.Parameter, f.Recommended, f.Why)
		}
		lines = append(lines, line)
	}
	now := map[int]string{}
	for _, m := range snap.Masters {
		now[m.PID] = m.Describe()
	}
	for pid, desc := range p.masters {
		if _, ok := now[pid]; !ok {
			lines = append(lines, fmt.Sprintf("probe: check=master.gone master=%d | master %d (%s) is gone from the process table", pid, pid, desc))
		}
	}
	p.masters, p.seen = now, true
	var out []record
	parser := parse.For(parse.FormatProbe)
	for _, l := range lines {
		var ev parse.Event
		if !parser.Parse(l, nil, &ev) {
			continue
		}
		ev.Time, ev.Source = snap.Time, p.src.path
		p.hits = p.matcher.Match(&ev, p.hits[:0])
		if len(p.hits) == 0 {
			continue
		}
		for _, h := range p.hits {
			p.metrics.Hits.WithLabelValues(h.Signature.ID).Inc()
		}
		out = append(out, record{src: p.src, ev: ev, hits: append([]match.Hit(nil), p.hits...)})
	}
	return out
}

// gauges sets the probe's metrics from one snapshot.
func (p *probeRecords) gauges(snap *probe.Snapshot) {
	m := p.metrics
	m.ProbeWorkers.Reset()
	m.ProbeConfigured.Reset()
	m.ProbeRSS.Reset()
	up := 0.0
	for _, ms := range snap.Masters {
		up = 1
		master := strconv.Itoa(ms.PID)
		working := 0
		for _, w := range ms.Workers {
			if w.Working() {
				working++
			}
			m.ProbeRSS.WithLabelValues(master, strconv.Itoa(w.PID)).Set(float64(w.RSS))
		}
		m.ProbeWorkers.WithLabelValues(master, "working").Set(float64(working))
		m.ProbeWorkers.WithLabelValues(master, "idle").Set(float64(len(ms.Workers) - working))
		if n, ok := ms.ConfiguredWorkers(); ok {
			m.ProbeConfigured.WithLabelValues(master).Set(float64(n))
		}
	}
	m.ProbeUp.Set(up)
}
