package envelope

import (
	"strings"
	"unicode/utf8"
)

const esc = 0x1b

// stripANSI removes terminal escape sequences anywhere in s: CSI sequences
// (colours such as "\x1b[36;1m", cursor moves), OSC sequences (terminal
// titles, hyperlinks) and two-byte escapes. Colours wrap compose, honcho and
// stern prefixes and journalctl's error lines, and they would hide the
// prefixes from the recognisers. It reports false, and allocates nothing,
// when s holds no ESC.
func stripANSI(s string) (string, bool) {
	i := strings.IndexByte(s, esc)
	if i < 0 {
		return s, false
	}
	b := make([]byte, 0, len(s))
	for i >= 0 {
		b = append(b, s[:i]...)
		s = s[i+1:]
		switch {
		case s == "":
		case s[0] == '[':
			// CSI: parameter bytes, intermediate bytes, one final byte.
			j := 1
			for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
				j++
			}
			for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
				j++
			}
			if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
				j++
			}
			s = s[j:]
		case s[0] == ']':
			// OSC: ends with BEL or with ESC \.
			j := 1
			for j < len(s) && s[j] != 0x07 && s[j] != esc {
				j++
			}
			switch {
			case j < len(s) && s[j] == 0x07:
				j++
			case j+1 < len(s) && s[j] == esc && s[j+1] == '\\':
				j += 2
			}
			s = s[j:]
		default:
			s = s[1:]
		}
		i = strings.IndexByte(s, esc)
	}
	b = append(b, s...)
	return string(b), true
}

// htmlTags are the tags a pasted HTML rendering of a terminal starts a line
// with (aha, ansi2html, GitHub's rendering of a copied console).
var htmlTags = [...]string{"font", "span", "b", "i", "u", "strong", "em", "code", "pre", "div", "p", "tt", "samp", "kbd"}

// htmlStart reports whether s starts with an opening tag from htmlTags,
// the only case where the line is treated as pasted HTML; a line that merely
// contains "<module>" or "&amp;" is the producer's text.
func htmlStart(s string) bool {
	if len(s) < 3 || s[0] != '<' {
		return false
	}
	j := 1
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		j++
	}
	if j == 1 || j >= len(s) || s[j] != '>' && s[j] != ' ' {
		return false
	}
	name := s[1:j]
	for _, t := range htmlTags {
		if strings.EqualFold(name, t) {
			return strings.IndexByte(s[j:], '>') >= 0
		}
	}
	return false
}

// stripHTML removes the tags of a pasted HTML line and then decodes its
// character references. Tags go first so that a decoded "&lt;module&gt;"
// stays in the text.
func stripHTML(s string) string {
	b := make([]byte, 0, len(s))
	closes := true // whether a '>' may still follow; once none does, no tag can end
	for i := 0; i < len(s); {
		c := s[i]
		if c == '<' && closes && i+1 < len(s) && (isAlpha(s[i+1]) || s[i+1] == '/' || s[i+1] == '!') {
			if j := strings.IndexByte(s[i:], '>'); j >= 0 {
				i += j + 1
				continue
			}
			closes = false
		}
		b = append(b, c)
		i++
	}
	return decodeEntities(string(b))
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

var namedEntities = map[string]string{
	"quot": `"`, "lt": "<", "gt": ">", "amp": "&", "apos": "'", "nbsp": " ", "#39": "'",
}

// decodeEntities decodes the character references of s: the named ones a
// terminal-to-HTML converter writes, and &#NN; / &#xHH;.
func decodeEntities(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] != '&' {
			b = append(b, s[i])
			i++
			continue
		}
		semi := strings.IndexByte(s[i:min(i+12, len(s))], ';')
		if semi < 2 {
			b = append(b, '&')
			i++
			continue
		}
		name := s[i+1 : i+semi]
		if v, ok := namedEntities[name]; ok {
			b = append(b, v...)
			i += semi + 1
			continue
		}
		if r, ok := numericEntity(name); ok {
			b = utf8.AppendRune(b, r)
			i += semi + 1
			continue
		}
		b = append(b, '&')
		i++
	}
	return string(b)
}

func numericEntity(name string) (rune, bool) {
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	base, digits := 10, name[1:]
	if digits[0] == 'x' || digits[0] == 'X' {
		base, digits = 16, digits[1:]
	}
	if digits == "" {
		return 0, false
	}
	var v rune
	for _, c := range []byte(digits) {
		var d rune
		switch {
		case isDigit(c):
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		v = v*rune(base) + d
		if v > utf8.MaxRune {
			return 0, false
		}
	}
	return v, true
}
