package match

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// minLiteral is the shortest literal worth prefiltering on: shorter ones
// occur in too many lines to skip any.
const minLiteral = 3

// maxAlternatives bounds how many alternative literals one pattern may
// require before it is cheaper to just run its regex.
const maxAlternatives = 16

// requiredLiterals returns strings of which at least one occurs (ASCII case
// folded) in every text the pattern matches, or nil when no such set of
// useful literals can be derived. It never returns a set that could make a
// matching text be skipped: when unsure it returns nil.
func requiredLiterals(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	set := required(re.Simplify())
	if len(set) == 0 {
		return nil
	}
	for _, s := range set {
		if len(s) < minLiteral {
			return nil
		}
	}
	return dedupe(set)
}

// required computes the literal set of one node. nil means "no constraint".
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		s, ok := literalString(re)
		if !ok {
			return nil
		}
		return []string{s}
	case syntax.OpCapture:
		return required(re.Sub[0])
	case syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s := required(sub)
			if s == nil {
				return nil
			}
			out = append(out, s...)
			if len(out) > maxAlternatives {
				return nil
			}
		}
		return out
	case syntax.OpConcat:
		// Adjacent literals form one longer literal; a literal followed by
		// an alternation whose branches all start with a literal (what
		// Simplify makes of "ab|ac") forms one literal per branch.
		// Otherwise keep the child whose weakest alternative is longest.
		var best []string
		var run strings.Builder
		consider := func(set []string) {
			if score(set) > score(best) {
				best = set
			}
		}
		flush := func() {
			if run.Len() > 0 {
				consider([]string{run.String()})
				run.Reset()
			}
		}
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				if s, ok := literalString(sub); ok {
					run.WriteString(s)
					continue
				}
			}
			if sub.Op == syntax.OpAlternate && run.Len() > 0 {
				if leads := leadingLiterals(sub); leads != nil {
					set := make([]string, len(leads))
					for i, l := range leads {
						set[i] = run.String() + l
					}
					consider(set)
				}
			}
			flush()
			consider(required(sub))
		}
		flush()
		return best
	}
	return nil
}

// leadingLiterals returns, for an alternation, the literal each branch
// starts with, or nil when a branch starts with anything else.
func leadingLiterals(alt *syntax.Regexp) []string {
	var out []string
	for _, b := range alt.Sub {
		for b.Op == syntax.OpCapture || (b.Op == syntax.OpConcat && len(b.Sub) > 0) {
			if b.Op == syntax.OpCapture {
				b = b.Sub[0]
			} else {
				b = b.Sub[0]
			}
		}
		if b.Op != syntax.OpLiteral {
			return nil
		}
		s, ok := literalString(b)
		if !ok {
			return nil
		}
		out = append(out, s)
		if len(out) > maxAlternatives {
			return nil
		}
	}
	return out
}

// score rates a literal set by its shortest member; nil scores 0.
func score(set []string) int {
	if len(set) == 0 {
		return 0
	}
	m := len(set[0])
	for _, s := range set[1:] {
		m = min(m, len(s))
	}
	return m
}

// literalString returns the literal in lower-case ASCII. Case-folded
// non-ASCII literals are refused: their folds are not ASCII lower-casing.
func literalString(re *syntax.Regexp) (string, bool) {
	var b strings.Builder
	for _, r := range re.Rune {
		if r >= utf8.RuneSelf && re.Flags&syntax.FoldCase != 0 {
			return "", false
		}
		b.WriteRune(r)
	}
	return lowerASCII(b.String()), true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
