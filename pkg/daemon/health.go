package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/checkpoint"
	"github.com/sigtail/sigtail/pkg/source"
)

// Health is what /healthz answers: whether every configured source can be
// read and the positions can be saved.
type Health struct {
	// Status is "ok", "degraded" (a source cannot be read, or the
	// positions cannot be saved), or "starting" (before Run has heard from
	// every source).
	Status string `json:"status"`
	// Sources are every configured source, sorted by name, with the files
	// a glob matches that cannot be read.
	Sources []SourceHealth `json:"sources"`
}

// SourceHealth is the state of one source.
type SourceHealth struct {
	// Source is a path, a glob, "kernel", "journal:UNIT" or
	// "positions:PATH".
	Source string `json:"source"`
	// Kind is file, glob, kernel, journal or positions.
	Kind string `json:"kind"`
	OK   bool   `json:"ok"`
	// Reason says, for people, why it is not ok.
	Reason string `json:"reason,omitempty"`
	// Since is when it entered this state (from Config.Now).
	Since time.Time `json:"since"`
}

// Health statuses.
const (
	StatusOK       = "ok"
	StatusDegraded = "degraded"
	StatusStarting = "starting"
)

// Kinds of source.
const (
	KindFile      = "file"
	KindGlob      = "glob"
	KindKernel    = "kernel"
	KindJournal   = "journal"
	KindPositions = "positions"
)

// Health returns the state of every source. It is safe to call from any
// goroutine while Run runs.
func (d *Daemon) Health() Health { return d.health.snapshot() }

// HealthHandler serves d's Health as JSON: 200 when it is ok, 503 when it
// is degraded or still starting.
func HealthHandler(d *Daemon) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := d.Health()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if h.Status != StatusOK {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(h)
	})
}

// Check says, for every configured source and the positions store,
// whether Run could use it now, the way Run would find it, without
// following anything: a file exists, is a regular file (or a FIFO or a
// character device) and can be read; a glob matches at least one file that
// can be read, and each match that cannot is listed as a file of its own;
// the kernel log is readable at KmsgPath or journalctl is there; units
// need journalctl; the positions directory exists or can be created, and
// takes a file. Nothing is left behind. The reasons are worded as Health's.
func Check(cfg Config) []SourceHealth {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	var out []SourceHealth
	seen := map[string]bool{}
	add := func(name, kind, reason string) {
		if seen[name] {
			return
		}
		seen[name] = true
		out = append(out, SourceHealth{Source: name, Kind: kind, OK: reason == "", Reason: reason, Since: now()})
	}
	for _, f := range cfg.Files {
		if !hasMeta(f.Path) {
			add(f.Path, KindFile, fileReason(source.CheckFile(f.Path)))
			continue
		}
		matches, err := filepath.Glob(f.Path)
		if err != nil {
			add(f.Path, KindGlob, globReason(err))
			continue
		}
		good := 0
		var bad []SourceHealth
		for _, m := range matches {
			if r := fileReason(source.CheckFile(m)); r != "" {
				bad = append(bad, SourceHealth{Source: m, Kind: KindFile, Reason: r})
				continue
			}
			good++
		}
		switch {
		case len(matches) == 0:
			add(f.Path, KindGlob, globNoMatch)
		case good == 0 && len(matches) == 1:
			add(f.Path, KindGlob, "the one file it matches cannot be read")
		case good == 0:
			add(f.Path, KindGlob, fmt.Sprintf("none of the %d files it matches can be read", len(matches)))
		default:
			add(f.Path, KindGlob, "")
		}
		for _, b := range bad {
			add(b.Source, b.Kind, b.Reason)
		}
	}
	if cfg.Kernel {
		k := &source.Kernel{KmsgPath: cfg.KmsgPath, Journalctl: cfg.Journalctl}
		reason := ""
		if err := k.Check(); err != nil {
			reason = err.Error()
		}
		add(kernelSource, KindKernel, reason)
	}
	if len(cfg.Units) > 0 {
		bin := cfg.Journalctl
		if bin == "" {
			bin = "journalctl"
		}
		err := source.CheckCommand(bin)
		for _, u := range cfg.Units {
			reason := ""
			if err != nil {
				reason = "journalctl -u " + u + ": " + source.Reason(err)
			}
			add(journalSource(u), KindJournal, reason)
		}
	}
	if cfg.Positions != nil {
		add(positionsSource(cfg.Positions), KindPositions, positionsReason(checkpoint.CheckDir(cfg.Positions.Path())))
	}
	slices.SortFunc(out, func(a, b SourceHealth) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// The names of the sources that are not paths.
const kernelSource = "kernel"

func journalSource(unit string) string { return "journal:" + unit }

func positionsSource(s *checkpoint.Store) string { return "positions:" + s.Path() }

// Reasons of a glob.
const globNoMatch = "glob matches no file"

func globReason(err error) string { return "bad glob: " + source.ReasonText(err) }

// fileReason is the reason a file cannot be followed ("" when it can).
func fileReason(err error) string {
	if err == nil {
		return ""
	}
	return source.Reason(err)
}

// missingReason is the reason of a file the follower waits for.
var missingReason = source.Reason(fs.ErrNotExist)

// positionsReason is the reason positions cannot be saved ("" when they
// can). Reading a log and writing the positions call for other advice.
func positionsReason(err error) string {
	if err == nil {
		return ""
	}
	var de *checkpoint.DirError
	if errors.As(err, &de) {
		if de.Create {
			return fmt.Sprintf("positions directory %s does not exist and cannot be created: %s", de.Dir, writeReason(de.Err))
		}
		return fmt.Sprintf("positions directory %s is not writable: %s", de.Dir, writeReason(de.Err))
	}
	return "positions cannot be saved: " + writeReason(err)
}

func writeReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied (run as a user that may write there, or set another positions file)"
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	}
	return source.Reason(err)
}

// healthBoard holds the state of every source. Readers, the glob expansion
// and the engine loop set it; Health reads it from any goroutine.
//
// It reports each change of state once: a source that cannot be read at
// error level with its reason, again only when the reason changes (the
// retries in between at debug level), and its recovery at info level.
type healthBoard struct {
	now func() time.Time
	log zerolog.Logger
	up  *prometheus.GaugeVec // not owned

	mu      sync.Mutex
	entries map[string]*healthEntry
}

type healthEntry struct {
	SourceHealth
	pending bool // nothing heard of it yet
	member  bool // a file a glob matches: listed only once it had trouble
}

// pendingReason is the reason of a source not heard of yet.
const pendingReason = "not opened yet"

func newHealthBoard(now func() time.Time, log zerolog.Logger, up *prometheus.GaugeVec) *healthBoard {
	return &healthBoard{now: now, log: log, up: up, entries: map[string]*healthEntry{}}
}

// expect lists a configured source, not heard of yet.
func (b *healthBoard) expect(name, kind string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.entries[name] == nil {
		b.entries[name] = &healthEntry{SourceHealth: SourceHealth{Source: name, Kind: kind, Reason: pendingReason, Since: b.now()}, pending: true}
	}
}

// set records a source's state, from an event of the source (event names
// it, for the log) or a look of the daemon's own.
func (b *healthBoard) set(name, kind string, ok bool, reason, event string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[name]
	if e == nil {
		e = &healthEntry{SourceHealth: SourceHealth{Source: name, Kind: kind}, pending: true}
		b.entries[name] = e
	}
	if ok {
		reason = ""
	}
	was, wasOK, wasPending := e.Reason, e.OK, e.pending
	if !wasPending && wasOK == ok && was == reason {
		if !ok {
			b.logFor(name, kind, event, zerolog.DebugLevel).Str("reason", reason).Msg("still cannot " + verb(kind))
		}
		return
	}
	e.OK, e.Reason, e.pending, e.Since = ok, reason, false, b.now()
	b.up.WithLabelValues(name).Set(map[bool]float64{true: 1, false: 0}[ok])
	switch {
	case !ok:
		b.logFor(name, kind, event, zerolog.ErrorLevel).Str("reason", reason).Msg(failMsg(kind))
	case !wasPending:
		b.logFor(name, kind, event, zerolog.InfoLevel).Str("was", was).Msg(recoverMsg(kind))
	}
}

// member records the state of a file a glob matches: listed only while, or
// once, it cannot be read; when it goes away (rotated and deleted) it is no
// longer matched and leaves the list.
func (b *healthBoard) member(name string, ok, gone bool, reason, event string) {
	b.mu.Lock()
	e := b.entries[name]
	switch {
	case gone:
		if e != nil && e.member {
			delete(b.entries, name)
			b.up.DeleteLabelValues(name)
		}
		b.mu.Unlock()
		b.log.Debug().Str("source", name).Str("event", event).Msg("a file the glob matched is gone")
		return
	case e == nil && ok:
		b.mu.Unlock()
		return // fine, as expected: not listed
	case e == nil:
		b.entries[name] = &healthEntry{SourceHealth: SourceHealth{Source: name, Kind: KindFile}, pending: true, member: true}
	}
	b.mu.Unlock()
	b.set(name, KindFile, ok, reason, event)
}

func (b *healthBoard) logFor(name, kind, event string, level zerolog.Level) *zerolog.Event {
	ev := b.log.WithLevel(level).Str("source", name).Str("kind", kind)
	if event != "" {
		ev = ev.Str("event", event)
	}
	return ev
}

func verb(kind string) string {
	if kind == KindPositions {
		return "save positions"
	}
	return "follow"
}

func failMsg(kind string) string {
	if kind == KindPositions {
		return "cannot save positions; following goes on, and a restart reads again from the last saved ones"
	}
	return "cannot follow"
}

func recoverMsg(kind string) string {
	if kind == KindPositions {
		return "positions saved again"
	}
	return "following again"
}

func (b *healthBoard) ok(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[name]
	return e != nil && e.OK
}

func (b *healthBoard) snapshot() Health {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := Health{Status: StatusOK, Sources: make([]SourceHealth, 0, len(b.entries))}
	starting := false
	for _, e := range b.entries {
		h.Sources = append(h.Sources, e.SourceHealth)
		switch {
		case e.pending:
			starting = true
		case !e.OK:
			h.Status = StatusDegraded
		}
	}
	if starting && h.Status == StatusOK {
		h.Status = StatusStarting
	}
	slices.SortFunc(h.Sources, func(a, b SourceHealth) int { return strings.Compare(a.Source, b.Source) })
	return h
}
