package parse

import "strings"

// parsers holds the default parser of each format. Every parser is
// stateless, so one value serves all callers.
var parsers = map[Format]Parser{
	FormatGunicorn:    gunicornParser{},
	FormatNginxError:  nginxErrorParser{},
	FormatNginxAccess: nginxAccessParser{},
	FormatKernel:      kernelParser{},
	FormatCaddy:       caddyParser{},
}

// For returns the default parser of f (the `combined` layout for
// nginx-access; see NewNginxAccess for others), or nil when f is not a known
// format.
func For(f Format) Parser {
	return parsers[f]
}

// DetectLines is how many lines of a file Detect is meant to look at.
const DetectLines = 50

// Detect guesses the format of a file from its first lines (DetectLines of
// them is plenty): the format that parses the most lines wins, ties going to
// the earlier format in Formats, and FormatUnknown when no line parses.
//
// Only lines that carry their format's own header count. A Gunicorn record
// without a header parses, so that bare stderr lines are not lost, but such
// lines say nothing about the format; nor do continuation lines (tracebacks,
// /dev/kmsg dictionary lines). Blank lines are skipped.
func Detect(lines []string) Format {
	var ctx Context
	var ev Event
	counts := make([]int, len(Formats))
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		for i, f := range Formats {
			if f == FormatGunicorn {
				if gunicornEvidence(line) {
					counts[i]++
				}
				continue
			}
			if p := parsers[f]; p.Starts(line) && p.Parse(line, &ctx, &ev) {
				counts[i]++
			}
		}
	}
	best := -1
	for i, n := range counts {
		if n > 0 && (best < 0 || n > counts[best]) {
			best = i
		}
	}
	if best < 0 {
		return FormatUnknown
	}
	return Formats[best]
}
