package envelope

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzUnwrap feeds arbitrary text, line by line, through an Unwrapper. It
// must never panic, every Line must carry an offset that was passed in, a
// Line without layers must be its physical line unchanged, and nothing may
// stay pending after Flush.
func FuzzUnwrap(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	for _, in := range inputs {
		text, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		// A few lines of each case keep the seeds small.
		lines, _ := splitPhysical(string(text))
		f.Add(strings.Join(lines[:min(len(lines), 4)], "\n"))
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, ctx := range []Context{{}, {Reference: goldenReference}} {
			lines, offsets := splitPhysical(text)
			u := NewUnwrapper(ctx)
			var got []Line
			for i, l := range lines {
				got = append(got, u.Add(l, offsets[i])...)
			}
			got = append(got, u.Flush()...)
			if u.Pending() {
				t.Fatal("pending after Flush")
			}
			if _, ok := u.OldestPending(); ok {
				t.Fatal("OldestPending after Flush")
			}
			checkInvariants(t, text, got)
		}
	})
}
