// Package merge puts the records of several logs in event-time order
// before correlation, in the scan and in the daemon alike: the kernel's OOM
// kill and Gunicorn's SIGKILL of the same pid reach the engine in the order
// they happened, whichever log was read first.
//
// Each input is a FIFO of records in its own (roughly increasing) time
// order. The merger hands out the earliest head record once no input can
// still produce an earlier one: an input holds the others back while its
// queue is empty, unless it is closed, idle (caught up with its log: what
// it writes next is written after now), or has said how far it has read
// (its mark) and that is not before the record's time. A scan never marks
// nor idles its inputs, so it waits for each file's next batch; the daemon
// marks an input with the time of each record it parses and idles it when
// it has read to the end of its log.
//
// Records of one input are never reordered; ties between inputs go to the
// input added first. A record with no time goes as soon as it is the head.
package merge

import "time"

// Merger orders the records of its inputs. It is not safe for concurrent
// use: the goroutine that owns the engine owns it.
type Merger[T any] struct {
	at     func(*T) time.Time
	inputs []*input[T]
	heap   []int // inputs with queued records, earliest head first
	// starving counts the open, busy inputs with nothing queued: while
	// there are none, the head of the heap goes without looking further.
	starving int
}

type input[T any] struct {
	q    []T
	head int
	mark time.Time
	idle bool
	done bool
}

func (in *input[T]) empty() bool { return in.head == len(in.q) }

// starves reports whether the input may hold the others back.
func (in *input[T]) starves() bool { return in.empty() && !in.done && !in.idle }

// New returns a merger of records whose event time at gives.
func New[T any](at func(*T) time.Time) *Merger[T] {
	return &Merger[T]{at: at}
}

// Add adds an input, open, busy and empty, and returns its number.
func (m *Merger[T]) Add() int {
	m.inputs = append(m.inputs, &input[T]{})
	m.starving++
	return len(m.inputs) - 1
}

// change runs f on input i and keeps the starving count right.
func (m *Merger[T]) change(i int, f func(*input[T])) {
	in := m.inputs[i]
	before := in.starves()
	wasEmpty := in.empty()
	f(in)
	if after := in.starves(); after != before {
		if after {
			m.starving++
		} else {
			m.starving--
		}
	}
	if wasEmpty && !in.empty() {
		m.push(i)
	}
}

// Push queues records of input i, in order. The merger owns recs when
// the input's queue was empty (no copy), and copies them otherwise.
func (m *Merger[T]) Push(i int, recs ...T) {
	if len(recs) == 0 {
		return
	}
	m.change(i, func(in *input[T]) {
		if in.empty() {
			in.q, in.head = recs, 0
			return
		}
		if in.head > 0 && in.head >= len(in.q)/2 {
			in.q = append(in.q[:0], in.q[in.head:]...)
			in.head = 0
		}
		in.q = append(in.q, recs...)
	})
}

// Mark says input i has read everything up to time t: nothing it sends
// later is earlier (up to its own disorder).
func (m *Merger[T]) Mark(i int, t time.Time) {
	if in := m.inputs[i]; t.After(in.mark) {
		in.mark = t
	}
}

// SetIdle says whether input i is caught up with its log: an idle input
// holds nobody back.
func (m *Merger[T]) SetIdle(i int, idle bool) {
	m.change(i, func(in *input[T]) { in.idle = idle })
}

// Close says input i sends nothing more; what it queued still goes.
func (m *Merger[T]) Close(i int) {
	m.change(i, func(in *input[T]) { in.done = true })
}

// Len is how many records wait, in all.
func (m *Merger[T]) Len() int {
	n := 0
	for _, in := range m.inputs {
		n += len(in.q) - in.head
	}
	return n
}

// Queued is how many records input i has waiting.
func (m *Merger[T]) Queued(i int) int { return len(m.inputs[i].q) - m.inputs[i].head }

// Head is input i's next record, if it has one.
func (m *Merger[T]) Head(i int) (*T, bool) {
	in := m.inputs[i]
	if in.empty() {
		return nil, false
	}
	return &in.q[in.head], true
}

// Next returns the earliest record when no input can still send an
// earlier one, and the input it came from. The record is valid until the
// next call to Push.
func (m *Merger[T]) Next() (*T, int, bool) {
	if len(m.heap) == 0 {
		return nil, -1, false
	}
	i := m.heap[0]
	in := m.inputs[i]
	r := &in.q[in.head]
	if m.starving > 0 {
		if _, ok := m.blocker(m.at(r), i); ok {
			return nil, -1, false
		}
	}
	return m.take()
}

// Take returns the earliest queued record even while an input may still
// send an earlier one: for a bound on what waits, where a late record is
// better than an unbounded queue.
func (m *Merger[T]) Take() (*T, int, bool) {
	if len(m.heap) == 0 {
		return nil, -1, false
	}
	return m.take()
}

func (m *Merger[T]) take() (*T, int, bool) {
	i := m.heap[0]
	in := m.inputs[i]
	r := &in.q[in.head]
	m.change(i, func(in *input[T]) { in.head++ })
	if in.empty() {
		m.pop()
	} else {
		m.down(0)
	}
	return r, i, true
}

// Blocking returns the input the merger waits for: the one that may still
// send a record earlier than the earliest queued one, or, with nothing
// queued, the first open busy input.
func (m *Merger[T]) Blocking() (int, bool) {
	if len(m.heap) == 0 {
		for i, in := range m.inputs {
			if in.starves() {
				return i, true
			}
		}
		return -1, false
	}
	in := m.inputs[m.heap[0]]
	return m.blocker(m.at(&in.q[in.head]), m.heap[0])
}

// Done reports whether every input is closed and everything was handed out.
func (m *Merger[T]) Done() bool {
	for _, in := range m.inputs {
		if !in.done || !in.empty() {
			return false
		}
	}
	return true
}

// blocker is an input that may still send a record that goes before
// input i's record of time t: an earlier one, or one of the same time from
// an input added before i.
func (m *Merger[T]) blocker(t time.Time, i int) (int, bool) {
	if t.IsZero() {
		return -1, false
	}
	for j, in := range m.inputs {
		if in.starves() && (in.mark.Before(t) || j < i && in.mark.Equal(t)) {
			return j, true
		}
	}
	return -1, false
}

// The heap holds the inputs with queued records, by the time of their
// head, then by input number.
func (m *Merger[T]) less(a, b int) bool {
	x, y := m.inputs[m.heap[a]], m.inputs[m.heap[b]]
	if c := m.at(&x.q[x.head]).Compare(m.at(&y.q[y.head])); c != 0 {
		return c < 0
	}
	return m.heap[a] < m.heap[b]
}

func (m *Merger[T]) push(i int) {
	m.heap = append(m.heap, i)
	for k := len(m.heap) - 1; k > 0; {
		p := (k - 1) / 2
		if !m.less(k, p) {
			break
		}
		m.heap[k], m.heap[p] = m.heap[p], m.heap[k]
		k = p
	}
}

func (m *Merger[T]) pop() {
	last := len(m.heap) - 1
	m.heap[0] = m.heap[last]
	m.heap = m.heap[:last]
	m.down(0)
}

func (m *Merger[T]) down(k int) {
	for {
		l, r, s := 2*k+1, 2*k+2, k
		if l < len(m.heap) && m.less(l, s) {
			s = l
		}
		if r < len(m.heap) && m.less(r, s) {
			s = r
		}
		if s == k {
			return
		}
		m.heap[k], m.heap[s] = m.heap[s], m.heap[k]
		k = s
	}
}
