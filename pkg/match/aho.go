package match

// automaton is an Aho-Corasick automaton over ASCII-case-folded bytes: it
// finds, in one pass over a text, which of a set of literals occur in it.
// Transitions are a dense table over byte classes (the distinct bytes of
// the literals, plus one class for every other byte) so a step is two
// array loads.
type automaton struct {
	class    [256]uint8
	nclass   int
	next     []int32   // state*nclass + class -> state
	out      [][]int32 // literal ids ending at each state (fail chain merged)
	literals int
}

func fold(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// newAutomaton builds the automaton for lits, which must be lower-case
// ASCII where they are letters (requiredLiterals guarantees it).
func newAutomaton(lits []string) *automaton {
	a := &automaton{literals: len(lits)}
	// Byte classes: class 0 is "any byte not in a literal".
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			c := fold(l[i])
			if a.class[c] == 0 {
				a.nclass++
				a.class[c] = uint8(a.nclass)
			}
		}
	}
	a.nclass++
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	// Trie.
	goTo := []map[uint8]int32{{}}
	outs := [][]int32{nil}
	for id, l := range lits {
		s := int32(0)
		for i := 0; i < len(l); i++ {
			k := a.class[fold(l[i])]
			n, ok := goTo[s][k]
			if !ok {
				n = int32(len(goTo))
				goTo = append(goTo, map[uint8]int32{})
				outs = append(outs, nil)
				goTo[s][k] = n
			}
			s = n
		}
		outs[s] = append(outs[s], int32(id))
	}
	// Breadth-first: failure links folded into a full transition table.
	n := len(goTo)
	a.next = make([]int32, n*a.nclass)
	fail := make([]int32, n)
	queue := make([]int32, 0, n)
	for k := 0; k < a.nclass; k++ {
		if t, ok := goTo[0][uint8(k)]; ok {
			a.next[k] = t
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = append(outs[s], outs[fail[s]]...)
		for k := 0; k < a.nclass; k++ {
			if t, ok := goTo[s][uint8(k)]; ok {
				fail[t] = a.next[int(fail[s])*a.nclass+k]
				a.next[int(s)*a.nclass+k] = t
				queue = append(queue, t)
			} else {
				a.next[int(s)*a.nclass+k] = a.next[int(fail[s])*a.nclass+k]
			}
		}
	}
	a.out = outs
	return a
}

// scan marks in seen (a bitset of at least literals bits, cleared by the
// caller) every literal that occurs in text, and reports whether any did.
func (a *automaton) scan(text string, seen []uint64) bool {
	any := false
	s := int32(0)
	nc := int32(a.nclass)
	for i := 0; i < len(text); i++ {
		s = a.next[s*nc+int32(a.class[text[i]])]
		if o := a.out[s]; o != nil {
			any = true
			for _, id := range o {
				seen[id>>6] |= 1 << (uint(id) & 63)
			}
		}
	}
	return any
}
