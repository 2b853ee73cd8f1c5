package envelope

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTmpCorpus(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/corpus/wild/*.log")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		lines := unwrapAll(Context{Reference: goldenReference}, string(b))
		counts := map[string]int{}
		for _, l := range lines {
			counts[fmt.Sprint(l.Env.Layers[:l.Env.N])]++
		}
		fmt.Printf("%s %v\n", filepath.Base(f)[:min(40,len(filepath.Base(f)))], counts)
		for i, l := range lines {
			if i < 2 {
				fmt.Printf("    %q key=%q t=%v\n", trunc(l.Text), l.Env.Key, l.Env.Time.Format("2006-01-02T15:04:05"))
			}
		}
	}
}

func trunc(s string) string {
	if len(s) > 90 {
		return s[:90]
	}
	return strings.TrimSpace(s)
}
