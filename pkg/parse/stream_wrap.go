package parse

import (
	"strings"

	"github.com/sigtail/sigtail/pkg/envelope"
)

// A terminal or a pager wraps long lines at its width, and a copy of the
// screen keeps the wrap: the rest of an enveloped line then stands on a
// line of its own with no envelope ("...app[web.1]: ModuleNotFoundError:
// No module name" / "d 'HealTech'"). In a stream whose lines all come in an
// envelope, such a line is glued back to the line before it. To see it, an
// enveloped line is held until the next physical line comes (or Flush): a
// delay of one line, only on enveloped streams.
type wrapState struct {
	held    bool
	line    envelope.Line // the held line; its Text grows as pieces are glued on
	phys    int           // physical length of the last piece
	total   int64         // unwrapped lines seen
	wrapped int64         // of which in an envelope
}

// minWrapWidth is the narrowest line taken as cut by a terminal: narrower
// ones ended where their writer ended them.
const minWrapWidth = 40

// enveloped reports whether nearly every record so far came in an
// envelope. Lines that start no record (the pieces a wrap leaves) do not
// count: they are what is being looked for.
func (w *wrapState) enveloped() bool {
	return w.wrapped > 0 && w.wrapped*10 >= w.total*8
}

func (s *Stream) count(l *envelope.Line) {
	w := &s.wrap
	if l.Env.N > 0 {
		w.wrapped++
		w.total++
	} else if s.startsAny(l.Text) {
		w.total++
	}
}

// wrapped handles the lines of one physical line of an enveloped stream.
func (s *Stream) wrapped(ls []envelope.Line, phys int) {
	w := &s.wrap
	for i := range ls {
		l := &ls[i]
		s.count(l)
		if w.held && l.Env.N == 0 && len(ls) == 1 && w.phys >= minWrapWidth && w.enveloped() && !s.startsAny(l.Text) {
			// The rest of the held line, cut at the terminal's width.
			w.line.Text = w.line.Text + l.Text
			w.phys = phys
			continue
		}
		if w.held {
			w.held = false
			s.line(&w.line)
		}
		if l.Env.N > 0 && len(ls) == 1 && w.enveloped() {
			w.held, w.line, w.phys = true, *l, phys
			continue
		}
		s.line(l)
	}
}

// startsAny reports whether text begins a record of some format, or an
// indented continuation line: such a line is a line of its own, not the
// rest of a wrapped one.
func (s *Stream) startsAny(text string) bool {
	if text == "" || text[0] == ' ' || text[0] == '\t' || strings.HasPrefix(text, "Traceback ") {
		return true
	}
	var none envelope.Envelope
	for _, f := range formatOrder {
		if ok, _ := s.sniff(f, text, &none); ok {
			return true
		}
	}
	return false
}
