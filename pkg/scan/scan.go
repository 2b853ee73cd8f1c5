// Package scan is the one-shot pipeline: it reads finished log files (plain,
// gzip or stdin) through source → parse → match → correlate and returns
// the incidents they hold.
//
// Files are read concurrently, one goroutine each, and their hits are
// merged in event-time order before correlation, so a Gunicorn log and a
// kernel log of the same hour correlate as they would have live, and the
// same files always give the same incidents.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
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
}

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
// file reader to the merger.
type hitRecord struct {
	ev   parse.Event
	hits []match.Hit
}

// Run scans paths. A file that cannot be read is reported in its FileStats
// and the others are still scanned; Run's error is only for cancellation.
func Run(ctx context.Context, cfg Config, paths []string) (*Result, error) {
	// Signatures no rule uses cannot change the result: leave them out.
	used := map[string]bool{}
	for _, r := range cfg.Catalog.Rules {
		if r.Detectable {
			for _, id := range r.Signatures {
				used[id] = true
			}
		}
	}
	cfg.Set = cfg.Set.Subset(func(id string) bool { return used[id] })
	res := &Result{Files: make([]FileStats, len(paths))}
	for i, p := range paths {
		res.Files[i].Name = p
	}
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
			ends[i] = scanStream(ctx, &cfg, paths, st, res.Files, b)
			b.flush()
		}()
	}

	eng := correlate.New(cfg.Catalog, cfg.Correlate)
	byID := map[string]*incident.Incident{}
	var order []string
	emit := func(inc *incident.Incident) {
		if _, ok := byID[inc.ID]; !ok {
			order = append(order, inc.ID)
		}
		byID[inc.ID] = inc
	}
	inOrder(ctx, chans, func(r *hitRecord) { eng.Observe(&r.ev, r.hits, emit) })
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
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
	for _, id := range order {
		// What a later record explained is in the incident that took it
		// over: a scan tells the story as it ends.
		if inc := byID[id]; inc.Status != incident.StatusSuperseded || cfg.Superseded {
			res.Incidents = append(res.Incidents, inc)
		}
	}
	slices.SortStableFunc(res.Incidents, func(a, b *incident.Incident) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return compareStr(a.Rule, b.Rule)
	})
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

// scanStream reads the files of one stream to their end, sending matching
// records to out in order, and fills their stats. It returns the latest
// event time seen.
func scanStream(ctx context.Context, cfg *Config, paths []string, st stream, stats []FileStats, out *batcher) time.Time {
	var latest time.Time
	var lines lineIndex
	var fields fieldArena
	m := match.NewMatcher(cfg.Set)
	var hits []match.Hit
	ps := parse.NewStream(parse.StreamConfig{
		Format:   cfg.Format,
		Parsers:  cfg.Parsers,
		Location: cfg.Location,
		BootTime: cfg.BootTime,
		MaxLines: MaxRecordLines,
		MaxBytes: MaxRecordBytes,
	})

	process := func(ev *parse.Event) bool {
		at := lines.at(ev.Offset)
		ev.Offset = at.off
		fs := &stats[at.file]
		fs.Records++
		if ev.Unparsed() {
			fs.Unparsed++
		}
		ev.Source, ev.LineNo = paths[at.file], at.no
		if ev.Time.After(latest) {
			latest = ev.Time
		}
		hits = m.Match(ev, hits[:0])
		if len(hits) == 0 {
			return true
		}
		fs.Hits++
		r := hitRecord{ev: *ev, hits: slices.Clone(hits)}
		r.ev.Fields = fields.copy(ev.Fields)
		return out.add(r)
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
		f, err := source.Open(paths[fi], cfg.Stdin)
		if err != nil {
			fs.Err = err
			continue
		}
		fs.Compressed = f.Compressed
		lr := source.NewLineReader(f, cfg.MaxLine, 0)
		if paths[fi] == "-" {
			ps.SetReference(cfg.StdinTime)
		} else {
			ps.SetReference(f.ModTime)
		}
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
			if seq&1023 == 0 {
				oldest, ok := ps.OldestPending()
				if !ok {
					oldest = seq + 1
				}
				lines.forget(oldest)
			}
		}
		fs.Lines, fs.Cut = lr.Lines, lr.Cut
		f.Close()
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
	return latest
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
func inOrder(ctx context.Context, chans []chan []hitRecord, fn func(*hitRecord)) {
	m := merge.New(func(r *hitRecord) time.Time { return r.ev.Time })
	for range chans {
		m.Add()
	}
	for ctx.Err() == nil {
		for {
			r, _, ok := m.Next()
			if !ok {
				break
			}
			fn(r) // fn keeps only copies
		}
		i, ok := m.Blocking()
		if !ok {
			break // every file read, every record handed out
		}
		select {
		case b, ok := <-chans[i]:
			if ok {
				m.Push(i, b...)
			} else {
				m.Close(i)
			}
		case <-ctx.Done():
		}
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
