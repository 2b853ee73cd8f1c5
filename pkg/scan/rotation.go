package scan

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
)

// rotationSuffix matches what logrotate appends to a rotated file: a number
// (error.log.1, error.log.2.gz) or a date (error.log-20261124, with
// dateext), before an optional compression suffix.
var rotationSuffix = regexp.MustCompile(`^(.*?)(?:\.(\d{1,4})|-(\d{8}(?:\d{2})?))?(\.gz)?$`)

// rotationKey splits a path into the log it belongs to and its age rank:
// the live file ranks 0, error.log.1 ranks -1, error.log.2.gz -2, and dated
// files rank by date (older dates first, all before the live file).
func rotationKey(path string) (base string, age int64, dated bool) {
	if path == "-" {
		return "-", 0, false
	}
	m := rotationSuffix.FindStringSubmatch(filepath.Clean(path))
	if m == nil {
		return path, 0, false
	}
	base = m[1]
	switch {
	case m[2] != "":
		n, _ := strconv.ParseInt(m[2], 10, 64)
		return base, n, false
	case m[3] != "":
		d, _ := strconv.ParseInt(m[3], 10, 64)
		return base, d, true
	}
	return base, 0, false
}

// groupRotations puts the paths that are rotations of one log into one
// stream, oldest first, so that the pieces are read as the one log they
// were; other paths are streams of their own. A path given twice is read
// once. Streams keep the order in which their first path was given.
func groupRotations(paths []string) []stream {
	type member struct {
		idx   int
		age   int64
		dated bool
		live  bool
	}
	var order []string
	groups := map[string][]member{}
	seen := map[string]bool{}
	for i, p := range paths {
		clean := p
		if p != "-" {
			clean = filepath.Clean(p)
		}
		if seen[clean] && p != "-" {
			continue
		}
		seen[clean] = true
		base, age, dated := rotationKey(p)
		live := clean == base
		if _, ok := groups[base]; !ok {
			order = append(order, base)
		}
		groups[base] = append(groups[base], member{i, age, dated, live})
	}
	var out []stream
	for _, base := range order {
		ms := groups[base]
		slices.SortStableFunc(ms, func(a, b member) int {
			// Oldest first: the highest number, then lower numbers, with
			// dated files in date order, and the live file last.
			rank := func(m member) (int, int64) {
				switch {
				case m.live:
					return 2, 0
				case m.dated:
					return 1, m.age
				}
				return 0, -m.age
			}
			ca, va := rank(a)
			cb, vb := rank(b)
			if ca != cb {
				return ca - cb
			}
			switch {
			case va < vb:
				return -1
			case va > vb:
				return 1
			}
			return 0
		})
		var st stream
		for _, m := range ms {
			st.files = append(st.files, m.idx)
		}
		out = append(out, st)
	}
	return out
}
