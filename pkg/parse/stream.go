package parse

import (
	"slices"
	"strings"
	"time"

	"github.com/sigtail/sigtail/pkg/envelope"
)

// Stream is the one step from physical lines to events. `scan`, `run` and
// `test` all drive it, so the same lines give the same events whichever
// way they are read:
//
//	line ─▶ envelope.Unwrapper ─▶ per writer key: join ─▶ format per record ─▶ Event
//
// The envelope stage takes each physical line out of the wrappers it came
// in (journald, syslog, docker, CRI, compose, Heroku...), keeps what they
// say (time, host, program, container) and re-joins what a wrapper split.
// Continuation lines (tracebacks, kernel dictionary lines) are then joined
// per writer, the envelope's Key, so that two processes interleaving on one
// stream never merge their tracebacks.
//
// The format is chosen per record, not per file: a container's stdout holds
// Gunicorn's error and access logs, nginx and the app's prints on one
// stream. Each writer remembers the format of its last record and tries it
// first, so a clean file pays one header check per line, as a parser of a
// known format would; only a line its remembered format does not take is
// tried against the others, the envelope's program name ("nginx",
// "kernel", "gunicorn", "caddy") choosing which go first. A record no
// parser takes is still an event, of FormatUnknown, matched against the
// signatures that make sense for text of unknown format, so that a pasted
// fragment is not lost.
//
// A record that carries no time of its own takes its envelope's time, else
// the time of the record before it in the stream, else none.
//
// A Stream is not safe for concurrent use.
type Stream struct {
	cfg     StreamConfig
	ctx     Context
	unwrap  *envelope.Unwrapper
	parsers [len(formatOrder) + 1]Parser      // by formatIndex; nil for unknown
	enders  [len(formatOrder) + 1]recordEnder // the parsers that can tell a record is whole

	keys     map[string]*keyState
	last     *keyState // the state of the last key seen: most streams have one
	lastName string
	lastT    time.Time // time of the last record that had one
	scratch  *Event    // a single-line record parsed while classifying it

	pool []*Event
	used int
	out  []*Event

	lines int64 // lines unwrapped so far
	wrap  wrapState

	stats StreamStats
}

// StreamConfig is what a Stream needs to know that the lines do not say.
type StreamConfig struct {
	// Format forces the format of every record; FormatUnknown chooses it
	// per record. A record the forced format does not parse is still tried
	// against the others.
	Format Format
	// Parsers overrides the default parser of a format (an nginx access
	// parser built from a log_format).
	Parsers map[Format]Parser
	// Location is the zone of timestamps that carry none; nil is UTC.
	Location *time.Location
	// Reference is the latest time the log can be from (a file's
	// modification time; the clock for a followed file): the year of
	// yearless timestamps. SetReference changes it.
	Reference time.Time
	// BootTime places boot-relative kernel timestamps; zero is unknown.
	BootTime time.Time
	// MaxLines and MaxBytes cap one record's continuation lines (values
	// below 1 select DefaultMaxLines and DefaultMaxBytes).
	MaxLines, MaxBytes int
}

// StreamStats counts what a Stream made of its lines.
type StreamStats struct {
	Records int64 // records made
	Unknown int64 // records of no known format (matched as text)
	Dropped int64 // continuation lines dropped from over-long records
	// ByFormat counts records per format, in Formats order then unknown.
	ByFormat [len(formatOrder) + 1]int64
}

// Main is the format most of the records had, FormatUnknown when none.
func (s *StreamStats) Main() Format {
	best, n := FormatUnknown, int64(0)
	for i, f := range formatOrder {
		if s.ByFormat[i] > n {
			best, n = f, s.ByFormat[i]
		}
	}
	return best
}

// formatOrder is the order formats are tried in when nothing says better.
// It is Formats and the probe's own (a saved daemon record read back),
// fixed here so StreamStats can be an array.
var formatOrder = [...]Format{FormatGunicorn, FormatNginxError, FormatNginxAccess, FormatKernel, FormatCaddy, FormatProbe}

func formatIndex(f Format) int {
	switch f {
	case FormatGunicorn:
		return 0
	case FormatNginxError:
		return 1
	case FormatNginxAccess:
		return 2
	case FormatKernel:
		return 3
	case FormatCaddy:
		return 4
	case FormatProbe:
		return 5
	}
	return len(formatOrder)
}

// parser returns the parser of f, nil for FormatUnknown.
func (s *Stream) parser(f Format) Parser { return s.parsers[formatIndex(f)] }

// keyState is one writer of a stream: its remembered format and the record
// it is joining.
type keyState struct {
	format Format // format of the writer's last record; FormatUnknown before any

	pending bool
	last    int64  // the stream's line count when the writer last had a line
	pf      Format // the pending record's format; FormatUnknown for text
	rec     Record
	buf     []byte
	env     envelope.Envelope // the envelope of the record's first line
	// traceback is set on a text record that began a Python traceback or a
	// logging error block: it takes every following line that starts no
	// record, as Gunicorn's own records do.
	traceback bool
}

// NewStream returns a Stream for one input.
func NewStream(cfg StreamConfig) *Stream {
	if cfg.MaxLines < 1 {
		cfg.MaxLines = DefaultMaxLines
	}
	if cfg.MaxBytes < 1 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	s := &Stream{
		cfg:     cfg,
		ctx:     Context{Location: cfg.Location, Reference: cfg.Reference, BootTime: cfg.BootTime},
		keys:    map[string]*keyState{},
		scratch: &Event{},
	}
	for i, f := range formatOrder {
		p := parsers[f]
		if q, ok := cfg.Parsers[f]; ok && q != nil {
			p = q
		}
		s.parsers[i] = p
		s.enders[i], _ = p.(recordEnder)
	}
	s.unwrap = envelope.NewUnwrapper(envelope.Context{Location: cfg.Location, Reference: cfg.Reference})
	return s
}

// SetReference sets the latest time the log can be from, for the records
// read after it: a follower sets the clock, a scan each file's modification
// time.
func (s *Stream) SetReference(t time.Time) {
	s.ctx.Reference = t
	s.unwrap.SetReference(t)
}

// Stats returns what the stream made of its lines so far.
func (s *Stream) Stats() StreamStats { return s.stats }

// Add takes one physical line (without its newline) and its position, and
// returns the events it completed, oldest first; an event's Offset is the
// position of its first line. The position is the caller's: a byte offset
// when the input is one file, a line number when it spans a rotation (and
// offsets restart). It must grow with each line. The slice and the Events
// are reused: they are valid until the next call to Add or Flush. Strings
// in an Event stay valid.
func (s *Stream) Add(line string, offset int64) []*Event {
	s.used = 0
	s.out = s.out[:0]
	if strings.IndexByte(line, 0) >= 0 {
		// NUL bytes are what a file holds where a writer without O_APPEND
		// went on at its old offset after a truncation, or what a crash
		// left: not text. They are dropped, so the line they were glued to
		// (or the signature after them) reads as what it is.
		line = strings.ReplaceAll(line, "\x00", "")
	}
	ls := s.unwrap.Add(line, offset)
	if s.wrap.held || s.wrap.wrapped > 0 || (len(ls) > 0 && ls[0].Env.N > 0) {
		s.wrapped(ls, len(line))
		return s.out
	}
	for i := range ls {
		s.line(&ls[i])
	}
	return s.out
}

// Flush ends every record still being joined and returns it: at the end of
// the input, or when a follower decides the input has been idle long
// enough. The slice and the Events are valid until the next call.
func (s *Stream) Flush() []*Event {
	s.used = 0
	s.out = s.out[:0]
	if s.wrap.held {
		s.wrap.held = false
		s.line(&s.wrap.line)
	}
	ls := s.unwrap.Flush()
	for i := range ls {
		s.line(&ls[i])
	}
	// Oldest first, so records keep the order they were written in.
	var open []*keyState
	for _, k := range s.keys {
		if k.pending {
			open = append(open, k)
		}
	}
	slices.SortFunc(open, func(a, b *keyState) int { return int(a.rec.Offset - b.rec.Offset) })
	for _, k := range open {
		s.emit(k)
	}
	return s.out
}

// Pending reports whether a record is still waiting for more lines.
func (s *Stream) Pending() bool {
	_, ok := s.OldestPending()
	return ok
}

// OldestPending returns the offset of the first line of the oldest record
// still being joined: a follower that stops may resume there and lose
// nothing.
func (s *Stream) OldestPending() (int64, bool) {
	off, ok := s.unwrap.OldestPending()
	if s.wrap.held && (!ok || s.wrap.line.Offset < off) {
		off, ok = s.wrap.line.Offset, true
	}
	for _, k := range s.keys {
		if k.pending && (!ok || k.rec.Offset < off) {
			off, ok = k.rec.Offset, true
		}
	}
	return off, ok
}

// maxKeys bounds the writers a stream remembers; past it, those with no
// record open are forgotten (a journal of many short-lived pids).
const maxKeys = 4096

func (s *Stream) state(key string) *keyState {
	if s.last != nil && s.lastName == key {
		return s.last
	}
	k := s.keys[key]
	if k == nil {
		if len(s.keys) >= maxKeys {
			for name, st := range s.keys {
				if !st.pending {
					delete(s.keys, name)
				}
			}
		}
		k = &keyState{}
		key = strings.Clone(key)
		s.keys[key] = k
	}
	s.last, s.lastName = k, key
	return k
}

// quietLines is how many lines of other writers a writer's open record
// waits for before it is taken as complete: on a journal or a container
// stream a process that wrote a traceback may write nothing more for a
// long time, while the others keep the stream busy.
const quietLines = 64

// line handles one unwrapped line.
func (s *Stream) line(l *envelope.Line) {
	s.lines++
	if len(s.keys) > 1 && s.lines%16 == 0 {
		s.endQuiet()
	}
	k := s.state(l.Env.Key)
	k.last = s.lines
	text := l.Text
	f, parsed := s.classify(k, text, &l.Env)
	if k.pending {
		if f == FormatUnknown && k.pf == FormatUnknown && k.rec.Lines == 1 && s.unwrapLine(k, text, l) {
			return
		}
		if f == FormatUnknown && k.continues(text) {
			s.continueWith(k, text)
			if e := s.enders[formatIndex(k.pf)]; e != nil && e.RecordEnds(text, false) {
				s.emit(k)
			}
			return
		}
		s.emit(k)
	}
	if parsed {
		// A single-line record parsed while classifying it: it is done.
		k.format = f
		ev := s.scratch
		s.finish(ev, l.Offset, 1, &l.Env)
		s.scratch = s.swap(ev)
		s.out = append(s.out, ev)
		return
	}
	k.pending = true
	k.pf = f
	k.rec = Record{Text: text, Offset: l.Offset, Lines: 1}
	if l.Env.N > 0 || k.env.N > 0 {
		k.env = l.Env
	}
	k.traceback = f == FormatUnknown && startsTraceback(text)
	if f != FormatUnknown {
		k.format = f
		if e := s.enders[formatIndex(f)]; e != nil && e.RecordEnds(text, true) {
			s.emit(k)
		}
	}
	// A text record stays open: indented lines after it belong to it.
}

// endQuiet ends the open records of writers that have been quiet for
// quietLines lines, oldest first.
func (s *Stream) endQuiet() {
	var quiet []*keyState
	for _, k := range s.keys {
		if k.pending && s.lines-k.last >= quietLines {
			quiet = append(quiet, k)
		}
	}
	slices.SortFunc(quiet, func(a, b *keyState) int { return int(a.rec.Offset - b.rec.Offset) })
	for _, k := range quiet {
		s.emit(k)
	}
}

// continues reports whether text, which starts no record, belongs to the
// record k is joining.
func (k *keyState) continues(text string) bool {
	switch k.pf {
	case FormatUnknown:
		return k.traceback || (text != "" && (text[0] == ' ' || text[0] == '\t'))
	case FormatKernel:
		return text != "" && (text[0] == ' ' || text[0] == '\t')
	case FormatNginxAccess, FormatCaddy:
		return false
	}
	return true
}

// startsTraceback reports whether a line of unknown format opens a block
// whose following lines belong to it.
func startsTraceback(text string) bool {
	return strings.HasPrefix(text, "Traceback (most recent call last):") ||
		strings.HasPrefix(text, "--- Logging error ---") ||
		strings.HasPrefix(text, "Exception in thread ")
}

func (s *Stream) continueWith(k *keyState, line string) {
	k.buf = k.rec.grow(k.buf, line, s.cfg.MaxLines, s.cfg.MaxBytes)
}

// emit ends k's pending record and parses it.
func (s *Stream) emit(k *keyState) {
	rec := k.rec
	if len(k.buf) > 0 {
		rec.Text = string(k.buf)
		k.buf = k.buf[:0]
	}
	k.pending = false
	k.rec = Record{}
	s.stats.Dropped += int64(rec.Dropped)
	ev := s.get()
	if !s.parse(k.pf, rec.Text, &k.env, ev) {
		s.text(rec.Text, &k.env, ev)
	}
	s.finish(ev, rec.Offset, rec.Lines+rec.Dropped, &k.env)
	s.out = append(s.out, ev)
}

// finish sets what the stream knows of an event beside its parser.
func (s *Stream) finish(ev *Event, offset int64, lines int, env *envelope.Envelope) {
	ev.Offset = offset
	ev.Lines = lines
	// Most records come in no envelope: copy one only when there is one.
	ev.Env = nil
	if env.N > 0 {
		// A copy of its own: the event outlives the line's envelope.
		e := *env
		ev.Env = &e
	}
	if ev.Time.IsZero() {
		if !env.Time.IsZero() {
			ev.Time = env.Time
		} else {
			ev.Time = s.lastT
		}
	}
	if !ev.Time.IsZero() {
		s.lastT = ev.Time
	}
	if ev.PID == 0 && env.PID != "" {
		ev.PID, _ = atoi(env.PID)
	}
	s.stats.Records++
	s.stats.ByFormat[formatIndex(ev.Format)]++
	if ev.Unparsed() {
		s.stats.Unknown++
	}
}

// swap puts the scratch event into the pool, where it stays valid until
// the next call, and returns a free one for the next classification.
func (s *Stream) swap(ev *Event) *Event {
	if s.used == len(s.pool) {
		s.pool = append(s.pool, &Event{})
	}
	free := s.pool[s.used]
	s.pool[s.used] = ev
	s.used++
	return free
}

func (s *Stream) get() *Event {
	if s.used == len(s.pool) {
		s.pool = append(s.pool, &Event{})
	}
	ev := s.pool[s.used]
	s.used++
	return ev
}
