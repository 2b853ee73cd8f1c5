package envelope

import (
	"strings"
)

// maxJoin caps a re-joined partial line. A runtime that never sends the end
// of a line (a binary blob on stdout, a P chunk without its F) must not grow
// the buffer without bound; past the cap the held text is emitted as it is.
const maxJoin = 1 << 20

// maxHeld caps how many writers may have a partial line held at once; past
// it the oldest is emitted unfinished.
const maxHeld = 64

// Unwrapper unwraps the lines of one stream (a file, stdin, a followed
// source). It keeps what spans lines: partial lines per writer, a journald
// export entry until its blank line, the unit of a systemctl status block,
// and which of journald and rsyslog an ambiguous stamp belongs to. Not safe
// for concurrent use.
type Unwrapper struct {
	ctx Context
	out []Line   // returned by Add and Flush, reused
	env Envelope // of the line being added; see Add

	held []held   // partial lines, oldest first
	exp  exporter // journalctl -o export entry being read

	// unit is the unit of the systemctl status block being read, "" when
	// not inside one.
	unit string
	// contPrefix is the width of the journald short header of the previous
	// line, and contEnv its envelope: journalctl indents the later lines of
	// a multi-line message by that much. Zero when the previous line was not
	// a journald short line.
	contPrefix int
	contEnv    Envelope
	// bsdKind is the kind last proven by a BSD stamp whose padding told
	// journald from rsyslog; it decides the stamps that cannot tell.
	bsdKind Kind
}

// held is a partial line waiting for its next chunk.
type held struct {
	kind Kind
	key  string
	off  int64
	env  Envelope // of the first chunk, with the layers that cut it
	buf  []byte
}

// NewUnwrapper returns an Unwrapper that resolves zoneless and yearless
// stamps through ctx.
func NewUnwrapper(ctx Context) *Unwrapper {
	return &Unwrapper{ctx: ctx, bsdKind: JournalShort}
}

// Add takes one physical line (no trailing newline) and its byte offset and
// returns the producer lines it completed, oldest first. The slice is
// reused: it is valid until the next Add or Flush; the strings in it stay
// valid forever.
//
// A plain line (no envelope) comes back at once as itself. A CRI P chunk, a
// docker partial, a Heroku 10000-byte chunk or a journal entry cut at
// LineMax= returns nothing until the last chunk of its writer; a journald export entry returns when its blank
// line comes; an rsyslog record with #012 escapes returns one Line per
// embedded line, all with the same Offset, Key and envelope.
func (u *Unwrapper) Add(line string, offset int64) []Line {
	u.out = u.out[:0]
	if u.exp.active {
		if u.exp.add(u, line, offset) {
			return u.out
		}
	} else if len(line) > 0 && line[0] == '_' && startsExport(line) {
		u.exp.start(offset)
		u.exp.add(u, line, offset)
		return u.out
	}

	cont := u.contPrefix
	u.contPrefix = 0
	if cont > 0 && len(line) > cont && allSpaces(line[:cont]) {
		// A later line of a multi-line journal message: it belongs to the
		// entry above, whatever it looks like.
		u.contPrefix = cont
		u.out = append(u.out, Line{Text: line[cont:], Offset: offset, Env: u.contEnv})
		return u.out
	}

	unit := u.unit
	u.unit = ""

	// u.env is zero unless the last line had an envelope: clearing 250
	// bytes on every plain line would cost more than the line itself.
	if u.env.N != 0 {
		u.env = Envelope{}
	}
	p := peel{env: &u.env, base: line, raw: true}
	s := line
	if strings.IndexByte(s, esc) >= 0 {
		if t, ok := stripANSI(s); ok {
			p.coloured = s[0] == esc
			p.env.push(ANSI)
			s = t
			p.rebase(s)
		}
	}
	if len(s) > 0 && s[0] == '<' && htmlStart(s) {
		s = stripHTML(s)
		p.env.push(HTML)
		p.rebase(s)
	}
	if s == "" {
		u.finish(&p, s, offset)
		return u.out
	}

	switch c := s[0]; {
	case c == '{':
		if u.jsonLine(&p, s, offset) {
			return u.out
		}
	case c == ' ' || c >= 0x80 || c == '*' || c == 'T':
		if u.statusLine(&p, s, offset, unit) || u.catalogLine(&p, s, offset) {
			return u.out
		}
	case isDigit(c) && len(s) > 20 && s[4] == '-' && s[10] == 'T':
		if u.isoTop(&p, s, offset) {
			return u.out
		}
	}
	u.finish(&p, s, offset)
	if p.contPrefix > 0 {
		u.contPrefix = p.contPrefix
		u.contEnv = u.out[0].Env
	}
	return u.out
}

// Flush returns what is still held (unfinished partials, an export entry
// without its blank line) at end of input or after idle time.
func (u *Unwrapper) Flush() []Line {
	u.out = u.out[:0]
	for u.Pending() {
		oldest, _ := u.OldestPending()
		if u.exp.active && u.exp.off == oldest {
			u.exp.end(u)
			continue
		}
		for i := range u.held {
			if u.held[i].off == oldest {
				u.emitHeld(i)
				break
			}
		}
	}
	return u.out
}

// Pending reports whether Add is holding anything.
func (u *Unwrapper) Pending() bool { return u.exp.active || len(u.held) > 0 }

// OldestPending is the offset of the oldest held physical line, for a
// daemon's resume position.
func (u *Unwrapper) OldestPending() (int64, bool) {
	var off int64
	ok := false
	if u.exp.active {
		off, ok = u.exp.off, true
	}
	for i := range u.held {
		if !ok || u.held[i].off < off {
			off, ok = u.held[i].off, true
		}
	}
	return off, ok
}

// peel is the state of unwrapping one line: the envelope so far and where
// its key lies.
type peel struct {
	env *Envelope // not owned: Unwrapper.env for a line being added
	// base is the string the current text is a suffix of. Recognisers only
	// cut prefixes, so a key found in the current text can be located in
	// base and joined with an outer key found there earlier ("compose-name
	// | forego-name"), at no cost. A step that builds a new string or cuts
	// the tail calls rebase.
	base       string
	keyA, keyB int
	keyInBase  bool
	// rest holds the later lines of a record that a wrapper joined (#012,
	// a multi-line journal MESSAGE); they come back as Lines of their own
	// with the first line's envelope.
	rest     string
	hasRest  bool
	coloured bool // the line started with an escape: stern colours its names
	raw      bool // base is the physical line itself
	// contPrefix is set by the journald short recogniser when it was the
	// outermost layer: the header width for continuation lines.
	contPrefix int
}

// top reports whether no wrapper has been peeled yet but escapes and HTML
// tags. Wrappers that only ever come outermost (a console copy, a kubectl,
// stern or aws prefix) are taken only there, so that a producer line inside
// another wrapper is not mistaken for one.
func (p *peel) top() bool {
	for i := 0; i < p.env.N; i++ {
		if k := p.env.Layers[i]; k != ANSI && k != HTML {
			return false
		}
	}
	return true
}

func (p *peel) rebase(s string) {
	p.base = s
	p.keyInBase = false
	p.raw = false
}

// keyAt sets the key to s[a:b], where s is the text being peeled. When an
// outer layer's key lies just before it in the same base string, separated
// only by the outer prefix's fixed punctuation ("nginx-proxy   | nginx.1"),
// the key spans both, so that two containers running the same forego
// process keep different keys at no cost. A gap with anything else in it
// (a stamp, a CRI P/F flag) would make the key vary from line to line, so
// then the inner key stands alone.
func (p *peel) keyAt(s string, a, b int) {
	off := len(p.base) - len(s)
	if off < 0 || a < 0 || b > len(s) || a > b {
		p.keyString("")
		return
	}
	A, B := off+a, off+b
	if p.keyInBase && p.keyB <= A && separators(p.base[p.keyB:A]) {
		p.env.Key = p.base[p.keyA:B]
		p.keyB = B
		return
	}
	p.env.Key = p.base[A:B]
	p.keyA, p.keyB, p.keyInBase = A, B, true
}

// separators reports whether gap holds only the punctuation of a prefix.
func separators(gap string) bool {
	for i := 0; i < len(gap); i++ {
		switch gap[i] {
		case ' ', '|', ':', '[', ']':
		default:
			return false
		}
	}
	return true
}

// keyString sets a key that is not a substring of the line.
func (p *peel) keyString(k string) {
	p.env.Key = k
	p.keyInBase = false
}

// addRest queues text (lines separated by '\n') to come back after the
// current line.
func (p *peel) addRest(text string) {
	if p.hasRest {
		p.rest = text + "\n" + p.rest
	} else {
		p.rest, p.hasRest = text, true
	}
}

// splitFirst keeps the first line of s for peeling and queues the others.
func (p *peel) splitFirst(s string) string {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s
	}
	p.addRest(s[i+1:])
	s = strings.TrimSuffix(s[:i], "\r")
	p.rebase(s)
	return s
}

// finish peels what is left of s and appends the Line, then the later
// lines of the record if a wrapper joined several. s is one line: a
// wrapper whose text may hold several (a JSON message, an #012 record)
// has called splitFirst.
func (u *Unwrapper) finish(p *peel, s string, off int64) {
	for p.env.N < len(p.env.Layers) && s != "" {
		inner, ok := u.peelOne(p, s)
		if !ok {
			break
		}
		s = inner
	}
	if p.env.N == 0 && !p.hasRest {
		u.appendPlain(s, off)
		return
	}
	u.out = append(u.out, Line{Text: s, Offset: off, Env: *p.env})
	if !p.hasRest {
		return
	}
	rest := p.rest
	for {
		piece, more, found := strings.Cut(rest, "\n")
		u.out = append(u.out, Line{Text: strings.TrimSuffix(piece, "\r"), Offset: off, Env: *p.env})
		if !found {
			return
		}
		rest = more
	}
}

// peelOne tries the recognisers that may apply at any depth, choosing them
// by the first byte so that a plain line costs a handful of comparisons.
// On success it has pushed one layer and returns the inner text.
func (u *Unwrapper) peelOne(p *peel, s string) (string, bool) {
	c := s[0]
	switch {
	case c == '<':
		return u.priLine(p, s)
	case c == '[':
		if !p.top() {
			return s, false
		}
		return kubectlPrefix(p, s)
	case isDigit(c):
		if len(s) >= 20 && s[4] == '-' && s[7] == '-' {
			switch s[10] {
			case 'T':
				return u.isoLine(p, s)
			case ' ':
				return u.supervisordLine(p, s)
			}
		}
		if len(s) > 9 && s[2] == ':' && s[5] == ':' && s[8] == ' ' {
			return u.honchoLine(p, s)
		}
		if inner, ok := u.octetCounted(p, s); ok {
			return inner, true
		}
		if len(s) > 18 && s[10] == '.' {
			if inner, ok := u.unixLine(p, s); ok {
				return inner, true
			}
		}
		return wordLine(p, s)
	case c >= 'A' && c <= 'Z':
		if len(s) > 15 && s[3] == ' ' {
			if inner, ok := u.bsdLine(p, s, -1); ok {
				return inner, true
			}
		}
		if p.top() {
			if len(s) >= 3 && s[1] == ' ' && s[2] == ' ' {
				return gcpLegacy(p, s)
			}
			if inner, ok := u.gcpExplorer(p, s); ok {
				return inner, true
			}
		}
		return wordLine(p, s)
	case c >= 'a' && c <= 'z':
		return wordLine(p, s)
	case c == 0xE2:
		if !p.top() {
			return s, false
		}
		return k9sLine(p, s)
	}
	return s, false
}

// appendPlain appends a Line without envelope. It reuses the slot in place
// when there is one: building a 280-byte Line and copying it in costs more
// than the rest of a plain line's trip.
func (u *Unwrapper) appendPlain(s string, off int64) {
	n := len(u.out)
	if n == cap(u.out) {
		u.out = append(u.out, Line{Text: s, Offset: off})
		return
	}
	u.out = u.out[:n+1]
	u.out[n] = Line{Text: s, Offset: off}
}

// findHeld returns the index of the partial line held for kind and key, or -1.
func (u *Unwrapper) findHeld(kind Kind, key string) int {
	for i := range u.held {
		if u.held[i].kind == kind && u.held[i].key == key {
			return i
		}
	}
	return -1
}

// hold appends chunk to the partial line of kind and key, starting one with
// env when there is none. When the line would pass maxJoin, what is held is
// emitted first and chunk starts a new one.
func (u *Unwrapper) hold(kind Kind, key string, off int64, env *Envelope, chunk string) {
	i := u.findHeld(kind, key)
	if i >= 0 && len(u.held[i].buf)+len(chunk) > maxJoin {
		u.emitHeld(i)
		i = -1
	}
	if i < 0 {
		if len(u.held) >= maxHeld {
			u.emitHeld(0)
		}
		u.held = append(u.held, held{kind: kind, key: key, off: off, env: *env})
		i = len(u.held) - 1
	}
	u.held[i].buf = append(u.held[i].buf, chunk...)
	if len(u.held[i].buf) >= maxJoin {
		u.emitHeld(i)
	}
}

// complete ends the partial line of kind and key with its last chunk and
// emits it; without a held line, the chunk is the whole line and p (the
// last chunk's envelope) goes with it.
func (u *Unwrapper) complete(p *peel, kind Kind, key string, off int64, chunk string) {
	i := u.findHeld(kind, key)
	if i >= 0 && len(u.held[i].buf)+len(chunk) > maxJoin {
		u.emitHeld(i)
		i = -1
	}
	if i < 0 {
		u.finish(p, p.splitFirst(stripInnerANSI(p, chunk)), off)
		return
	}
	h := u.held[i]
	u.held = append(u.held[:i], u.held[i+1:]...)
	h.buf = append(h.buf, chunk...)
	u.emitText(&h, string(h.buf))
}

// emitHeld emits held line i as it is.
func (u *Unwrapper) emitHeld(i int) {
	h := u.held[i]
	u.held = append(u.held[:i], u.held[i+1:]...)
	u.emitText(&h, string(h.buf))
}

// emitText finishes a re-joined line: the layers inside the one that cut
// it are peeled from the whole text.
func (u *Unwrapper) emitText(h *held, text string) {
	env := h.env
	p := peel{env: &env}
	p.rebase(text)
	text = p.splitFirst(stripInnerANSI(&p, text))
	u.finish(&p, text, h.off)
}

// stripInnerANSI strips escapes that a JSON wrapper carried escaped
// (\u001b) and that therefore survived the first pass.
func stripInnerANSI(p *peel, s string) string {
	if t, ok := stripANSI(s); ok {
		if !p.env.Has(ANSI) {
			p.env.push(ANSI)
		}
		p.rebase(t)
		return t
	}
	return s
}

func allSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			return false
		}
	}
	return true
}
