// Package daemon is `sigtail run`: it follows every configured log for as
// long as it runs and turns what they say into incidents, delivered to the
// outputs, losing nothing and repeating nothing across rotations and
// restarts.
//
// It only wires the boxes of the data flow:
//
//	source.Follower ─lines─▶ reader (join, parse, match) ─records─▶ correlate.Engine ─incidents─▶ sink.Sink
//	       ▲                                                                                         │
//	       └──────────── checkpoint: a position is saved only once the outputs took ◀────────────────┘
//	                     every incident of the lines before it
//
// One goroutine per source follows the file and one reads it; a single
// goroutine (Run's own) owns the engine, the outputs and the positions, so
// they need no locks. Every send selects on the context as well, so a stop
// never hangs on a full channel.
//
// A source that cannot be read is tried again with backoff while the others
// go on; the sources' own events say why, and Health (health.go) keeps the
// state of each for /healthz, reporting each change once.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/checkpoint"
	"github.com/sigtail/sigtail/pkg/correlate"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/merge"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/probe"
	"github.com/sigtail/sigtail/pkg/sink"
	"github.com/sigtail/sigtail/pkg/source"
	"github.com/sigtail/sigtail/pkg/workers"
)

// FileSource is one file, or a glob of files, to follow.
type FileSource struct {
	// Path is a file name or a glob (/var/log/gunicorn/*.log); a glob is
	// expanded again every GlobEvery, and files that appear are followed
	// from their first byte.
	Path string
	// Format forces the format; empty detects it from the first lines.
	Format parse.Format
}

// Config is what the daemon runs with. cmd builds it from flags and the
// config file; nothing here reads either.
type Config struct {
	Files []FileSource
	// Kernel follows the kernel log: /dev/kmsg, or `journalctl -k` where
	// /dev/kmsg cannot be read.
	Kernel bool
	// Units are journald units whose messages to follow (gunicorn.service).
	Units []string
	// KmsgPath and Journalctl replace /dev/kmsg and journalctl (tests).
	KmsgPath, Journalctl string
	Catalog              *catalog.Catalog
	Set                  *match.Set
	// Parsers overrides a format's default parser (an nginx log_format).
	Parsers  map[parse.Format]parse.Parser
	Location *time.Location
	// Positions is where positions are kept; nil keeps none (every start
	// reads from the end of each file).
	Positions *checkpoint.Store
	// Sinks receive every incident, in order. Send must return only once
	// the sink has taken the incident. A sink that delivers in the
	// background (a spool drained to Loki) is a runner: Run starts its
	// delivery and stops it after the engine drained.
	Sinks []sink.Sink
	// SinkFlush is how long, at a stop, delivery may go on to empty the
	// spools (default 5s); what is left is delivered after the next start.
	SinkFlush time.Duration
	Correlate correlate.Options
	// Now is the wall clock, for the engine's timers while the logs are
	// quiet (resolutions, absences); injected so tests control it.
	Now func() time.Time
	// Tick is how often the clock is read and positions are saved
	// when something changed (default 1s: a crash repeats at most that
	// much; the state of a thousand open incidents is a megabyte); Poll
	// how often idle files are looked at without inotify (default 250ms).
	Tick, Poll time.Duration
	// IdleFlush is how long a log may be quiet before the record being
	// joined (a traceback) is taken as complete and the log as caught up,
	// holding the others back no more (default 300ms; a writer puts a
	// whole record in one write).
	IdleFlush time.Duration
	// MergeWait bounds how long records wait, in the event-time merge,
	// for a log that is neither caught up with its end nor moving
	// (default 5s).
	MergeWait time.Duration
	// GlobEvery is how often globs are expanded again (default 10s).
	GlobEvery time.Duration
	// RetryMin is how long a source that cannot be read waits before it is
	// tried again, doubling at each failure up to RetryMax (default 1s
	// and 1 minute).
	RetryMin, RetryMax time.Duration
	// FromStart reads files with no saved position from their first byte.
	FromStart bool
	// Probe samples the process table every ProbeEvery (default 10s); nil
	// runs none. Its findings enter the pipeline as records of their own
	// source ("probe", format probe) and its counts are on /metrics.
	Probe      Prober
	ProbeEvery time.Duration
	Metrics    *Metrics
	Log        zerolog.Logger
}

// Daemon follows the configured logs. New starts nothing; Run does.
type Daemon struct {
	cfg    Config
	set    atomic.Pointer[match.Set]
	reload chan *reloadReq
	health *healthBoard
}

type reloadReq struct {
	cat *catalog.Catalog
	set *match.Set
}

// New returns a daemon for cfg.
func New(cfg Config) *Daemon {
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.IdleFlush <= 0 {
		cfg.IdleFlush = 300 * time.Millisecond
	}
	if cfg.ProbeEvery <= 0 {
		cfg.ProbeEvery = 10 * time.Second
	}
	if cfg.MergeWait <= 0 {
		cfg.MergeWait = 5 * time.Second
	}
	if cfg.GlobEvery <= 0 {
		cfg.GlobEvery = 10 * time.Second
	}
	if cfg.SinkFlush <= 0 {
		cfg.SinkFlush = 5 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = time.Minute
	}
	cfg.RetryMax = max(cfg.RetryMax, cfg.RetryMin)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	d := &Daemon{cfg: cfg, reload: make(chan *reloadReq, 1)}
	d.set.Store(usedSignatures(cfg.Catalog, cfg.Set))
	d.health = newHealthBoard(cfg.Now, cfg.Log, cfg.Metrics.SourceUp)
	for _, f := range cfg.Files {
		if hasMeta(f.Path) {
			d.health.expect(f.Path, KindGlob)
		} else {
			d.health.expect(f.Path, KindFile)
		}
	}
	if cfg.Kernel {
		d.health.expect(kernelSource, KindKernel)
	}
	for _, u := range cfg.Units {
		d.health.expect(journalSource(u), KindJournal)
	}
	if cfg.Positions != nil {
		d.health.expect(positionsSource(cfg.Positions), KindPositions)
	}
	return d
}

// usedSignatures keeps the signatures the rules or the metrics use.
func usedSignatures(cat *catalog.Catalog, set *match.Set) *match.Set {
	used := map[string]bool{}
	for _, r := range cat.Rules {
		if r.Detectable {
			for _, id := range r.Signatures {
				used[id] = true
			}
		}
	}
	for _, id := range workers.Signatures {
		used[id] = true
	}
	return set.Subset(func(id string) bool { return used[id] })
}

// Reload swaps in a new catalog, already loaded and checked by the caller:
// a broken one never gets here, and the old one stays in force. Incidents
// open under the old rules are resolved at the swap.
func (d *Daemon) Reload(ctx context.Context, cat *catalog.Catalog, set *match.Set) error {
	select {
	case d.reload <- &reloadReq{cat: cat, set: set}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// record is what a reader sends the engine loop: a record that matched
// (hits set), or only progress (hits nil); pos is where the source may
// resume once this is dealt with.
type record struct {
	src  *fileState
	ev   parse.Event
	hits []match.Hit
	pos  source.Position
	// start is the position before the record: resuming there reads it again.
	start source.Position
	// Progress: mark is the time of the latest record the reader parsed
	// (matched or not); idle and busy say the reader caught up with its
	// log (nothing came for IdleFlush) or has lines again.
	mark       time.Time
	idle, busy bool
}

// fileState is one followed source: a file, the kernel log, a unit.
type fileState struct {
	path string // the file, "kmsg" or "journal:UNIT"
	kind string // "file", "kmsg", "journal"
	// health is its name in Health ("kernel" for "kmsg"); member says it
	// is a file a glob matched, not one configured.
	health string
	member bool
	match  []string
	format parse.Format
	input  int             // its input in the event-time merge
	last   source.Position // the latest safe position reported
	seen   bool
}

// runner is a sink with delivery work of its own: Run delivers until ctx
// is done and returns nil then; it is started before the first Send and
// stopped after the last.
type runner interface {
	Run(ctx context.Context) error
}

// flusher is a runner that can say when everything sent so far has been
// delivered: Flush waits for that, or for ctx.
type flusher interface {
	Flush(ctx context.Context) error
}

// Run follows the logs until ctx is done, then drains: lines already read
// are processed, their incidents delivered, the positions saved. It
// returns nil after a clean stop.
//
// Stop order: the readers stop first; the engine loop drains what they
// sent, so the last incidents reach the sinks; positions are saved; the
// sinks that deliver in the background get SinkFlush to empty their
// spools; then their delivery stops (what is left stays spooled).
func (d *Daemon) Run(ctx context.Context) error {
	cfg := &d.cfg
	log := cfg.Log
	closed := cfg.Correlate.Closed
	cfg.Correlate.Closed = func(rule string, n int) {
		cfg.Metrics.Closed.WithLabelValues(rule).Add(float64(n))
		if closed != nil {
			closed(rule, n)
		}
	}
	eng := correlate.New(cfg.Catalog, cfg.Correlate)

	// Sinks deliver on their own context: they outlive ctx until the
	// engine has drained into them.
	sinkCtx, stopSinks := context.WithCancel(context.Background())
	var sinkRuns sync.WaitGroup
	defer func() {
		stopSinks()
		sinkRuns.Wait()
	}()
	for _, s := range cfg.Sinks {
		if r, ok := s.(runner); ok {
			sinkRuns.Go(func() {
				if err := r.Run(sinkCtx); err != nil {
					log.Error().Err(err).Msg("an output stopped delivering")
				}
			})
		}
	}
	flushSinks := func() {
		fctx, cancel := context.WithTimeout(context.Background(), cfg.SinkFlush)
		defer cancel()
		var wg sync.WaitGroup
		for _, s := range cfg.Sinks {
			if f, ok := s.(flusher); ok {
				wg.Go(func() {
					if err := f.Flush(fctx); err != nil {
						log.Warn().Err(err).Msg("stopping with incidents not yet delivered; they are delivered after the next start")
					}
				})
			}
		}
		wg.Wait()
	}

	// Readers stop on readCtx; the engine loop drains what they sent.
	readCtx, stopReading := context.WithCancel(context.Background())
	defer stopReading()
	records := make(chan record, 1024)
	mrg := merge.New(func(r *record) time.Time { return r.ev.Time })
	var readers sync.WaitGroup
	files := map[string]*fileState{}
	specialSources := map[string]fileState{}
	configured := map[string]bool{}
	for _, f := range cfg.Files {
		configured[f.Path] = !hasMeta(f.Path)
	}
	start := func(path string, format parse.Format, fromStart bool) {
		if files[path] != nil {
			return
		}
		st := &fileState{path: path, kind: "file", format: format, health: path, member: !configured[path]}
		if k, ok := specialSources[path]; ok {
			*st = k
		}
		st.input = mrg.Add()
		files[path] = st
		readers.Add(1)
		go func() {
			defer readers.Done()
			d.follow(readCtx, st, fromStart, records)
		}()
	}
	expand := func(first bool) {
		for _, fsrc := range cfg.Files {
			paths := []string{fsrc.Path}
			if hasMeta(fsrc.Path) {
				m, err := filepath.Glob(fsrc.Path)
				switch {
				case err != nil:
					d.health.set(fsrc.Path, KindGlob, false, globReason(err), "")
					continue
				case len(m) == 0:
					d.health.set(fsrc.Path, KindGlob, false, globNoMatch, "")
				default:
					d.health.set(fsrc.Path, KindGlob, true, "", "")
				}
				paths = m
			}
			for _, p := range paths {
				if files[p] == nil && !first {
					log.Info().Str("file", p).Msg("new file matches a glob; following it from its start")
				}
				start(p, fsrc.Format, cfg.FromStart || !first)
			}
		}
	}
	// The positions directory is made if missing; a store that cannot be
	// saved is reported and tried again at every tick, while following
	// goes on.
	posName := ""
	posBad := false
	if cfg.Positions != nil {
		if _, ok := cfg.Positions.Reset(); ok {
			// Every log lost its position: from its end, not all again.
			cfg.FromStart = false
		}
		posName = positionsSource(cfg.Positions)
		err := cfg.Positions.Prepare()
		posBad = err != nil
		d.health.set(posName, KindPositions, !posBad, positionsReason(err), "")
	}
	expand(true)
	if cfg.Kernel {
		specialSources["kmsg"] = fileState{path: "kmsg", kind: "kmsg", format: parse.FormatKernel, health: kernelSource}
		start("kmsg", parse.FormatKernel, cfg.FromStart)
	}
	for _, u := range cfg.Units {
		name := journalSource(u)
		specialSources[name] = fileState{path: name, kind: "journal", match: []string{"-u", u}, health: name}
		start(name, "", cfg.FromStart)
	}

	// Refused incidents wait here, per output, and are offered again at
	// every tick; they are saved with the positions, so the positions go
	// on for every log and a restart loses none of them.
	var unsent []unsentIncident
	var restored savedDaemon
	// changed says a record, a position or an incident came since the
	// last save: a quiet daemon writes nothing.
	changed := true
	if cfg.Positions != nil {
		if b := cfg.Positions.State(); len(b) > 0 {
			if err := json.Unmarshal(b, &restored); err != nil {
				log.Error().Err(err).Msg("the saved correlation state cannot be read; starting with none (open incidents are raised again as their records come)")
			} else if len(restored.Engine) > 0 {
				if err := eng.Restore(restored.Engine); err != nil {
					log.Error().Err(err).Msg("the saved correlation state does not fit; starting with none")
				}
			}
			unsent = restored.Unsent
		}
	}
	emitted := 0
	send := func(i int, inc *incident.Incident) bool {
		if err := cfg.Sinks[i].Send(context.Background(), inc); err != nil {
			cfg.Metrics.SinkErrors.Inc()
			log.Error().Err(err).Str("incident", inc.ID).Msg("an output refused an incident; it is offered again every tick, and kept across a restart")
			return false
		}
		return true
	}
	emit := func(inc *incident.Incident) {
		emitted++
		changed = true
		cfg.Metrics.Incidents.WithLabelValues(inc.Rule, inc.Severity.String(), string(inc.Status)).Inc()
		for i := range cfg.Sinks {
			// Sinks own their retries and spooling; an error here means the
			// incident could not be taken (a full spool): it waits, in order
			// behind what this output already refused.
			if slices.ContainsFunc(unsent, func(u unsentIncident) bool { return u.Sink == i }) || !send(i, inc) {
				unsent = append(unsent, unsentIncident{Sink: i, Incident: inc})
				if len(unsent) > maxUnsent {
					log.Error().Str("incident", unsent[0].Incident.ID).Msg("too many incidents refused by the outputs; the oldest is dropped")
					unsent = unsent[1:]
				}
			}
		}
	}
	retryUnsent := func() {
		failed := map[int]bool{}
		left := unsent[:0]
		for _, u := range unsent {
			if failed[u.Sink] || u.Sink >= len(cfg.Sinks) || !send(u.Sink, u.Incident) {
				failed[u.Sink] = true
				if u.Sink < len(cfg.Sinks) {
					left = append(left, u)
				}
			}
		}
		unsent = left
	}
	// Open incidents restored from the last run fire again at once where
	// an output needs them to (Alertmanager forgets an alert not re-sent).
	for _, inc := range eng.Open() {
		for _, s := range cfg.Sinks {
			if a, ok := s.(announcer); ok {
				if err := a.Announce(context.Background(), inc); err != nil {
					log.Error().Err(err).Str("incident", inc.ID).Msg("could not announce an open incident again")
				}
			}
		}
	}
	if n := len(eng.Open()); n > 0 {
		log.Info().Int("open", n).Msg("restored the open incidents and pending windows of the last run")
	}
	if cfg.Positions != nil {
		if r, ok := cfg.Positions.Reset(); ok {
			log.Error().Err(r.Err).Str("positions", r.Path).Str("moved_to", r.MovedTo).
				Msg("the positions file could not be read; it was moved aside and every log is followed from its end")
			eng.Note(correlate.RulePositionsReset, cfg.Now(), "positions file "+r.Path+" unreadable: "+r.Err.Error(),
				map[string]string{"path": r.Path, "moved": r.MovedTo, "error": r.Err.Error()}, emit)
		}
	}
	// gunicorn_workers_logged: the live workers per log, from its lines.
	gauge := workers.NewCounter()

	// The process-table probe: one goroutine samples, the loop turns what
	// it found into records of the "probe" input of the merge (idle
	// between samples: it holds no log back, and a log behind holds its
	// records back until the logs' time reaches the sample's).
	probeIn := -1
	snaps := make(chan *probe.Snapshot, 1)
	var probeRec probeRecords
	if cfg.Probe != nil {
		probeIn = mrg.Add()
		mrg.SetIdle(probeIn, true)
		probeSrc := &fileState{path: "probe", kind: "probe", format: parse.FormatProbe, input: probeIn}
		probeRec = probeRecords{src: probeSrc, metrics: cfg.Metrics}
		readers.Go(func() { d.runProbe(readCtx, snaps) })
	}

	tick := time.NewTicker(cfg.Tick)
	defer tick.Stop()
	globs := time.NewTicker(cfg.GlobEvery)
	defer globs.Stop()
	drained := make(chan struct{})
	stopping := false
	var savedAt time.Time
	save := func() {
		// Positions that could not be saved are tried at every tick, so
		// that their recovery is seen even while nothing changes.
		if cfg.Positions == nil || (!changed && !posBad) {
			return
		}
		changed = false
		savedAt = cfg.Now()
		for path, st := range files {
			pos := st.last
			// Records still waiting in the merge are read again after a
			// restart: the position stays before the first of them.
			if h, ok := mrg.Head(st.input); ok {
				pos = h.start
			}
			if !st.seen && pos == (source.Position{}) {
				continue
			}
			if st.kind == "file" {
				if fi, err := os.Stat(path); err == nil && pos.Ino != 0 {
					cfg.Metrics.Lag.WithLabelValues(path).Set(float64(max(fi.Size()-pos.Offset, 0)))
				}
			}
			cfg.Positions.Set(path, checkpoint.Position{Dev: pos.Dev, Ino: pos.Ino, Fingerprint: pos.Fingerprint, Offset: pos.Offset,
				Seq: pos.Seq, BootID: pos.BootID, Cursor: pos.Cursor})
		}
		// The engine's state goes with exactly these positions.
		state, err := eng.Save()
		if err == nil {
			var b []byte
			b, err = json.Marshal(savedDaemon{Engine: state, Unsent: unsent})
			cfg.Positions.SetState(b)
		}
		if err != nil {
			log.Error().Err(err).Msg("could not save the correlation state")
		}
		// Said once, not every tick, and said again once it works. A
		// directory that could not be made is made once it can be.
		var perr error
		if posBad {
			perr = cfg.Positions.Prepare()
		}
		if perr == nil {
			perr = cfg.Positions.Save()
		}
		posBad = perr != nil
		d.health.set(posName, KindPositions, !posBad, positionsReason(perr), "")
	}
	// quietBase is the engine time the quiet advance starts from: the last
	// event's time, or the engine's for records without a time.
	var lastRecord, lastEvent, quietBase time.Time
	lastFed := cfg.Now() // when the engine last took a record (or the start)
	observe := func(r *record) {
		lastRecord = cfg.Now()
		lastFed = lastRecord
		if r.ev.Time.After(lastEvent) {
			lastEvent = r.ev.Time
		}
		eng.Observe(&r.ev, r.hits, emit)
		if gauge.Observe(r.src.path, &r.ev, r.hits) {
			cfg.Metrics.Workers.WithLabelValues(r.src.path).Set(float64(gauge.Live(r.src.path)))
		}
		quietBase = lastEvent
		if quietBase.IsZero() {
			quietBase = eng.Now()
		}
	}
	// drain feeds the engine every record the merge lets go: those no
	// source can still precede. Past maxWaiting records, the earliest goes
	// anyway (a late record is taken at the engine's time).
	drain := func() {
		before := emitted
		for {
			r, _, ok := mrg.Next()
			if !ok && mrg.Len() > maxWaiting {
				r, _, ok = mrg.Take()
			}
			if !ok {
				break
			}
			observe(r)
		}
		if emitted != before && cfg.Now().Sub(savedAt) >= 200*time.Millisecond {
			// Incidents went out: save soon, so a crash now repeats as
			// little as possible (and what it repeats has the same id).
			save()
		}
	}
	handle := func(r record) {
		changed = true
		st := r.src
		if r.hits != nil {
			mrg.Push(st.input, r)
			mrg.Mark(st.input, r.ev.Time)
		}
		if !r.mark.IsZero() {
			mrg.Mark(st.input, r.mark)
		}
		switch {
		case r.idle:
			mrg.SetIdle(st.input, true)
		case r.busy:
			mrg.SetIdle(st.input, false)
		}
		if r.pos != (source.Position{}) {
			st.last, st.seen = r.pos, true
		}
	}
	for {
		select {
		case r := <-records:
			handle(r)
			// Take what else is there before draining: one pass of the
			// merge per burst rather than per record.
			for n := 0; n < 256; n++ {
				select {
				case r := <-records:
					handle(r)
					continue
				default:
				}
				break
			}
			drain()
		case snap := <-snaps:
			for _, r := range probeRec.records(snap, d.set.Load()) {
				mrg.Push(probeIn, r)
			}
			drain()
		case <-tick.C:
			// While the logs are quiet, time goes on from the last event's
			// time by as long as they have been quiet: the engine's timers
			// (resolutions, absences) run, but a backlog (a restart, old
			// logs read from their start, a host whose clock is off) keeps
			// its own time instead of all seeming to happen now.
			// Records with no time of their own (pasted fragments) are
			// taken at the engine's time, so time goes on from there.
			if now := cfg.Now(); !stopping && !lastRecord.IsZero() && now.Sub(lastRecord) >= 2*cfg.Tick && mrg.Len() == 0 {
				eng.Advance(quietBase.Add(now.Sub(lastRecord)), emit)
			}
			if now := cfg.Now(); mrg.Len() > 0 && now.Sub(lastFed) > cfg.MergeWait {
				// A log neither caught up nor moving holds the others back
				// no longer than MergeWait: what waits goes now.
				if i, ok := mrg.Blocking(); ok {
					for _, st := range files {
						if st.input == i {
							log.Warn().Str("file", st.path).Dur("waited", now.Sub(lastFed)).Msg("a log neither caught up nor moving held the others back; taking their records without it")
						}
					}
				}
				for {
					r, _, ok := mrg.Take()
					if !ok {
						break
					}
					observe(r)
				}
				save()
			}
			if len(unsent) > 0 {
				retryUnsent()
			}
			save()
		case <-globs.C:
			if !stopping {
				expand(false)
			}
		case req := <-d.reload:
			// The old rules' open incidents end with them.
			eng.Flush(emit)
			for _, inc := range eng.Open() {
				inc.Status = incident.StatusResolved
				emit(inc)
			}
			d.set.Store(usedSignatures(req.cat, req.set))
			cfg.Catalog = req.cat
			eng = correlate.New(req.cat, cfg.Correlate)
			log.Info().Int("rules", len(req.cat.Rules)).Msg("catalog reloaded")
		case <-ctx.Done():
			if !stopping {
				stopping = true
				log.Info().Msg("stopping: draining what was read")
				stopReading()
				go func() { readers.Wait(); close(drained) }()
			}
			ctx = context.Background() // this case fires once
		case <-drained:
			for {
				select {
				case r := <-records:
					handle(r)
					continue
				default:
				}
				break
			}
			// What the merge still holds (a log that had not caught up) is
			// not fed: the positions stay before it, and the next start
			// reads it again in order.
			drain()
			if len(unsent) > 0 {
				retryUnsent()
			}
			save()
			flushSinks()
			log.Info().Msg("stopped")
			return nil
		}
	}
}

// maxWaiting bounds the records the merge holds for a log that has not
// caught up; maxUnsent the incidents refused by outputs kept for another
// try.
const (
	maxWaiting = 100_000
	maxUnsent  = 10_000
)

// savedDaemon is what the daemon saves beside the positions.
type savedDaemon struct {
	Engine json.RawMessage  `json:"engine,omitempty"`
	Unsent []unsentIncident `json:"unsent,omitempty"`
}

// unsentIncident is an incident an output refused, waiting for another try.
type unsentIncident struct {
	Sink     int                `json:"output"`
	Incident *incident.Incident `json:"incident"`
}

// announcer is an output that must hear again, at start, of the incidents
// a restart restored as open (Alertmanager resolves an alert that is not
// re-sent).
type announcer interface {
	Announce(ctx context.Context, inc *incident.Incident) error
}

func hasMeta(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// follow runs the follower and the reader of one file until ctx is done,
// restarting the follower with backoff when it fails.
func (d *Daemon) follow(ctx context.Context, st *fileState, fromStart bool, out chan<- record) {
	cfg := &d.cfg
	log := cfg.Log.With().Str("file", st.path).Logger()
	lines := make(chan source.Line, 256)
	events := make(chan source.Event, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.read(ctx, st, lines, events, out)
	}()
	var startPos source.Position
	if cfg.Positions != nil {
		if p, ok := cfg.Positions.Get(st.path); ok {
			startPos = source.Position{Dev: p.Dev, Ino: p.Ino, Fingerprint: p.Fingerprint, Offset: p.Offset,
				Seq: p.Seq, BootID: p.BootID, Cursor: p.Cursor}
		}
	}
	backoff := cfg.RetryMin
	for ctx.Err() == nil {
		began := time.Now()
		err := d.source(st, startPos, fromStart).Run(ctx, lines, events)
		if err == nil || ctx.Err() != nil {
			break
		}
		// The source said why in an "unreadable" event: the reader
		// reports it once, in Health and the log; the others go on.
		log.Debug().Err(err).Dur("retry_in", backoff).Msg("cannot follow; trying again")
		cfg.Metrics.FileEvents.WithLabelValues(st.path, "error").Inc()
		if time.Since(began) >= cfg.RetryMax {
			backoff = cfg.RetryMin // it followed a good while: a new failure
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		backoff = min(2*backoff, cfg.RetryMax)
		startPos, fromStart = source.Position{}, true
	}
	close(lines)
	wg.Wait()
}

// lineSource is what the daemon follows: a file, the kernel ring buffer or
// the journal. Run sends lines until ctx is done, never closes out, returns
// nil on cancellation and an error when it cannot go on (it is restarted),
// right after an "unreadable" event saying why. Its "open" or "resumed"
// event says it is followed, "missing" that it is waited for.
type lineSource interface {
	Run(ctx context.Context, out chan<- source.Line, events chan<- source.Event) error
}

var (
	_ lineSource = (*source.Follower)(nil)
	_ lineSource = (*source.Kernel)(nil)
	_ lineSource = (*source.Kmsg)(nil)
	_ lineSource = (*source.Journal)(nil)
)

// source makes the reader of one source, resuming at start.
func (d *Daemon) source(st *fileState, start source.Position, fromStart bool) lineSource {
	cfg := &d.cfg
	switch st.kind {
	case "kmsg":
		return &source.Kernel{KmsgPath: cfg.KmsgPath, Journalctl: cfg.Journalctl, Start: start, FromStart: fromStart, Poll: cfg.Poll}
	case "journal":
		return &source.Journal{Match: st.match, Start: start, FromStart: fromStart, Command: cfg.Journalctl}
	}
	return &source.Follower{Path: st.path, Start: start, FromStart: fromStart, Poll: cfg.Poll}
}

// read joins, parses and matches one source's lines through the same
// parse.Stream as a scan, and sends the engine what matched, plus progress,
// so that positions advance over quiet lines.
func (d *Daemon) read(ctx context.Context, st *fileState, lines <-chan source.Line, events <-chan source.Event, out chan<- record) {
	log := d.cfg.Log.With().Str("file", st.path).Logger()
	cfg := &d.cfg
	m := cfg.Metrics
	var (
		matcher *match.Matcher
		set     *match.Set
		hits    []match.Hit
		last    source.Position // the position after the last line read
		// ps numbers lines itself: a followed file's offsets restart at
		// each rotation, while a record may span the rotation. at holds
		// the position before each line a record may still start at.
		at    []lineStart
		base  int64 // sequence number of at[0]
		seq   int64 // sequence number of the next line
		dirty bool  // lines added since the last idle flush
		// mark is the time of the latest record parsed; idle says the
		// engine loop was told this log is caught up.
		mark, reportedMark time.Time
		idle               bool
		// eofAt is where the follower last found the end of the file.
		eofAt source.Position
	)
	// caughtUp: every line up to the end of the log was taken (a file
	// says where its end was; the kernel log and the journal cannot, and
	// a quiet while is their end).
	caughtUp := func() bool {
		if st.kind != "file" || last == (source.Position{}) {
			return true
		}
		// The fingerprint too: after a truncation the same inode's offsets
		// start again from 0.
		return eofAt.Ino == last.Ino && eofAt.Dev == last.Dev && eofAt.Fingerprint == last.Fingerprint && last.Offset >= eofAt.Offset
	}
	ps := parse.NewStream(parse.StreamConfig{
		Format:   st.format,
		Parsers:  cfg.Parsers,
		Location: cfg.Location,
		MaxLines: 200,
		MaxBytes: 64 << 10,
	})
	send := func(r record) bool {
		select {
		case out <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	startOf := func(n int64) lineStart {
		if i := n - base; i >= 0 && i < int64(len(at)) {
			return at[i]
		}
		return lineStart{pos: last}
	}
	// safe is where a restart may resume: the start of the oldest record
	// still being joined, or else the end of the last line.
	safe := func() source.Position {
		if n, ok := ps.OldestPending(); ok {
			return startOf(n).pos
		}
		return last
	}
	process := func(ev *parse.Event) bool {
		if ev.Time.After(mark) {
			mark = ev.Time
		}
		if s := d.set.Load(); s != set {
			set, matcher = s, match.NewMatcher(s)
		}
		start := startOf(ev.Offset)
		ev.Source, ev.Offset = st.path, start.off
		if ev.Unparsed() {
			m.Unparsed.WithLabelValues(st.path).Inc()
		}
		hits = matcher.Match(ev, hits[:0])
		if len(hits) == 0 {
			return true
		}
		for _, h := range hits {
			m.Hits.WithLabelValues(h.Signature.ID).Inc()
		}
		r := record{src: st, ev: *ev, hits: slices.Clone(hits), pos: safe(), start: start.pos}
		r.ev.Fields = slices.Clone(ev.Fields)
		return send(r)
	}
	feed := func(evs []*parse.Event) bool {
		for _, ev := range evs {
			if !process(ev) {
				return false
			}
		}
		return true
	}
	add := func(l source.Line) bool {
		m.Lines.WithLabelValues(st.path).Inc()
		if l.Cut {
			m.CutLines.WithLabelValues(st.path).Inc()
		}
		// Right before this line: the end of the line before it.
		before := last
		if before == (source.Position{}) || before.Ino != l.File.Ino || before.Dev != l.File.Dev {
			// The first line read, or the first of a new file.
			before = l.File
			before.Offset = l.Offset
			if before.Seq != 0 {
				before.Seq = uint64(l.Offset) // a kernel record: resume at its own number
			}
			before.Cursor = ""
		}
		at = append(at, lineStart{off: l.Offset, pos: before})
		n := seq
		seq++
		ps.SetReference(cfg.Now())
		evs := ps.Add(l.Text, n)
		last = l.File
		if !feed(evs) {
			return false
		}
		// Forget the lines before the oldest record still being joined.
		keep := seq
		if p, ok := ps.OldestPending(); ok {
			keep = p
		}
		if drop := keep - base; drop > 0 && drop <= int64(len(at)) {
			at = at[:copy(at, at[drop:])]
			base = keep
		}
		dirty = true
		return true
	}
	quiet := time.NewTimer(cfg.IdleFlush)
	defer quiet.Stop()
	progress := time.NewTicker(progressEvery)
	defer progress.Stop()
	reported := source.Position{}
	report := func() bool {
		pos := safe()
		if pos == reported && !mark.After(reportedMark) {
			return true
		}
		reported, reportedMark = pos, mark
		return send(record{src: st, pos: pos, mark: mark})
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return
			}
			if idle {
				// Lines again: this log may hold the others back.
				idle = false
				if !send(record{src: st, busy: true}) {
					return
				}
			}
			if !add(l) {
				return
			}
			quiet.Reset(cfg.IdleFlush)
		case ev := <-events:
			if ev.Kind == "eof" {
				eofAt = ev.At
				continue
			}
			d.observeHealth(st, ev)
			if ev.Kind == "unreadable" {
				continue // counted as "error" by follow, said once by the health board
			}
			cfg.Metrics.FileEvents.WithLabelValues(st.path, ev.Kind).Inc()
			if ev.Kind == "missing" {
				continue // said by the health board
			}
			log.Info().Str("event", ev.Kind).Str("path", ev.Path).Msg(ev.Note)
			if ev.Kind == "open" && last == (source.Position{}) && ev.At != (source.Position{}) {
				// Opened at its end with nothing read yet: that is a
				// position to save, so a restart does not skip what is
				// written meanwhile.
				last = ev.At
				if !report() {
					return
				}
			}
		case <-quiet.C:
			// Quiet: the records being joined are complete, and this log
			// is caught up: it holds nobody back in the merge.
			if dirty {
				dirty = false
				if !feed(ps.Flush()) {
					return
				}
			}
			if !idle && caughtUp() {
				idle = true
				pos := safe()
				reported, reportedMark = pos, mark
				if !send(record{src: st, pos: pos, mark: mark, idle: true}) {
					return
				}
			}
			quiet.Reset(cfg.IdleFlush)
		case <-progress.C:
			if !report() {
				return
			}
		case <-ctx.Done():
			// Last word: how far this source got. The engine loop drains
			// until every reader has returned, so this send cannot hang.
			if pos := safe(); pos != reported && pos != (source.Position{}) {
				out <- record{src: st, pos: pos}
			}
			return
		}
	}
}

// observeHealth turns a source's events into its state in Health.
func (d *Daemon) observeHealth(st *fileState, ev source.Event) {
	kind := KindFile
	switch st.kind {
	case "kmsg":
		kind = KindKernel
	case "journal":
		kind = KindJournal
	}
	var ok bool
	var reason string
	switch ev.Kind {
	case "open", "resumed":
		ok = true
	case "missing":
		if st.member {
			d.health.member(st.health, false, true, "", ev.Kind)
			return
		}
		reason = missingReason
	case "unreadable":
		reason = ev.Note
	default:
		return
	}
	if st.member {
		d.health.member(st.health, ok, false, reason, ev.Kind)
		return
	}
	d.health.set(st.health, kind, ok, reason, ev.Kind)
}

// progressEvery is how often a reader tells the engine loop how far it
// read, when it read something.
const progressEvery = 50 * time.Millisecond

// lineStart is where a line began: its byte offset, and the position a
// restart resumes at to read it again.
type lineStart struct {
	off int64
	pos source.Position
}

// ErrNoSources is returned by cmd when nothing is to be followed.
var ErrNoSources = errors.New("no log to follow: none of the usual places exists and none was configured")
