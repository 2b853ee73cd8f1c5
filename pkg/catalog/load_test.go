package catalog

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want.txt golden files")

// TestLoad loads every catalog under testdata/load and compares what Load
// says (the errors, or a summary of what loaded) with its want.txt.
func TestLoad(t *testing.T) {
	dirs, err := os.ReadDir("testdata/load")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata/load", d.Name())
			cat, err := Load(os.DirFS(dir), dir)
			var got string
			if err != nil {
				if _, ok := err.(ErrorList); !ok {
					t.Fatalf("Load error is %T, want ErrorList: %v", err, err)
				}
				got = err.Error() + "\n"
			} else {
				var b strings.Builder
				for _, s := range cat.Signatures {
					b.WriteString("signature " + s.ID + " at " + s.Pos.String() + "\n")
					for _, smp := range s.Samples.Match {
						b.WriteString("  match sample at " + smp.Pos.String() + "\n")
					}
				}
				for _, r := range cat.Rules {
					b.WriteString("rule " + r.ID + " " + r.Severity.String() + " at " + r.Pos.String() + "\n")
				}
				got = b.String()
			}
			golden := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Load(%s):\ngot:\n%s\nwant:\n%s", dir, got, want)
			}
		})
	}
}

func TestErrorListNilWhenEmpty(t *testing.T) {
	var l ErrorList
	if l.Err() != nil {
		t.Fatal("empty ErrorList.Err() is not nil")
	}
	l.Add(Pos{File: "b.yaml", Line: 2, Col: 3}, "x.y", "second")
	l.Add(Pos{File: "a.yaml", Line: 9}, "", "first")
	err := l.Err()
	want := "a.yaml:9: first\nb.yaml:2:3: x.y: second"
	if err == nil || err.Error() != want {
		t.Fatalf("Err() = %v, want %q", err, want)
	}
}
