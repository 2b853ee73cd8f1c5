package match

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`WORKER TIMEOUT \(pid:(?P<pid>\d+)\)`, []string{"worker timeout (pid:"}},
		{`Worker \(pid:(?P<pid>\d+)\) was sent (?P<signal>SIG[A-Z]+)!`, []string{"worker (pid:"}},
		{`(?:Out of memory|Memory cgroup out of memory): Killed process (?P<pid>\d+)`, []string{": killed process "}},
		{`(?i)worker timeout`, []string{"worker timeout"}},
		{`(foo|barbaz) x`, []string{"foo", "barbaz"}},
		{`(fo|barbaz)`, nil}, // "fo" too short to be useful
		{`a*b?`, nil},        // matches the empty string
		{`^(?P<status>499)$`, []string{"499"}},
		{`(?:ab)+cde`, []string{"cde"}},
		{`x{2,}yzw`, []string{"yzw"}},
		{`[`, nil},          // does not parse: no prefilter, compile reports it
		{`(?i)straße`, nil}, // non-ASCII fold: unsafe to lower-case
		{`Can't connect to (?P<addr>.+)`, []string{"can't connect to "}},
	}
	for _, tt := range tests {
		got := requiredLiterals(tt.pattern)
		if !slices.Equal(got, tt.want) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

// TestRequiredLiteralsSound checks the prefilter's one promise on real
// matches: whatever a pattern matches contains one of its literals.
func TestRequiredLiteralsSound(t *testing.T) {
	cases := []struct{ pattern, text string }{
		{`WORKER TIMEOUT \(pid:(?P<pid>\d+)\)`, "[x] [1] [CRITICAL] WORKER TIMEOUT (pid:12)"},
		{`(?i)worker timeout`, "Worker Timeout"},
		{`(foo|barbaz) x`, "zz BARBAZ x"},
		{`was sent (?:code|signal) (?P<code>\d+)!`, "Worker (pid:1) was sent code 139!"},
	}
	for _, c := range cases {
		re := regexp.MustCompile(c.pattern)
		if !re.MatchString(c.text) {
			continue
		}
		lits := requiredLiterals(c.pattern)
		if lits == nil {
			continue
		}
		lower := strings.ToLower(c.text)
		if !slices.ContainsFunc(lits, func(l string) bool { return strings.Contains(lower, l) }) {
			t.Errorf("%q matches %q but none of %q occur in it", c.pattern, c.text, lits)
		}
	}
}

func TestAutomaton(t *testing.T) {
	lits := []string{"worker timeout", "sigkill", "he", "she", "his", "hers", "timeout"}
	a := newAutomaton(lits)
	tests := []struct {
		text string
		want []int
	}{
		{"[CRITICAL] WORKER TIMEOUT (pid:1)", []int{0, 6}},
		{"was sent SIGKILL!", []int{1}},
		{"ushers", []int{2, 3, 5}},
		{"nothing here", []int{2}},
		{"no match", nil},
		{"", nil},
		{"h\xffis", nil},
		{"this", []int{4}},
	}
	for _, tt := range tests {
		seen := make([]uint64, 1)
		any := a.scan(tt.text, seen)
		var got []int
		for i := range lits {
			if seen[0]&(1<<uint(i)) != 0 {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, tt.want) || any != (len(tt.want) > 0) {
			t.Errorf("scan(%q) = %v (any %v), want %v", tt.text, got, any, tt.want)
		}
	}
}

// TestAutomatonAgreesWithContains cross-checks the automaton against
// strings.Contains on every literal, over many texts.
func TestAutomatonAgreesWithContains(t *testing.T) {
	lits := []string{"abc", "bcd", "cab", "aaa", "upstream prematurely closed", "(pid:"}
	a := newAutomaton(lits)
	texts := []string{"abcd", "aaaa", "xcabcx", "ABCD", "upstream prematurely closed connection", "Worker (PID:1)", "aabcab"}
	for _, text := range texts {
		seen := make([]uint64, 1)
		a.scan(text, seen)
		for i, l := range lits {
			want := strings.Contains(strings.ToLower(text), l)
			if got := seen[0]&(1<<uint(i)) != 0; got != want {
				t.Errorf("text %q literal %q: automaton says %v, strings.Contains %v", text, l, got, want)
			}
		}
	}
}
