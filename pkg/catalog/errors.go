package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a catalog file. Line and Col are 1-based; 0 means
// unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one catalog problem: where, which signature or rule, and what.
type Error struct {
	Pos  Pos
	ID   string // the signature or rule id; empty when the problem has none
	Msg  string
	Hint string // optional: what to try
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	if e.ID != "" {
		b.WriteString(e.ID)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("\n\t")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ErrorList is every problem found in a catalog, so that one run shows them
// all. Like go/scanner.ErrorList, Err returns nil for an empty list.
type ErrorList []*Error

// Add appends an error at pos for id.
func (l *ErrorList) Add(pos Pos, id, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, ID: id, Msg: fmt.Sprintf(format, args...)})
}

// AddHint appends an error with a hint line.
func (l *ErrorList) AddHint(pos Pos, id, hint, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, ID: id, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// Sort orders the list by file, line and column.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}
