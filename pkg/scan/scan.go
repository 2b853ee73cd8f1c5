// Package scan is the one-shot pipeline: it reads finished log files (plain,
// gzip or stdin) through source → parse → match → correlate and returns
// the incidents they hold.
//
// Files are read concurrently, one goroutine each, and their hits are
// merged in event-time order before correlation, so a Gunicorn log and a
// kernel log of the same hour correlate as they would have live, and the
// same files always give the same incidents.
//
// A scan can be bounded in event time (Config.Since, Until: window.go),
// sparing the files and parts of files that cannot hold records of the
// window; it can hand out each incident as soon as nothing can change it
// (Config.Emit), count the bytes it has consumed (Config.Progress), and
// show every matched record to an observer (Config.Observe, with
// signatures kept for it alone: observe.go).
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/correlate"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/merge"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/source"
)

// Record caps for multi-line records (Gunicorn tracebacks).
const (
	MaxRecordLines = 200
	MaxRecordBytes = 64 << 10
)

// Config is what a scan needs. Parsers comes from cmd (flags); nothing
// here reads flags or the environment.
type Config struct {
	Catalog *catalog.Catalog
	Set     *match.Set
	// Format forces every file's format; empty means detect per file.
	Format parse.Format
	// Parsers overrides the default parser of a format (for example an
	// nginx access parser built from a log_format).
	Parsers map[parse.Format]parse.Parser
	// Location is the zone of zoneless timestamps.
	Location *time.Location
	// BootTime places boot-relative kernel timestamps; zero = unknown.
	BootTime time.Time
	// StdinTime stands in for a file's modification time when reading
	// standard input (the year of yearless timestamps).
	StdinTime time.Time
	Stdin     io.Reader
	MaxLine   int
	Correlate correlate.Options
	// Superseded keeps the incidents a later record explained (status
	// superseded) in the result; by default only the one that took them
	// over is.
	Superseded bool
	Log        zerolog.Logger

	// Since and Until bound the scan in event time, both included; zero
	// is unbounded. Only records whose time is in the window are matched
	// and correlated (a record with no time goes with the record before
	// it in its stream); what cannot hold such records is not read:
	// window.go says how, and with what margins.
	Since, Until time.Time
	// Emit, when set, is handed each incident as soon as it is final (it
	// can change no more: resolved, or superseded when Superseded keeps
	// those), in the order the engine closed them, and at the end of the
	// input every other incident, in Result's usual order. Called from
	// Run's goroutine; Result.Incidents holds the same incidents in the
	// same order.
	Emit func(*incident.Incident)
	// Progress, when set, is advanced by the bytes consumed of the inputs
	// (compressed bytes of gzip files), a file or a part of one the window
	// spared counting as consumed. Read it from any goroutine; at the end
	// it is TotalBytes(paths).
	Progress *atomic.Int64
	// Observe, when set, sees every record that matched a signature, its
	// hits included, in the order correlation sees them, just before it
	// does. ev and hits are valid only during the call.
	Observe func(ev *parse.Event, hits []match.Hit)
	// Keep names signatures to match even though no rule uses them, for
	// Observe (without it, Keep is ignored): the set is otherwise cut to
	// the rules' signatures. Their hits reach Observe only: correlation
	// never sees a record that has only such hits, and sees the others in
	// the order it would without them.
	Keep []string

	noSeek bool // tests: apply the window by filtering alone
}

// SkipReason says why an input was not read at all.
type SkipReason string

// Why the window spared a whole file.
const (
	SkipBeforeSince SkipReason = "before since" // its records all end before Since
	SkipAfterUntil  SkipReason = "after until"  // its stream's records passed Until before it
)

// FileStats says what was read from one input.
type FileStats struct {
	Name       string
	Format     parse.Format
	Compressed bool
	Lines      int64 // physical lines read
	Records    int64 // records parsed (multi-line joined)
	Unparsed   int64 // records no parser accepted
	Cut        int64 // lines longer than the maximum, cut
	Dropped    int64 // continuation lines dropped from over-long records
	Hits       int64
	Err        error // why the file could not be read (or was read only in part)
	// Skipped says why the window spared the whole file ("" when it was
	// read); Lines is then 0.
	Skipped SkipReason
	// Start is the offset reading began at: past a prefix before Since.
	Start int64
	// Stopped reports that reading ended before the end of the file, its
	// records being past Until.
	Stopped bool
}

// Result is what a scan found.
type Result struct {
	Incidents []*incident.Incident
	Files     []FileStats
}

// Failed reports whether any input had an error.
func (r *Result) Failed() bool {
	for _, f := range r.Files {
		if f.Err != nil {
			return true
		}
	}
	return false
}

// hitRecord is one event that matched, with its hits, travelling from a
// file reader to the merger. side marks a record whose hits are all of
// signatures kept for Observe: correlation never sees it.
type hitRecord struct {
	ev   parse.Event
	hits []match.Hit
	side bool
}

// Run scans paths. A file that cannot be read is reported in its FileStats
// and the others are still scanned; Run's error is only for cancellation.
func Run(ctx context.Context, cfg Config, paths []string) (*Result, error) {
	// Signatures no rule uses cannot change the result: leave them out,
	// unless kept for Observe.
	used := map[string]bool{}
	for _, r := range cfg.Catalog.Rules {
		if r.Detectable {
			for _, id := range r.Signatures {
				used[id] = true
			}
		}
	}
	var kept map[string]bool // kept signatures that no rule uses; nil: none
	if cfg.Observe != nil {
		for _, id := range cfg.Keep {
			if !used[id] {
				if kept == nil {
					kept = map[string]bool{}
				}
				kept[id] = true
			}
		}
	}
	cfg.Set = cfg.Set.Subset(func(id string) bool { return used[id] || kept[id] })
	res := &Result{Files: make([]FileStats, len(paths))}
	for i, p := range paths {
		res.Files[i].Name = p
	}
	win := newWindow(cfg.Since, cfg.Until)
	streams := groupRotations(paths)
	chans := make([]chan []hitRecord, len(streams))
	ends := make([]time.Time, len(streams))
	var wg sync.WaitGroup
	for i, st := range streams {
		chans[i] = make(chan []hitRecord, 8)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(chans[i])
			b := &batcher{ctx: ctx, out: chans[i]}
			r := &reader{cfg: &cfg, win: &win, kept: kept, paths: paths, stats: res.Files, out: b}
			ends[i] = r.scan(ctx, st)
			b.flush()
		}()
	}

	eng := correlate.New(cfg.Catalog, cfg.Correlate)
	byID := map[string]*incident.Incident{}
	var order []string
	report := func(inc *incident.Incident) {
		res.Incidents = append(res.Incidents, inc)
		if cfg.Emit != nil {
			cfg.Emit(inc)
		}
	}
	// An incident is final once resolved or superseded: the engine has
	// closed it and forgotten it (a takeover only looks at open ones), so
	// nothing later can change it. While the input is read, a final
	// incident goes out at once when streaming.
	streaming := cfg.Emit != nil
	final := map[string]bool{}
	emit := func(inc *incident.Incident) {
		if streaming && (inc.Status == incident.StatusResolved || inc.Status == incident.StatusSuperseded) {
			if !final[inc.ID] {
				final[inc.ID] = true
				if inc.Status != incident.StatusSuperseded || cfg.Superseded {
					report(inc)
				}
			}
			return
		}
		if _, ok := byID[inc.ID]; !ok {
			order = append(order, inc.ID)
		}
		byID[inc.ID] = inc
	}
	inOrder(ctx, chans, kept != nil, func(r *hitRecord) {
		if cfg.Observe != nil {
			cfg.Observe(&r.ev, r.hits)
		}
		if !r.side {
			eng.Observe(&r.ev, r.hits, emit)
		}
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// The input is over: what closes now goes with the rest, in order.
	streaming = false
	var last time.Time
	for _, t := range ends {
		if t.After(last) {
			last = t
		}
	}
	eng.Advance(last, emit)
	eng.Flush(emit)
	eng.Settle(emit)
	for _, inc := range eng.Open() {
		emit(inc)
	}
	var rest []*incident.Incident
	for _, id := range order {
		// What a later record explained is in the incident that took it
		// over: a scan tells the story as it ends.
		if inc := byID[id]; !final[id] && (inc.Status != incident.StatusSuperseded || cfg.Superseded) {
			rest = append(rest, inc)
		}
	}
	slices.SortStableFunc(rest, func(a, b *incident.Incident) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return compareStr(a.Rule, b.Rule)
	})
	for _, inc := range rest {
		report(inc)
	}
	return res, nil
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// stream is one logical log: a file and its rotated predecessors, read
// oldest first as one sequence, so that a record cut by a rotation is
// joined again and each line is read once.
type stream struct {
	files []int // indexes into the paths given to Run, oldest first
}

// reader reads the files of one stream.
type reader struct {
	cfg   *Config
	win   *window
	kept  map[string]bool
	paths []string
	stats []FileStats // shared with the other streams: only this stream's files are written
	out   *batcher
	// prefix counts, per file read from past its start, the lines before
	// where reading began, once a record of it needs a line number.
	prefix map[int]int64
}

// scan reads the files of a stream to their end, sending matching
// records to out in order, and fills their stats. It returns the latest
// event time of a record in the window (of any record without one), or
// Until when the stream went past it.
func (rd *reader) scan(ctx context.Context, st stream) time.Time {
	cfg, win, stats, paths := rd.cfg, rd.win, rd.stats, rd.paths
	var latest time.Time
	var lines lineIndex
	var fields fieldArena
	m := match.NewMatcher(cfg.Set)
	var hits []match.Hit
	pcfg := parse.StreamConfig{
		Format:   cfg.Format,
		Parsers:  cfg.Parsers,
		Location: cfg.Location,
		BootTime: cfg.BootTime,
		MaxLines: MaxRecordLines,
		MaxBytes: MaxRecordBytes,
	}
	ps := parse.NewStream(pcfg)
	// probe is a Stream for looking into the current file apart from the
	// reading: the same configuration and year reference as ps.
	probe := func() *parse.Stream { return parse.NewStream(pcfg) }
	// afterUntil: a record later than Until was seen; past: one later by
	// more than the disorder margin, which ends the stream's reading.
	afterUntil, past := false, false

	process := func(ev *parse.Event) bool {
		at := lines.at(ev.Offset)
		ev.Offset = at.off
		fs := &stats[at.file]
		fs.Records++
		if ev.Unparsed() {
			fs.Unparsed++
		}
		ev.Source = paths[at.file]
		if win.on && !win.in(ev.Time) {
			if !win.until.IsZero() && ev.Time.After(win.until) {
				afterUntil = true
				past = past || win.past(ev.Time)
			}
			return true
		}
		if ev.Time.After(latest) {
			latest = ev.Time
		}
		hits = m.Match(ev, hits[:0])
		if len(hits) == 0 {
			return true
		}
		ev.LineNo = at.no
		if fs.Start > 0 {
			ev.LineNo += rd.linesBefore(at.file)
		}
		fs.Hits++
		r := hitRecord{ev: *ev, hits: slices.Clone(hits)}
		if rd.kept != nil {
			r.side = keptOnly(rd.kept, hits)
		}
		r.ev.Fields = fields.copy(ev.Fields)
		return rd.out.add(r)
	}
	feed := func(evs []*parse.Event) bool {
		for _, ev := range evs {
			if !process(ev) {
				return false
			}
		}
		return true
	}

	for _, fi := range st.files {
		fs := &stats[fi]
		fs.Name = paths[fi]
		if past {
			fs.Skipped = SkipAfterUntil
			if cfg.Progress != nil {
				cfg.Progress.Add(fileSize(paths[fi]))
			}
			continue
		}
		in, err := source.Open(paths[fi], cfg.Stdin, cfg.Progress)
		if err != nil {
			fs.Err = err
			if cfg.Progress != nil {
				cfg.Progress.Add(fileSize(paths[fi])) // as TotalBytes counted it
			}
			continue
		}
		fs.Compressed = in.Compressed
		ref := in.ModTime
		if paths[fi] == "-" {
			ref = cfg.StdinTime
		}
		ps.SetReference(ref)
		pcfg.Reference = ref
		var start int64
		if win.on && !cfg.noSeek {
			if win.before(in, probe) {
				fs.Skipped = SkipBeforeSince
				in.Close()
				// What was being joined ends here: the next file read does
				// not continue it.
				if !feed(ps.Flush()) {
					return latest
				}
				continue
			}
			if start = win.start(in, probe); start > 0 && !feed(ps.Flush()) {
				in.Close()
				return latest
			}
		}
		fs.Start = start
		var before func()
		if in.Stdin() {
			// Standard input may be a pipe fed as things happen: hand out
			// what is batched before waiting for more.
			before = func() { rd.out.flush() }
		}
		r, err := in.Reader(start, before)
		if err != nil {
			fs.Err = err
			in.Close()
			continue
		}
		fs.Compressed = in.Compressed
		lr := source.NewLineReader(r, cfg.MaxLine, start)
		stopped := false
		for {
			b, off, _, err := lr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					fs.Err = fmt.Errorf("reading %s at offset %d: %w", paths[fi], lr.Offset(), err)
				}
				break
			}
			seq := lines.add(fi, off)
			if !feed(ps.Add(lr.String(b), seq)) {
				stopped = true
				break
			}
			if past {
				fs.Stopped = true
				break
			}
			if seq&1023 == 0 {
				oldest, ok := ps.OldestPending()
				if !ok {
					oldest = seq + 1
				}
				lines.forget(oldest)
			}
		}
		fs.Lines, fs.Cut = lr.Lines, lr.Cut
		in.Close()
		if stopped {
			return latest
		}
	}
	feed(ps.Flush())
	stats0 := ps.Stats()
	for _, fi := range st.files {
		stats[fi].Format = stats0.Main()
	}
	if n := len(st.files); n > 0 {
		stats[st.files[n-1]].Dropped = stats0.Dropped
	}
	if afterUntil && win.until.After(latest) {
		// The log went on past Until: time reached it.
		latest = win.until
	}
	return latest
}

// linesBefore is how many lines of file precede where its reading began.
func (rd *reader) linesBefore(file int) int64 {
	n, ok := rd.prefix[file]
	if !ok {
		if rd.prefix == nil {
			rd.prefix = map[int]int64{}
		}
		n = countLines(rd.paths[file], rd.stats[file].Start)
		rd.prefix[file] = n
	}
	return n
}

// keptOnly reports whether every hit is of a signature only kept.
func keptOnly(kept map[string]bool, hits []match.Hit) bool {
	for i := range hits {
		if !kept[hits[i].Signature.ID] {
			return false
		}
	}
	return true
}

// batcher sends a stream's records in batches: one channel operation per
// batch rather than per record.
type batcher struct {
	ctx   context.Context
	out   chan<- []hitRecord
	batch []hitRecord
}

const batchSize = 128

func (b *batcher) add(r hitRecord) bool {
	if b.batch == nil {
		b.batch = make([]hitRecord, 0, batchSize)
	}
	b.batch = append(b.batch, r)
	if len(b.batch) < batchSize {
		return true
	}
	return b.flush()
}

// flush sends what is batched; false when ctx is done.
func (b *batcher) flush() bool {
	if len(b.batch) == 0 {
		return true
	}
	select {
	case b.out <- b.batch:
		b.batch = nil // the receiver owns it now
		return true
	case <-b.ctx.Done():
		return false
	}
}

// inOrder feeds records from every channel to fn in event-time order (ties in
// channel order), through the merger the daemon uses too. Each channel is
// in time order itself, which log files are, up to the seconds their
// writers race over; the merger waits for the channel that may still hold
// an earlier record.
//
// With side set, records marked side (for Observe only) are kept out of
// the merger, so that the others go through it exactly as they would
// without them (side queues, observe.go).
func inOrder(ctx context.Context, chans []chan []hitRecord, side bool, fn func(*hitRecord)) {
	m := merge.New(func(r *hitRecord) time.Time { return r.ev.Time })
	for range chans {
		m.Add()
	}
	var sq *sideQueues
	if side {
		sq = newSideQueues(len(chans))
	}
	for ctx.Err() == nil {
		for {
			r, i, ok := m.Next()
			if !ok {
				break
			}
			if sq != nil {
				sq.before(i, r.ev.Time, fn)
			}
			fn(r) // fn keeps only copies
		}
		i, ok := m.Blocking()
		if !ok {
			break // every file read, every record handed out
		}
		select {
		case b, ok := <-chans[i]:
			if !ok {
				m.Close(i)
			} else if sq != nil {
				m.Push(i, sq.split(i, b)...)
			} else {
				m.Push(i, b...)
			}
		case <-ctx.Done():
		}
	}
	if sq != nil && ctx.Err() == nil {
		sq.rest(fn)
	}
	// Drain on cancellation so the readers can finish.
	for _, c := range chans {
		for range c {
		}
	}
}

// lineIndex remembers, for each line the Stream may still hand back as
// the first line of a record, its file, byte offset and line number. The
// Stream is given each line's sequence number in the stream (offsets
// restart with each file of a rotation), and events come back with the
// sequence number of their first line in Offset.
type lineIndex struct {
	base  int64 // sequence number of q[0]
	q     []lineAt
	file  int   // file of the last line added
	count int64 // lines of that file so far
}

type lineAt struct {
	file    int
	off, no int64
}

// add records the next line and returns its sequence number.
func (x *lineIndex) add(file int, off int64) int64 {
	if file != x.file || x.count == 0 {
		x.file, x.count = file, 0
	}
	x.count++
	x.q = append(x.q, lineAt{file, off, x.count})
	return x.base + int64(len(x.q)) - 1
}

func (x *lineIndex) at(seq int64) lineAt {
	if i := seq - x.base; i >= 0 && i < int64(len(x.q)) {
		return x.q[i]
	}
	return lineAt{file: x.file}
}

// forget drops the lines before seq, once they are many: no record still
// being joined starts there.
func (x *lineIndex) forget(seq int64) {
	n := seq - x.base
	if n < 4096 || n > int64(len(x.q)) {
		return
	}
	x.q = x.q[:copy(x.q, x.q[n:])]
	x.base = seq
}

// fieldArena copies the fields of records that go on to correlation into
// shared blocks: one allocation per block rather than one per record (on
// an access log where a ratio counts every request, that is most of them).
// A block is never written again where a copy lies, so copies are stable.
type fieldArena struct {
	block []parse.Field
}

func (a *fieldArena) copy(f []parse.Field) []parse.Field {
	if len(f) == 0 {
		return nil
	}
	if cap(a.block)-len(a.block) < len(f) {
		a.block = make([]parse.Field, 0, max(4096, len(f)))
	}
	start := len(a.block)
	a.block = append(a.block, f...)
	return a.block[start:len(a.block):len(a.block)]
}
