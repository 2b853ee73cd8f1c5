package scan

import (
	"bytes"
	"io"
	"os"
	"time"

	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/source"
)

// The time window (Config.Since, Config.Until) is a filter on event time:
// a record is matched and correlated when its time is in [Since, Until].
// A record with no time of its own already carries, from the Stream, the
// time of the record before it in its stream (a traceback printed by the
// app goes with the Gunicorn line before it), so it falls in or out with
// that record; a record before any timed one has no time at all and is
// left out: nothing places it in the window.
//
// The filter alone would parse every line of every file. Three shortcuts
// spare what cannot be in the window, each reading the file through a
// Stream configured as the scan's (same formats, zone, boot time, and the
// file's modification time as the year reference), so the times they go
// by are the times the scan would see:
//
//   - A plain file whose last records (its final probeSpan bytes) are all
//     before Since, less the disorder margin, is skipped without reading
//     the rest. A gzip file cannot be read from its end: it is skipped only
//     when its modification time is before Since by more than gzMargin.
//     Old rotations of a log are the files this spares.
//   - A plain file that begins before Since is read from a record found by
//     binary search: the start of a timed record at least the disorder
//     margin before Since. Beginning at a record's first line, a traceback
//     is never cut; beginning a margin early, records a few seconds out of
//     order are not lost. The search needs records with a time: in a file
//     of none (dmesg without a boot time), it is read from its start.
//   - Reading a stream stops at its first record later than Until by more
//     than the disorder margin; its later files are skipped.
//
// The shortcuts take a log's times to grow with its lines, as the merge of
// the logs does, up to the disorder margin: in a file whose times go back
// by more (two logs concatenated), records in the window may be missed.
// Standard input cannot seek: it is only filtered.
const (
	// disorder is how far a log's records may run out of time order: the
	// writers of one log race over seconds, not minutes.
	disorder = time.Minute
	// probeSpan is how much a probe reads: the tail of a file, or from a
	// point of the binary search to the first timed record after it.
	probeSpan = 64 << 10
	// searchSpan is how close the binary search narrows the start: what
	// is read before the margin is at most this much more.
	searchSpan = 4 << 10
	// gzMargin is how long before Since a gzip file's modification time
	// must be for the file to be skipped unread. Logs without a zone are
	// read in Config.Location; if that is not the zone they were written
	// in, their times are off by up to the widest gap between two zones
	// (UTC-12 to UTC+14: 26 hours), against a modification time that is
	// not. An hour more covers disorder and a compression run late.
	gzMargin = 27 * time.Hour
)

// window is the time window of a scan.
type window struct {
	on           bool
	since, until time.Time // zero: unbounded
	stopAt       time.Time // until + disorder
}

func newWindow(since, until time.Time) window {
	w := window{since: since, until: until, on: !since.IsZero() || !until.IsZero()}
	if !until.IsZero() {
		w.stopAt = until.Add(disorder)
	}
	return w
}

// in reports whether a record of time t is matched and correlated.
func (w *window) in(t time.Time) bool {
	return !t.IsZero() && !t.Before(w.since) && (w.until.IsZero() || !t.After(w.until))
}

// past reports whether a record of time t ends its stream's reading.
func (w *window) past(t time.Time) bool {
	return !w.stopAt.IsZero() && t.After(w.stopAt)
}

// before reports whether the whole input ends before Since, so it need not
// be read: a plain file by the times of its last records, a gzip file by
// its modification time.
func (w *window) before(in *source.File, newStream func() *parse.Stream) bool {
	if w.since.IsZero() || in.Stdin() {
		return false
	}
	if in.Compressed {
		return in.ModTime.Before(w.since.Add(-gzMargin))
	}
	last, ok := lastTime(in.ReaderAt(), in.Size, newStream())
	return ok && last.Before(w.since.Add(-disorder))
}

// start returns the offset to read a plain file from: the first line of a
// timed record at least the disorder margin before Since, found by binary
// search over the file's records, or 0.
func (w *window) start(in *source.File, newStream func() *parse.Stream) int64 {
	if w.since.IsZero() || !in.Seekable() || in.Size <= 2*probeSpan {
		return 0
	}
	target := w.since.Add(-disorder)
	t, _, ok := firstTimed(in.ReaderAt(), 0, in.Size, newStream())
	if !ok || !t.Before(target) {
		return 0 // no usable time, or nothing to skip
	}
	// lo is always the start of a record before target (or of the file);
	// hi a point from which the first timed record is not, or unknown.
	lo, hi := int64(0), in.Size
	for hi-lo > searchSpan {
		mid := lo + (hi-lo)/2
		if t, off, ok := firstTimed(in.ReaderAt(), mid, in.Size, newStream()); ok && t.Before(target) && off < hi {
			lo = off
		} else {
			hi = mid
		}
	}
	return lo
}

// lastTime returns the latest time of the records in the last probeSpan
// bytes of a file; false when they hold none with a time.
func lastTime(f io.ReaderAt, size int64, ps *parse.Stream) (time.Time, bool) {
	var last time.Time
	take := func(evs []*parse.Event) {
		for _, ev := range evs {
			if ev.Time.After(last) {
				last = ev.Time
			}
		}
	}
	eachLine(f, max(0, size-probeSpan), size, size, func(line string, off int64) bool {
		take(ps.Add(line, off))
		return true
	})
	take(ps.Flush())
	return last, !last.IsZero()
}

// firstTimed returns the time and offset of the first record with a time
// that begins at a line at or after from, looking at most probeSpan bytes
// on; false when there is none there.
func firstTimed(f io.ReaderAt, from, size int64, ps *parse.Stream) (t time.Time, off int64, ok bool) {
	find := func(evs []*parse.Event) bool {
		for _, ev := range evs {
			if !ev.Time.IsZero() {
				t, off, ok = ev.Time, ev.Offset, true
				return true
			}
		}
		return false
	}
	eachLine(f, from, min(size, from+probeSpan), size, func(line string, o int64) bool {
		return !find(ps.Add(line, o))
	})
	if !ok {
		find(ps.Flush())
	}
	return t, off, ok
}

// eachLine calls fn with each whole line of f that begins in [from, to)
// and ends by to (or at the end of the file, size), with its offset, until
// fn returns false. A line that begins before from is not whole: it is
// left out.
func eachLine(f io.ReaderAt, from, to, size int64, fn func(line string, off int64) bool) {
	at := max(0, from-1) // the byte before from says whether a line begins there
	buf := make([]byte, to-at)
	n, err := f.ReadAt(buf, at)
	if err != nil && err != io.EOF {
		return
	}
	buf = buf[:n]
	atEOF := at+int64(n) >= size
	if from > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return
		}
		buf, at = buf[i+1:], at+int64(i+1)
	}
	for len(buf) > 0 {
		line, next := buf, len(buf)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, next = buf[:i], i+1
		} else if !atEOF {
			return // cut by the probe's end: not whole
		}
		if !fn(string(bytes.TrimSuffix(line, []byte("\r"))), at) {
			return
		}
		buf, at = buf[next:], at+int64(next)
	}
}

// countLines counts the lines that begin before offset end of a file: the
// line numbers of a file read from past a prefix start after them. Only
// asked when a record of the file is reported.
func countLines(path string, end int64) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	var n, off int64
	for off < end {
		k, err := f.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		off += int64(k)
		if err != nil || k == 0 {
			break
		}
	}
	return n
}
