package catalog

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// FuzzLoad: any signatures file and rules file load or fail with an
// ErrorList whose every entry names its file; nothing panics.
func FuzzLoad(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/load/*")
	for _, d := range dirs {
		sigs, _ := filepath.Glob(filepath.Join(d, "signatures", "*.yaml"))
		var s []byte
		if len(sigs) > 0 {
			s, _ = os.ReadFile(sigs[0])
		}
		r, _ := os.ReadFile(filepath.Join(d, "rules.yaml"))
		f.Add(s, r)
	}
	f.Add([]byte("signatures: [{id: a.b, samples: {match: [{line: x, captures: {a: b}}]}}]"), []byte("rules: [{id: a.b, when: {count: -1}}]"))
	f.Fuzz(func(t *testing.T, sigs, rules []byte) {
		fsys := fstest.MapFS{
			"signatures/x.yaml": {Data: sigs},
			"rules.yaml":        {Data: rules},
		}
		cat, err := Load(fsys, "cat")
		if err == nil {
			if cat == nil {
				t.Fatal("nil catalog without error")
			}
			return
		}
		list, ok := err.(ErrorList)
		if !ok {
			t.Fatalf("error %T is not an ErrorList: %v", err, err)
		}
		for _, e := range list {
			if e.Pos.File == "" {
				t.Fatalf("error without a file: %v", e)
			}
		}
	})
}
