package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/daemon"
	"github.com/sigtail/sigtail/pkg/sink"
	"github.com/sigtail/sigtail/pkg/source"
)

// BenchmarkLatency measures, with the daemon's defaults, the time from a
// decisive line's append to its incident on stdout while the log is
// written at 10,000 lines/s: a lone "Worker (pid:N) was sent SIGKILL!"
// every 0.2 s among INFO lines (its rule has no window; the lines are
// stamped 11 minutes apart in event time, past the rule's cooldown, so
// each opens an incident). The baseline in the same command is the
// follower alone: append to the line being read (the polling floor).
// Compare p50 and p99 of the two.
func BenchmarkLatency(b *testing.B) {
	b.Run("follower", func(b *testing.B) { latency(b, false) })
	b.Run("sigtail", func(b *testing.B) { latency(b, true) })
}

const (
	linesPerSecond = 10_000
	decisiveEvery  = 2_000 // lines: one decisive line per 0.2 s
	writeFor       = 3 * time.Second
)

func latency(b *testing.B, full bool) {
	cat, set := builtin(b)
	var all []time.Duration
	for b.Loop() {
		dir := b.TempDir()
		path := filepath.Join(dir, "error.log")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		wrote := map[string]time.Time{} // pid -> when its line was appended
		var lat []time.Duration
		seen := func(pid string) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if t, ok := wrote[pid]; ok {
				lat = append(lat, now.Sub(t))
				delete(wrote, pid)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		if full {
			w := &openWatcher{seen: seen}
			d := daemon.New(daemon.Config{
				Files: []daemon.FileSource{{Path: path}}, Catalog: cat, Set: set, Location: time.UTC,
				Sinks: []sink.Sink{sink.NewJSON(w)}, Log: zerolog.Nop(),
			})
			go func() { d.Run(ctx); close(done) }()
		} else {
			lines := make(chan source.Line, 256)
			f := &source.Follower{Path: path}
			go func() { f.Run(ctx, lines, nil); close(done) }()
			go func() {
				for {
					select {
					case l := <-lines:
						if i := bytes.Index([]byte(l.Text), []byte("(pid:")); i >= 0 && bytes.Contains([]byte(l.Text), []byte("SIGKILL")) {
							j := bytes.IndexByte([]byte(l.Text[i:]), ')')
							seen(l.Text[i+5 : i+j])
						}
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		time.Sleep(500 * time.Millisecond) // the file is followed
		writeLog(b, path, &mu, wrote)
		time.Sleep(time.Second) // the last incidents come out
		cancel()
		<-done
		mu.Lock()
		if len(wrote) > 0 {
			b.Errorf("%d decisive line(s) gave nothing", len(wrote))
		}
		all = append(all, lat...)
		mu.Unlock()
	}
	if len(all) == 0 {
		b.Fatal("no latency measured")
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(all))/float64(b.N), "incidents/op")
}

// writeLog appends linesPerSecond lines a second for writeFor, in batches
// every 10 ms, noting when each decisive line was appended.
func writeLog(b *testing.B, path string, mu *sync.Mutex, wrote map[string]time.Time) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	const batch = linesPerSecond / 100
	step := 11 * time.Minute / decisiveEvery // event time per line
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	n := 0
	var buf bytes.Buffer
	for end := time.Now().Add(writeFor); time.Now().Before(end); <-tick.C {
		buf.Reset()
		var pid string
		for range batch {
			ts := base.Add(time.Duration(n) * step).Format("2006-01-02 15:04:05 -0700")
			if n%decisiveEvery == decisiveEvery-1 {
				pid = fmt.Sprint(10000 + n/decisiveEvery)
				fmt.Fprintf(&buf, "[%s] [100] [ERROR] Worker (pid:%s) was sent SIGKILL! Perhaps out of memory?\n", ts, pid)
			} else {
				fmt.Fprintf(&buf, "[%s] [%d] [INFO] Autorestarting worker after current request.\n", ts, 200+n%7)
			}
			n++
		}
		mu.Lock()
		if _, err := f.Write(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
		if pid != "" {
			wrote[pid] = time.Now()
		}
		mu.Unlock()
	}
}

// openWatcher is stdout as the daemon writes it: it notes each incident
// that opens, by pid, when its line is written.
type openWatcher struct {
	seen func(pid string)
	buf  []byte
}

func (w *openWatcher) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		var inc struct {
			Status string            `json:"status"`
			Fields map[string]string `json:"fields"`
		}
		if json.Unmarshal(w.buf[:i], &inc) == nil && inc.Status == "open" {
			w.seen(inc.Fields["pid"])
		}
		w.buf = w.buf[i+1:]
	}
}
