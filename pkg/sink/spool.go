package sink

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrSpoolFull is returned (wrapped) by Spool.Append when the spool holds
// its maximum size: the remote end has not taken anything for long enough
// that the cap was reached.
var ErrSpoolFull = errors.New("spool full")

// Spool is a durable first-in first-out queue of records on disk, the
// buffer between an output's Send and its delivery to a remote end that may
// be slow or away.
//
// It is a directory of append-only segment files named by sequence number
// (0000000000000001.seg, ...), oldest first. A record is framed as its
// length and CRC-32C (4 bytes each, little-endian) and its payload. Append
// fsyncs the segment before it returns, so an appended record survives a
// crash. Each start appends to a new segment, so a torn record can only be
// at the end of an older one, where the reader steps over it.
//
// The reader hands out records in order (Next) and the deliverer
// acknowledges them once the remote end took them (Ack): the position of
// the first record not yet acknowledged is kept in the file "cursor",
// replaced atomically, and segments wholly before it are deleted. A restart
// therefore delivers from the first record not acknowledged: at least once,
// in order.
//
// The size of all segments is capped (MaxBytes): Append refuses a record
// that would pass it with ErrSpoolFull. One goroutine appends and one reads;
// both may run at once.
type Spool struct {
	dir      string
	maxBytes int64
	segBytes int64

	mu sync.Mutex
	// writer
	w    *os.File
	wseg uint64
	woff int64
	// segs are the segments on disk, oldest first, with their sizes.
	segs  []segment
	total int64
	// reader: the next record to read (rpos) and the first record not
	// acknowledged (ack); r is rpos's segment, open for reading.
	r    *os.File
	rseg uint64
	rpos Position
	ack  Position
	// handed is the end of the last record Next returned.
	handed Position
	// firstSeg is the first segment this process wrote: records before it
	// were spooled by an earlier run.
	firstSeg uint64
	corrupt  int
	notify   chan struct{} // signalled (never closed) on append
	acked    chan struct{} // closed and replaced on every acknowledgement
	closed   bool
}

type segment struct {
	seq  uint64
	size int64
}

// Position is where a record ends (or starts) in the spool.
type Position struct {
	Segment uint64 `json:"segment"`
	Offset  int64  `json:"offset"`
}

// Record is one spooled payload and the position just after it.
type Record struct {
	Payload []byte
	End     Position
	// Previous is true for a record spooled by an earlier run of the
	// process (found in the spool at start).
	Previous bool
}

// SpoolOptions size a spool.
type SpoolOptions struct {
	// MaxBytes caps the size of all segments (default 256 MiB).
	MaxBytes int64
	// SegmentBytes is the size past which appends go to a new segment
	// (default 4 MiB, at most MaxBytes/4).
	SegmentBytes int64
}

const (
	recordHeader    = 8
	maxRecordBytes  = 64 << 20
	defaultSpoolMax = 256 << 20
	cursorFile      = "cursor"
	segmentSuffix   = ".seg"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenSpool opens (creating it if need be) the spool in dir and starts a
// new segment for this run's appends.
func OpenSpool(dir string, opt SpoolOptions) (*Spool, error) {
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = defaultSpoolMax
	}
	if opt.SegmentBytes <= 0 {
		opt.SegmentBytes = 4 << 20
	}
	opt.SegmentBytes = max(min(opt.SegmentBytes, opt.MaxBytes/4), 1)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening spool %s: %w", dir, err)
	}
	s := &Spool{dir: dir, maxBytes: opt.MaxBytes, segBytes: opt.SegmentBytes,
		notify: make(chan struct{}, 1), acked: make(chan struct{})}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("opening spool %s: %w", dir, err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseUint(name, 10, 64)
		if err != nil || seq == 0 {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("opening spool %s: %w", dir, err)
		}
		s.segs = append(s.segs, segment{seq: seq, size: fi.Size()})
	}
	slices.SortFunc(s.segs, func(a, b segment) int { return cmpUint(a.seq, b.seq) })
	if b, err := os.ReadFile(filepath.Join(dir, cursorFile)); err == nil {
		if err := json.Unmarshal(b, &s.ack); err != nil {
			// A damaged cursor: deliver again from the oldest segment
			// rather than refuse to start (at least once).
			s.ack = Position{}
			s.corrupt++
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("opening spool %s: %w", dir, err)
	}
	// Segments wholly before the cursor were delivered.
	keep := s.segs[:0]
	for _, sg := range s.segs {
		if sg.seq < s.ack.Segment {
			if err := os.Remove(s.segPath(sg.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("opening spool %s: %w", dir, err)
			}
			continue
		}
		keep = append(keep, sg)
		s.total += sg.size
	}
	s.segs = keep
	s.wseg = 1
	if n := len(s.segs); n > 0 {
		s.wseg = s.segs[n-1].seq + 1
	}
	s.wseg = max(s.wseg, s.ack.Segment+1)
	if len(s.segs) == 0 || s.ack.Segment < s.segs[0].seq {
		s.ack = Position{Segment: s.wseg}
		if len(s.segs) > 0 {
			s.ack = Position{Segment: s.segs[0].seq}
		}
	}
	s.firstSeg = s.wseg
	s.rpos, s.handed = s.ack, s.ack
	if err := s.newSegment(); err != nil {
		return nil, err
	}
	return s, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Spool) segPath(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016d%s", seq, segmentSuffix))
}

// newSegment makes segment s.wseg the one appended to.
func (s *Spool) newSegment() error {
	f, err := os.OpenFile(s.segPath(s.wseg), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool %s: creating a segment: %w", s.dir, err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return fmt.Errorf("spool %s: creating a segment: %w", s.dir, err)
	}
	s.w, s.woff = f, 0
	s.segs = append(s.segs, segment{seq: s.wseg})
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Append stores payload durably (written and fsynced) at the end of the
// queue.
func (s *Spool) Append(payload []byte) error {
	size := int64(recordHeader + len(payload))
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("spool %s: append after close", s.dir)
	case len(payload) > maxRecordBytes:
		return fmt.Errorf("spool %s: a record of %d bytes is larger than the largest kept (%d)", s.dir, len(payload), maxRecordBytes)
	case s.total+size > s.maxBytes:
		return fmt.Errorf("spool %s holds %d of at most %d bytes, no room for %d more: %w", s.dir, s.total, s.maxBytes, size, ErrSpoolFull)
	}
	if s.w != nil && s.woff > 0 && s.woff+size > s.segBytes {
		// Every record in it was fsynced: an error closing it loses nothing.
		s.w.Close()
		s.w = nil
	}
	if s.w == nil {
		// A new segment; after a failure to make one, the next append
		// tries the next number.
		s.wseg++
		s.woff = 0
		if err := s.newSegment(); err != nil {
			return err
		}
	}
	buf := make([]byte, size)
	binary.LittleEndian.PutUint32(buf[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[4:8], crc32.Checksum(payload, castagnoli))
	copy(buf[recordHeader:], payload)
	if _, err := s.w.Write(buf); err != nil {
		// Cut back whatever part was written, so the segment stays whole.
		s.w.Truncate(s.woff)
		return fmt.Errorf("spool %s: appending: %w", s.dir, err)
	}
	if err := s.w.Sync(); err != nil {
		s.w.Truncate(s.woff)
		return fmt.Errorf("spool %s: syncing: %w", s.dir, err)
	}
	s.woff += size
	s.total += size
	s.segs[len(s.segs)-1].size = s.woff
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

// Notify is signalled after an append; the reader waits on it when Next
// found nothing.
func (s *Spool) Notify() <-chan struct{} { return s.notify }

// Next reads up to maxRecords records (and about maxBytes of payload; at
// least one record) after the last one read, without waiting. The reader
// keeps them until the remote end took them, then calls Ack with the last
// one's End; reading goes on from there either way. It returns no records
// when there are none to read now.
func (s *Spool) Next(maxRecords int, maxBytes int) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("spool %s: read after close", s.dir)
	}
	var out []Record
	size := 0
	for len(out) < max(maxRecords, 1) {
		if s.r == nil || s.rseg != s.rpos.Segment {
			if s.r != nil {
				s.r.Close()
				s.r = nil
			}
			i := slices.IndexFunc(s.segs, func(sg segment) bool { return sg.seq >= s.rpos.Segment })
			if i < 0 {
				break
			}
			if s.segs[i].seq != s.rpos.Segment {
				s.rpos = Position{Segment: s.segs[i].seq}
			}
			f, err := os.Open(s.segPath(s.rpos.Segment))
			if err != nil {
				return out, fmt.Errorf("spool %s: reading: %w", s.dir, err)
			}
			s.r, s.rseg = f, s.rpos.Segment
		}
		var hdr [recordHeader]byte
		n, err := s.r.ReadAt(hdr[:], s.rpos.Offset)
		if n < recordHeader {
			if err != nil && !errors.Is(err, io.EOF) {
				return out, fmt.Errorf("spool %s: reading: %w", s.dir, err)
			}
			if s.rpos.Segment == s.wseg {
				break // nothing more written yet
			}
			// The end of an older segment (n > 0: a record torn by a crash).
			if n > 0 {
				s.corrupt++
			}
			s.rpos = Position{Segment: s.rpos.Segment + 1}
			continue
		}
		length := int64(binary.LittleEndian.Uint32(hdr[0:4]))
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		if len(out) > 0 && size+int(length) > maxBytes {
			break
		}
		// A length past the segment's end is damage: check it before
		// allocating what it claims.
		bad := length > maxRecordBytes || s.rpos.Offset+recordHeader+length > s.segSize(s.rpos.Segment)
		var payload []byte
		if !bad {
			payload = make([]byte, length)
			m, err := s.r.ReadAt(payload, s.rpos.Offset+recordHeader)
			if int64(m) < length {
				if err != nil && !errors.Is(err, io.EOF) {
					return out, fmt.Errorf("spool %s: reading: %w", s.dir, err)
				}
				bad = true
			} else {
				bad = crc32.Checksum(payload, castagnoli) != sum
			}
		}
		if bad {
			// A torn or damaged record: nothing after it in this segment
			// can be framed, so the rest of the segment is lost.
			s.corrupt++
			if s.rpos.Segment == s.wseg {
				return out, fmt.Errorf("spool %s: the segment being written is damaged at %d", s.dir, s.rpos.Offset)
			}
			s.rpos = Position{Segment: s.rpos.Segment + 1}
			continue
		}
		s.rpos.Offset += recordHeader + length
		size += int(length)
		out = append(out, Record{Payload: payload, End: s.rpos, Previous: s.rpos.Segment < s.firstSeg})
		s.handed = s.rpos
	}
	if len(out) == 0 && s.rpos != s.handed && s.ack == s.handed {
		// Reading stepped over ended, damaged or empty segments (and
		// nothing else: no record since the last handed out), and every
		// record handed out was acknowledged: acknowledge them too, so they
		// are removed and Drained can be true.
		s.handed = s.rpos
		if err := s.ackLocked(s.rpos); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// segSize is the size of segment seq as written.
func (s *Spool) segSize(seq uint64) int64 {
	for _, sg := range s.segs {
		if sg.seq == seq {
			return sg.size
		}
	}
	return 0
}

// Ack records that every record up to end was delivered: a restart starts
// after it, and segments wholly before it are deleted.
func (s *Spool) Ack(end Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("spool %s: acknowledging after close", s.dir)
	}
	return s.ackLocked(end)
}

func (s *Spool) ackLocked(end Position) error {
	if end.Segment < s.ack.Segment || (end.Segment == s.ack.Segment && end.Offset <= s.ack.Offset) {
		return nil
	}
	b, _ := json.Marshal(end)
	tmp := filepath.Join(s.dir, cursorFile+".tmp")
	if err := writeSynced(tmp, b); err != nil {
		return fmt.Errorf("spool %s: saving the cursor: %w", s.dir, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, cursorFile)); err != nil {
		return fmt.Errorf("spool %s: saving the cursor: %w", s.dir, err)
	}
	s.ack = end
	keep := s.segs[:0]
	for _, sg := range s.segs {
		if sg.seq < end.Segment && sg.seq != s.wseg {
			if err := os.Remove(s.segPath(sg.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("spool %s: removing a delivered segment: %w", s.dir, err)
			}
			s.total -= sg.size
			continue
		}
		keep = append(keep, sg)
	}
	s.segs = keep
	close(s.acked)
	s.acked = make(chan struct{})
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Drained reports whether every appended record was acknowledged, and
// returns a channel closed at the next acknowledgement (to wait on).
func (s *Spool) Drained() (bool, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ack == (Position{Segment: s.wseg, Offset: s.woff}), s.acked
}

// Stats are a spool's size and damage.
type SpoolStats struct {
	// Bytes is the size of all segments, delivered records of the oldest
	// included; Pending the bytes not yet acknowledged.
	Bytes, Pending int64
	// Corrupt counts damaged records stepped over.
	Corrupt int
}

// Stats returns the spool's sizes.
func (s *Spool) Stats() SpoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := int64(0)
	for _, sg := range s.segs {
		switch {
		case sg.seq > s.ack.Segment:
			pending += sg.size
		case sg.seq == s.ack.Segment:
			pending += max(sg.size-s.ack.Offset, 0)
		}
	}
	return SpoolStats{Bytes: s.total, Pending: pending, Corrupt: s.corrupt}
}

// Close releases the files. What was not acknowledged stays for the next
// OpenSpool.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.r != nil {
		s.r.Close()
	}
	if s.w == nil {
		return nil
	}
	if err := s.w.Close(); err != nil {
		return fmt.Errorf("spool %s: closing: %w", s.dir, err)
	}
	return nil
}
