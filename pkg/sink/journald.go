package sink

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sigtail/sigtail/pkg/incident"
)

// DefaultJournalSocket is where systemd-journald takes native messages.
const DefaultJournalSocket = "/run/systemd/journal/socket"

// JournaldOptions configure a journald output.
type JournaldOptions struct {
	DeliveryOptions
	// Socket is journald's native socket (default DefaultJournalSocket).
	Socket string
	// Identifier is SYSLOG_IDENTIFIER (default "sigtail").
	Identifier string
}

// Journald writes each incident to systemd-journald as one entry of the
// native protocol, with MESSAGE a one-line summary, PRIORITY from the
// severity, and every incident field as a field of its own (SIGTAIL_RULE,
// SIGTAIL_PID, ...), so that `journalctl SIGTAIL_RULE=gunicorn.worker_timeout`
// finds them and promtail or Alloy can ship them on. A field with several
// values (Incident.Values) is written once per value, under the same name,
// as journald allows.
//
// Send spools the incident; Run writes the spool to the socket, and while
// journald is away (restarting, its socket gone) keeps it and retries.
type Journald struct {
	spooledSink
	opt    JournaldOptions
	conn   *net.UnixConn
	socket *net.UnixAddr
}

var _ Sink = (*Journald)(nil)

// NewJournald opens the spool; it starts nothing (Run does).
func NewJournald(opt JournaldOptions) (*Journald, error) {
	if opt.Socket == "" {
		opt.Socket = DefaultJournalSocket
	}
	if opt.Identifier == "" {
		opt.Identifier = "sigtail"
	}
	q, err := newSpooled(opt.DeliveryOptions)
	if err != nil {
		return nil, err
	}
	j := &Journald{spooledSink: spooledSink{q}, opt: opt, socket: &net.UnixAddr{Name: opt.Socket, Net: "unixgram"}}
	// One entry at a time: a failure then never writes an entry twice.
	q.deliver = j.write
	return j, nil
}

// Run writes the spool to journald until ctx is done.
func (j *Journald) Run(ctx context.Context) error {
	defer func() {
		if j.conn != nil {
			j.conn.Close()
			j.conn = nil
		}
	}()
	return j.q.run(ctx)
}

// write sends the batch (of one) as native entries.
func (j *Journald) write(ctx context.Context, batch []entry) error {
	for _, e := range batch {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := journalEntry(e.Inc, e.At, j.opt.Identifier)
		if err := j.sendDatagram(msg); err != nil {
			return &deliveryError{err: fmt.Errorf("writing incident %s to journald at %s: %w", e.Inc.ID, j.opt.Socket, err), reason: "journald"}
		}
	}
	return nil
}

func (j *Journald) sendDatagram(msg []byte) error {
	if j.conn == nil {
		c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Net: "unixgram"})
		if err != nil {
			return err
		}
		j.conn = c
	}
	// A journald that does not read blocks the write; bound it. (A socket
	// deadline is real time, whatever clock the output is given.)
	j.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _, err := j.conn.WriteMsgUnix(msg, nil, j.socket)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EMSGSIZE) && !errors.Is(err, syscall.ENOBUFS) {
		return err
	}
	// Too large for a datagram: hand journald a sealed memory file with
	// the entry, as sd_journal_sendv does.
	fd, err := unix.MemfdCreate("sigtail-journal-entry", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return fmt.Errorf("creating a memfd for a large entry: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:sigtail-journal-entry")
	defer f.Close()
	if _, err := f.Write(msg); err != nil {
		return fmt.Errorf("writing a large entry to a memfd: %w", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL); err != nil {
		return fmt.Errorf("sealing the memfd of a large entry: %w", err)
	}
	_, _, err = j.conn.WriteMsgUnix(nil, unix.UnixRights(int(f.Fd())), j.socket)
	return err
}

// journalPriority is the syslog priority of a severity: critical 2 (crit),
// warning 4, info 6.
func journalPriority(s incident.Severity) int {
	switch s {
	case incident.SeverityCritical:
		return 2
	case incident.SeverityWarning:
		return 4
	}
	return 6
}

// The fields an entry carries, besides one per captured field; a capture
// whose name would clash with one is written as SIGTAIL_FIELD_<NAME>.
var journalOwnFields = map[string]bool{
	"ID": true, "RULE": true, "TITLE": true, "SUMMARY": true, "SEVERITY": true, "STATUS": true,
	"COUNT": true, "FIRST_SEEN": true, "LAST_SEEN": true, "HOST": true, "SOURCE": true,
	"EVIDENCE": true, "EVIDENCE_DROPPED": true, "REMEDIATION": true, "DIAGNOSTICS": true,
	"PARAMETERS": true, "INSIGHTS": true, "RELATED": true, "REFERENCES": true, "TAKEN_AT": true,
	"SUPERSEDED_BY": true,
}

// journalFieldName makes a capture name a journal field name: upper case
// letters, digits and underscores, at most 64 bytes, here always
// prefixed by SIGTAIL_ (so never starting with a digit or underscore).
func journalFieldName(name string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(name) {
		if (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	n := b.String()
	if journalOwnFields[n] || strings.HasPrefix(n, "FIELD_") {
		n = "FIELD_" + n
	}
	n = "SIGTAIL_" + n
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// journalMessage is the one-line MESSAGE of an entry.
func journalMessage(inc *incident.Incident) string {
	text := inc.Summary
	if text == "" {
		text = inc.Title
	}
	text = strings.Join(strings.Fields(text), " ")
	if inc.SupersededBy != "" {
		return fmt.Sprintf("[%s] %s: %s (rule %s, id %s, superseded by %s)", inc.Severity, inc.Status, text, inc.Rule, inc.ID, inc.SupersededBy)
	}
	return fmt.Sprintf("[%s] %s: %s (rule %s, id %s)", inc.Severity, inc.Status, text, inc.Rule, inc.ID)
}

// journalEntry encodes inc in journald's native protocol: KEY=value\n, or,
// for a value with a newline, KEY\n, its length as 8 bytes little-endian,
// the value and \n.
func journalEntry(inc *incident.Incident, takenAt time.Time, ident string) []byte {
	var b bytes.Buffer
	add := func(k, v string) {
		if !strings.Contains(v, "\n") {
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(v)
			b.WriteByte('\n')
			return
		}
		b.WriteString(k)
		b.WriteByte('\n')
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(v)))
		b.Write(n[:])
		b.WriteString(v)
		b.WriteByte('\n')
	}
	addNonEmpty := func(k, v string) {
		if v != "" {
			add(k, v)
		}
	}
	timeText := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	add("MESSAGE", journalMessage(inc))
	add("PRIORITY", strconv.Itoa(journalPriority(inc.Severity)))
	add("SYSLOG_IDENTIFIER", ident)
	add("SIGTAIL_ID", inc.ID)
	add("SIGTAIL_RULE", inc.Rule)
	addNonEmpty("SIGTAIL_TITLE", inc.Title)
	addNonEmpty("SIGTAIL_SUMMARY", inc.Summary)
	add("SIGTAIL_SEVERITY", inc.Severity.String())
	add("SIGTAIL_STATUS", string(inc.Status))
	addNonEmpty("SIGTAIL_SUPERSEDED_BY", inc.SupersededBy)
	add("SIGTAIL_COUNT", strconv.Itoa(inc.Count))
	addNonEmpty("SIGTAIL_FIRST_SEEN", timeText(inc.FirstSeen))
	addNonEmpty("SIGTAIL_LAST_SEEN", timeText(inc.LastSeen))
	addNonEmpty("SIGTAIL_TAKEN_AT", timeText(takenAt))
	addNonEmpty("SIGTAIL_HOST", inc.Host)
	for _, s := range inc.Sources {
		add("SIGTAIL_SOURCE", s)
	}
	keys := make([]string, 0, len(inc.Fields))
	for k := range inc.Fields {
		keys = append(keys, k)
	}
	for k := range inc.Values {
		if _, ok := inc.Fields[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := journalFieldName(k)
		if vs := inc.Values[k]; len(vs) > 0 {
			for _, v := range vs {
				add(name, v)
			}
			continue
		}
		add(name, inc.Fields[k])
	}
	if len(inc.Evidence) > 0 {
		var ev strings.Builder
		for i, e := range inc.Evidence {
			if i > 0 {
				ev.WriteByte('\n')
			}
			where := "@" + strconv.FormatInt(e.Offset, 10)
			if e.LineNo > 0 {
				where = ":" + strconv.FormatInt(e.LineNo, 10)
			}
			fmt.Fprintf(&ev, "%s %s%s [%s]\n%s", timeText(e.Time), e.Source, where, e.Signature, e.Line)
		}
		add("SIGTAIL_EVIDENCE", ev.String())
	}
	if inc.EvidenceDropped > 0 {
		add("SIGTAIL_EVIDENCE_DROPPED", strconv.Itoa(inc.EvidenceDropped))
	}
	addNonEmpty("SIGTAIL_REMEDIATION", inc.Remediation)
	if len(inc.Diagnostics) > 0 {
		lines := make([]string, len(inc.Diagnostics))
		for i, d := range inc.Diagnostics {
			lines[i] = "$ " + d.Command
			if d.Why != "" {
				lines[i] += "    # " + d.Why
			}
		}
		add("SIGTAIL_DIAGNOSTICS", strings.Join(lines, "\n"))
	}
	if len(inc.Parameters) > 0 {
		lines := make([]string, len(inc.Parameters))
		for i, p := range inc.Parameters {
			lines[i] = p.Name + " = " + p.Value
			if p.Why != "" {
				lines[i] += "    # " + p.Why
			}
		}
		add("SIGTAIL_PARAMETERS", strings.Join(lines, "\n"))
	}
	addNonEmpty("SIGTAIL_INSIGHTS", strings.Join(inc.Insights, "\n"))
	addNonEmpty("SIGTAIL_RELATED", strings.Join(inc.Related, "\n"))
	addNonEmpty("SIGTAIL_REFERENCES", strings.Join(inc.References, "\n"))
	return b.Bytes()
}
