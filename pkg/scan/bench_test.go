package scan_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/scan"
)

// benchLogs writes a Gunicorn error log and an nginx access log of a busy
// day: mostly healthy lines, with the failures a bad hour leaves (timeouts,
// SIGKILLs, 502s and 499s) at about one line in two hundred.
func benchLogs(b *testing.B, accessLines, errorLines int) (files []string, size int64) {
	b.Helper()
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	write := func(name string, n int, line func(i int, t time.Time) string) {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		for i := range n {
			// The step first: i*24h overflows a Duration past 106,000 lines.
			w.WriteString(line(i, t0.Add(24*time.Hour/time.Duration(n)*time.Duration(i))))
			w.WriteByte('\n')
		}
		w.Flush()
		f.Close()
		st, _ := os.Stat(p)
		size += st.Size()
		files = append(files, p)
	}
	paths := []string{"/api/items", "/api/orders?page=2", "/static/app.js", "/healthz", "/api/reports/export?year=2026"}
	write("access.log", accessLines, func(i int, t time.Time) string {
		status := 200
		switch r := rng.IntN(1000); {
		case r < 3:
			status = 502
		case r < 5:
			status = 499
		case r < 40:
			status = 304
		}
		return fmt.Sprintf(`10.0.%d.%d - - [%s] "GET %s HTTP/1.1" %d %d "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" %.3f %.3f`,
			rng.IntN(256), rng.IntN(256), t.Format("02/Jan/2006:15:04:05 -0700"), paths[rng.IntN(len(paths))], status, rng.IntN(50000), rng.Float64(), rng.Float64())
	})
	write("error.log", errorLines, func(i int, t time.Time) string {
		ts := t.Format("[2006-01-02 15:04:05 -0700]")
		pid := 1000 + rng.IntN(100)
		switch r := rng.IntN(1000); {
		case r < 3:
			return fmt.Sprintf("%s [1000] [CRITICAL] WORKER TIMEOUT (pid:%d)", ts, pid)
		case r < 5:
			return fmt.Sprintf("%s [1000] [ERROR] Worker (pid:%d) was sent SIGKILL! Perhaps out of memory?", ts, pid)
		case r < 500:
			return fmt.Sprintf("%s [%d] [INFO] Booting worker with pid: %d", ts, pid, pid)
		default:
			return fmt.Sprintf("%s [%d] [INFO] Autorestarting worker after current request.", ts, pid)
		}
	})
	return files, size
}

// BenchmarkScanVsGrep scans the same logs with sigtail and, as the
// baseline an operator would otherwise run, with GNU grep and ripgrep
// looking for the catalog's literals (grep -F -i -f: the cheapest search
// that finds the candidate lines, without parsing or regexes). Compare
// the sub-benchmarks' MB/s: they run in one command on one machine.
func BenchmarkScanVsGrep(b *testing.B) {
	files, size := benchLogs(b, 400_000, 100_000)
	cfg := config(b)
	b.Run("sigtail", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			res, err := scan.Run(context.Background(), cfg, files)
			if err != nil || len(res.Incidents) == 0 {
				b.Fatalf("scan: %v, %d incidents", err, len(res.Incidents))
			}
		}
	})
	lits := filepath.Join(b.TempDir(), "literals")
	var words []string
	for _, sig := range cfg.Set.Signatures {
		words = append(words, sig.Prefilter()...)
	}
	os.WriteFile(lits, []byte(strings.Join(words, "\n")+"\n"), 0o644)
	for _, tool := range []struct {
		name, bin string
		args      []string
	}{
		{"grep", "grep", []string{"-F", "-i", "-c", "-f", lits}},
		{"ripgrep", "rg", []string{"-F", "-i", "-c", "-f", lits}},
	} {
		b.Run(tool.name, func(b *testing.B) {
			path, err := exec.LookPath(tool.bin)
			if err != nil {
				b.Skipf("%s not installed", tool.bin)
			}
			b.SetBytes(size)
			for b.Loop() {
				cmd := exec.Command(path, append(tool.args, files...)...)
				cmd.Env = append(os.Environ(), "LC_ALL=C")
				if out, err := cmd.Output(); err != nil {
					b.Fatalf("%s: %v %s", tool.bin, err, out)
				}
			}
		})
	}
}

// BenchmarkScanFile is the per-line cost of one access log, for profiling.
func BenchmarkScanFile(b *testing.B) {
	files, size := benchLogs(b, 200_000, 0)
	cfg := config(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scan.Run(context.Background(), cfg, files[:1]); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = match.NewMatcher

// BenchmarkScanSince is BenchmarkScanVsGrep's day of logs scanned for its
// last hour: the binary search skips the rest of each file.
func BenchmarkScanSince(b *testing.B) {
	files, size := benchLogs(b, 400_000, 100_000)
	cfg := config(b)
	cfg.Since = time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		res, err := scan.Run(context.Background(), cfg, files)
		if err != nil || res.Files[0].Start == 0 {
			b.Fatalf("scan: %v, %+v", err, res.Files[0])
		}
	}
}
