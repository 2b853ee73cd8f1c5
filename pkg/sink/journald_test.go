package sink

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/sigtail/sigtail/pkg/incident"
)

// parseJournalEntry parses the native protocol as journald does: KEY=value
// lines, or KEY, a newline, a 64-bit little-endian length, the value and a
// newline.
func parseJournalEntry(b []byte) (map[string][]string, error) {
	out := map[string][]string{}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("no newline in %q", b)
		}
		line := b[:nl]
		if k, v, ok := bytes.Cut(line, []byte("=")); ok {
			out[string(k)] = append(out[string(k)], string(v))
			b = b[nl+1:]
			continue
		}
		b = b[nl+1:]
		if len(b) < 8 {
			return nil, fmt.Errorf("field %s: no length", line)
		}
		n := binary.LittleEndian.Uint64(b[:8])
		if uint64(len(b)-8) < n+1 || b[8+n] != '\n' {
			return nil, fmt.Errorf("field %s: bad length %d", line, n)
		}
		out[string(line)] = append(out[string(line)], string(b[8:8+n]))
		b = b[9+n:]
	}
	return out, nil
}

// fakeJournal is a unixgram socket that takes native messages, inline or
// as a sealed memfd, like journald.
type fakeJournal struct {
	t       *testing.T
	path    string
	conn    *net.UnixConn
	mu      sync.Mutex
	entries []map[string][]string
	memfds  int
	done    chan struct{}
}

func newFakeJournal(t *testing.T, path string) *fakeJournal {
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(8 << 20)
	j := &fakeJournal{t: t, path: path, conn: c, done: make(chan struct{})}
	go j.serve()
	t.Cleanup(j.close)
	return j
}

func (j *fakeJournal) close() {
	j.conn.Close()
	<-j.done
}

func (j *fakeJournal) serve() {
	defer close(j.done)
	buf := make([]byte, 1<<20)
	oob := make([]byte, 1024)
	for {
		n, oobn, _, _, err := j.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		msg := bytes.Clone(buf[:n])
		memfd := false
		if oobn > 0 {
			cms, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, cm := range cms {
				fds, err := unix.ParseUnixRights(&cm)
				if err != nil || len(fds) != 1 {
					j.t.Errorf("bad SCM_RIGHTS: %v", err)
					continue
				}
				f := os.NewFile(uintptr(fds[0]), "memfd")
				seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
				want := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
				if err != nil || seals&want != want {
					j.t.Errorf("memfd not sealed: %#x %v", seals, err)
				}
				// From offset 0, as journald maps it: the sender's writes
				// moved the shared offset to the end.
				fi, _ := f.Stat()
				msg, _ = io.ReadAll(io.NewSectionReader(f, 0, fi.Size()))
				f.Close()
				memfd = true
			}
		}
		e, err := parseJournalEntry(msg)
		if err != nil {
			j.t.Errorf("parsing an entry: %v", err)
			continue
		}
		j.mu.Lock()
		j.entries = append(j.entries, e)
		if memfd {
			j.memfds++
		}
		j.mu.Unlock()
	}
}

func (j *fakeJournal) got() []map[string][]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]map[string][]string(nil), j.entries...)
}

func journaldOptions(t *testing.T, socket string) JournaldOptions {
	return JournaldOptions{DeliveryOptions: DeliveryOptions{Name: "journald", Spool: t.TempDir(),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Log: zerolog.Nop(), Now: newClock().Now}, Socket: socket}
}

// TestJournaldEntryGolden: the datagram of an incident, byte for byte, and
// it parses back to every field: a field of several values once per value,
// and who superseded it.
func TestJournaldEntryGolden(t *testing.T) {
	inc := sample()[0]
	inc.Status, inc.SupersededBy = incident.StatusSuperseded, "00ff00ff00ff00ff"
	inc.Fields = map[string]string{"pid": "1235", "upstream": "unix:/run/app.sock", "host": "example.org", "x-forwarded": "a",
		"address": "('127.0.0.1', 8000)", "superseded_by": "capture"}
	inc.Values = map[string][]string{"pid": {"1235", "1236"}}
	msg := journalEntry(inc, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), "sigtail")
	golden := "testdata/journald_entry.bin"
	if *update {
		os.WriteFile(golden, msg, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg, want) {
		t.Errorf("entry differs from %s:\n%q", golden, msg)
	}
	e, err := parseJournalEntry(msg)
	if err != nil {
		t.Fatal(err)
	}
	checkJournalFields(t, e, inc)
}

// checkJournalFields checks the fields of an entry read back against inc.
func checkJournalFields(t *testing.T, e map[string][]string, inc *incident.Incident) {
	t.Helper()
	one := func(k string) string {
		if len(e[k]) != 1 {
			t.Errorf("%s: %q, want one value", k, e[k])
			return ""
		}
		return e[k][0]
	}
	wantFields := map[string]string{
		"PRIORITY": "2", "SYSLOG_IDENTIFIER": "sigtail", "SIGTAIL_ID": inc.ID, "SIGTAIL_RULE": inc.Rule,
		"SIGTAIL_SEVERITY": inc.Severity.String(), "SIGTAIL_STATUS": string(inc.Status), "SIGTAIL_COUNT": fmt.Sprint(inc.Count),
		"SIGTAIL_FIRST_SEEN": "2026-11-24T10:00:00Z", "SIGTAIL_LAST_SEEN": "2026-11-24T10:01:30Z", "SIGTAIL_HOST": inc.Host,
		"SIGTAIL_TITLE": inc.Title, "SIGTAIL_SUMMARY": inc.Summary, "SIGTAIL_REMEDIATION": inc.Remediation,
		"SIGTAIL_DIAGNOSTICS": "$ py-spy dump --pid PID    # where it hangs",
		"SIGTAIL_INSIGHTS":    inc.Insights[0],
		"SIGTAIL_PARAMETERS":  "timeout = 60    # above the slowest request",
		"SIGTAIL_SOURCE":      inc.Sources[0],
	}
	for k, v := range wantFields {
		if got := one(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := e["SIGTAIL_SUPERSEDED_BY"]; inc.SupersededBy != "" && (len(got) != 1 || got[0] != inc.SupersededBy) {
		t.Errorf("SIGTAIL_SUPERSEDED_BY = %q, want %q", got, inc.SupersededBy)
	}
	if msg := e["MESSAGE"]; inc.SupersededBy != "" && (len(msg) != 1 || !strings.Contains(msg[0], "superseded by "+inc.SupersededBy)) {
		t.Errorf("MESSAGE = %q, does not say who superseded it", msg)
	}
	// Each captured field, every value of it.
	for k, v := range inc.Fields {
		want := inc.Values[k]
		if len(want) == 0 {
			want = []string{v}
		}
		name := journalFieldName(k)
		if got := e[name]; strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	msg := one("MESSAGE")
	if strings.Contains(msg, "\n") || !strings.Contains(msg, inc.Summary) || !strings.Contains(msg, inc.ID) {
		t.Errorf("MESSAGE = %q", msg)
	}
	ev := one("SIGTAIL_EVIDENCE")
	for _, x := range inc.Evidence {
		if !strings.Contains(ev, x.Line) {
			t.Errorf("SIGTAIL_EVIDENCE lacks %q:\n%s", x.Line, ev)
		}
	}
	if !strings.Contains(ev, "/var/log/gunicorn/error.log:3 [gunicorn.worker_timeout]") {
		t.Errorf("SIGTAIL_EVIDENCE lacks where:\n%s", ev)
	}
}

func TestJournalFieldName(t *testing.T) {
	for in, want := range map[string]string{
		"pid": "SIGTAIL_PID", "upstream": "SIGTAIL_UPSTREAM", "x-forwarded.for": "SIGTAIL_X_FORWARDED_FOR",
		"host": "SIGTAIL_FIELD_HOST", "id": "SIGTAIL_FIELD_ID", "field_x": "SIGTAIL_FIELD_FIELD_X", "1st": "SIGTAIL_1ST",
		"ümlaut": "SIGTAIL__MLAUT", strings.Repeat("a", 80): "SIGTAIL_" + strings.Repeat("A", 56),
	} {
		if got := journalFieldName(in); got != want {
			t.Errorf("journalFieldName(%q) = %q, want %q", in, got, want)
		}
	}
	for s, want := range map[incident.Severity]int{incident.SeverityCritical: 2, incident.SeverityWarning: 4, incident.SeverityInfo: 6} {
		if got := journalPriority(s); got != want {
			t.Errorf("priority of %s = %d, want %d", s, got, want)
		}
	}
}

// TestJournaldAwayAndLarge: while the socket is absent incidents wait in
// the spool; once it is there they are written in order, and an entry too
// large for a datagram goes as a sealed memfd.
func TestJournaldAwayAndLarge(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "socket")
	j, err := NewJournald(journaldOptions(t, socket))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	running(t, j)
	incs := numbered(5)
	big := *incs[4]
	big.Evidence = []incident.Evidence{{Source: "x.log", Line: strings.Repeat("traceback line\n", 40000)}} // 600 KB
	incs[4] = &big
	for _, inc := range incs {
		if err := j.Send(context.Background(), inc); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // a few failed tries
	fj := newFakeJournal(t, socket)
	flushed(t, j, 10*time.Second)
	// Written is not yet read: wait for the fake journal to take them in.
	got := fj.got()
	for deadline := time.Now().Add(5 * time.Second); len(got) < 5 && time.Now().Before(deadline); got = fj.got() {
		time.Sleep(5 * time.Millisecond)
	}
	if len(got) != 5 {
		t.Fatalf("journal got %d entries, want 5", len(got))
	}
	for i, e := range got {
		if e["SIGTAIL_ID"][0] != incs[i].ID {
			t.Errorf("entry %d is %v, want %s", i, e["SIGTAIL_ID"], incs[i].ID)
		}
	}
	fj.mu.Lock()
	memfds := fj.memfds
	fj.mu.Unlock()
	if ev := got[4]["SIGTAIL_EVIDENCE"]; memfds != 1 || len(ev) != 1 || len(ev[0]) < 600000 {
		t.Errorf("large entry: %d memfd(s), evidence %d value(s)", memfds, len(ev))
	}
}
