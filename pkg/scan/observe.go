package scan

import "time"

// sideQueues hold, per input of the merger, the records for Observe only
// (their hits are all of signatures kept for it, none a rule uses). Were
// they merged with the others they could change the merged order of the
// others where a log runs out of time order (the merger compares heads),
// and so what correlation makes of them. Kept apart, the others go through
// the merger exactly as without them, and each side record is handed out
// after its own input's records before it and before those after it, at
// its time among the other inputs' records as far as that allows.
type sideQueues struct {
	q      [][]sideRecord
	pushed []int64 // records of each input given to the merger
	handed []int64 // and handed out by it
	n      int     // side records waiting, in all
}

type sideRecord struct {
	r   hitRecord
	pos int64 // records of its input given to the merger before it
}

func newSideQueues(inputs int) *sideQueues {
	return &sideQueues{q: make([][]sideRecord, inputs), pushed: make([]int64, inputs), handed: make([]int64, inputs)}
}

// split takes the side records out of a batch of input i and returns the
// others, for the merger (in b's own array: the batch is the receiver's).
func (s *sideQueues) split(i int, b []hitRecord) []hitRecord {
	out := b[:0]
	for k := range b {
		if b[k].side {
			s.q[i] = append(s.q[i], sideRecord{b[k], s.pushed[i]})
			s.n++
			continue
		}
		out = append(out, b[k])
		s.pushed[i]++
	}
	clear(b[len(out):])
	return out
}

// before hands fn the side records that go before the merger's next
// record, of input i and time t: those of any input whose records before
// them are all out, up to time t, then those of input i that come before
// it in its log, whatever their time.
func (s *sideQueues) before(i int, t time.Time, fn func(*hitRecord)) {
	for s.n > 0 {
		j := s.earliest()
		if j < 0 || j != i && s.q[j][0].r.ev.Time.After(t) {
			break
		}
		s.pop(j, fn)
	}
	for len(s.q[i]) > 0 && s.q[i][0].pos <= s.handed[i] {
		s.pop(i, fn)
	}
	s.handed[i]++
}

// rest hands fn what is left, in time order, once the merger is done.
func (s *sideQueues) rest(fn func(*hitRecord)) {
	for s.n > 0 {
		s.pop(s.earliest(), fn)
	}
}

// earliest is the input whose first side record may go now (its input's
// records before it are out) and is the earliest of those (a record with
// no time first, ties to the lower input); -1 when none may.
func (s *sideQueues) earliest() int {
	best := -1
	var bt time.Time
	for j, q := range s.q {
		if len(q) == 0 || q[0].pos > s.handed[j] {
			continue
		}
		if t := q[0].r.ev.Time; best < 0 || t.Before(bt) {
			best, bt = j, t
		}
	}
	return best
}

func (s *sideQueues) pop(j int, fn func(*hitRecord)) {
	fn(&s.q[j][0].r)
	s.q[j][0] = sideRecord{}
	s.q[j] = s.q[j][1:]
	if len(s.q[j]) == 0 {
		s.q[j] = nil
	}
	s.n--
}
