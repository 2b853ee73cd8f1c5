package scan

import (
	"os"
	"path/filepath"
)

// TotalBytes is what Config.Progress reaches when Run has read paths: the
// sum of their sizes (compressed sizes for gzip files), a path given twice
// counted once, as Run reads it once, and a path that cannot be read as
// nothing, as Run reads nothing of it. false when the total cannot be known
// before reading: standard input.
func TotalBytes(paths []string) (int64, bool) {
	var total int64
	known := true
	seen := map[string]bool{}
	for _, p := range paths {
		if p == "-" {
			known = false
			continue
		}
		clean := filepath.Clean(p)
		if seen[clean] {
			continue
		}
		seen[clean] = true
		total += fileSize(p)
	}
	return total, known
}

// fileSize is a path's size now, 0 when it cannot be read (what done
// would count for it).
func fileSize(path string) int64 {
	if path == "-" {
		return 0
	}
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return 0
	}
	return st.Size()
}
