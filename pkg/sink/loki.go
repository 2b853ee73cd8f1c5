package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sigtail/sigtail/pkg/incident"
)

// LokiEncoding is the body format of a Loki push.
type LokiEncoding string

// The encodings Loki's push API takes: JSON, or protobuf compressed with
// snappy (the block format), which promtail uses.
const (
	LokiJSON     LokiEncoding = "json"
	LokiProtobuf LokiEncoding = "protobuf"
)

// LokiOptions configure a Loki output.
type LokiOptions struct {
	DeliveryOptions
	// HTTP.URL is the push endpoint, e.g.
	// http://loki:3100/loki/api/v1/push.
	HTTP HTTPOptions
	// Tenant is sent as X-Scope-OrgID when set.
	Tenant   string
	Encoding LokiEncoding
	// Job is the job label (default "sigtail"); Labels are more static
	// labels (keep them few and fixed: every distinct set is a stream).
	Job    string
	Labels map[string]string
	// Host is the host label of incidents that carry none.
	Host string
	// BatchEntries and BatchBytes bound a push (defaults 500 and 1 MiB);
	// BatchWait is how long the first incident of a batch waits for more
	// (default 1s).
	BatchEntries int
	BatchBytes   int
	BatchWait    time.Duration
	// MaxAge is how far before the time sigtail took an incident its
	// event time may be and still stamp the entry (default 1h: Loki's
	// default out-of-order window, max_chunk_age/2, beyond which it
	// refuses an entry older than the newest of its stream; its
	// reject_old_samples_max_age, 1 week, is wider). An older event time,
	// or one after the take time, leaves the entry stamped with the take
	// time. Negative: always the take time.
	MaxAge time.Duration
}

// Loki pushes incidents to Grafana Loki's push API
// (POST /loki/api/v1/push). Each incident is one log line, its JSON with
// taken_at (when sigtail took it) added, stamped with its event time
// (first_seen when it opens, last_seen after) when that is recent enough
// (MaxAge), else with taken_at, in a stream whose labels are the
// low-cardinality fields only: job, host, rule, severity (and the
// configured static labels). Everything else is in the line, for LogQL's
// | json.
//
// Send spools the incident durably; Run delivers the spool in order. Loki
// answers a push of which it refused some entries (too old, too long)
// with 400 after storing the others, and names the refused ones only in
// text: the entries of such a push are then sent again one by one, and
// only those refused on their own are kept in rejected.jsonl. The others
// are stored once: their entries are sent again unchanged (same stream,
// time and line), and Loki drops such an exact repeat.
type Loki struct {
	spooledSink
	http  *httpTarget
	opt   LokiOptions
	extra map[string]string
}

var _ Sink = (*Loki)(nil)

// NewLoki opens the spool; it starts nothing (Run does).
func NewLoki(opt LokiOptions) (*Loki, error) {
	switch opt.Encoding {
	case "":
		opt.Encoding = LokiProtobuf
	case LokiJSON, LokiProtobuf:
	default:
		return nil, fmt.Errorf("output %s: unknown Loki encoding %q (want json or protobuf)", opt.Name, opt.Encoding)
	}
	if opt.Job == "" {
		opt.Job = "sigtail"
	}
	if opt.MaxAge == 0 {
		opt.MaxAge = DefaultLokiMaxAge
	}
	if err := checkLabels(opt.Name, opt.Labels, reservedLokiLabel); err != nil {
		return nil, err
	}
	h, q, err := newHTTPSpooled(opt.Name, opt.HTTP, opt.DeliveryOptions, opt.Now)
	if err != nil {
		return nil, err
	}
	l := &Loki{spooledSink: spooledSink{q}, http: h, opt: opt, extra: opt.Labels}
	q.deliver = l.push
	q.batchMax = orDefault(opt.BatchEntries, 500)
	q.batchBytes = orDefault(opt.BatchBytes, 1<<20)
	q.batchWait = opt.BatchWait
	if q.batchWait <= 0 {
		q.batchWait = time.Second
	}
	return l, nil
}

// orDefault returns v, or def when v is not positive.
func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// DefaultLokiMaxAge is LokiOptions.MaxAge when not set.
const DefaultLokiMaxAge = time.Hour

var reservedLokiLabel = map[string]bool{"job": true, "host": true, "rule": true, "severity": true}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// lokiStream is one stream of a push: its labels and lines in order of
// time.
type lokiStream struct {
	labels  map[string]string
	entries []lokiEntry
}

type lokiEntry struct {
	at   time.Time
	line string
}

// streams groups a batch into streams, in the order they first appear,
// each with its entries sorted by time (ties in spool order), as Loki
// wants them within a push.
func (l *Loki) streams(batch []entry) []*lokiStream {
	var out []*lokiStream
	byKey := map[string]*lokiStream{}
	for _, e := range batch {
		labels := l.labels(e.Inc)
		key := labelString(labels)
		s := byKey[key]
		if s == nil {
			s = &lokiStream{labels: labels}
			byKey[key] = s
			out = append(out, s)
		}
		s.entries = append(s.entries, lokiEntry{at: l.entryTime(e), line: lokiLine(e.JSON, e.At)})
	}
	for _, s := range out {
		slices.SortStableFunc(s.entries, func(a, b lokiEntry) int { return a.at.Compare(b.at) })
	}
	return out
}

// entryTime is the timestamp of e's entry: the incident's event time
// (first_seen while open, last_seen after) when it is at most MaxAge
// before the take time, else the take time. It depends on e alone, so an
// entry sent again is an exact repeat.
func (l *Loki) entryTime(e entry) time.Time {
	t := e.Inc.LastSeen
	if e.Inc.Status == incident.StatusOpen {
		t = e.Inc.FirstSeen
	}
	if t.IsZero() || t.After(e.At) || e.At.Sub(t) > l.opt.MaxAge {
		return e.At
	}
	return t
}

// lokiLine is an incident's JSON object with "taken_at" added last.
func lokiLine(js []byte, takenAt time.Time) string {
	js = bytes.TrimRight(js, " \t\r\n")
	if len(js) < 2 || js[len(js)-1] != '}' {
		return string(js) // not an object: as it is
	}
	body := bytes.TrimRight(js[:len(js)-1], " \t\r\n")
	var b strings.Builder
	b.Grow(len(js) + 48)
	b.Write(body)
	if body[len(body)-1] != '{' {
		b.WriteByte(',')
	}
	b.WriteString(`"taken_at":"`)
	b.WriteString(takenAt.UTC().Format(time.RFC3339Nano))
	b.WriteString(`"}`)
	return b.String()
}

func (l *Loki) labels(inc *incident.Incident) map[string]string {
	m := maps.Clone(l.extra)
	if m == nil {
		m = map[string]string{}
	}
	m["job"] = l.opt.Job
	host := inc.Host
	if host == "" {
		host = l.opt.Host
	}
	if host != "" {
		m["host"] = host
	}
	m["rule"] = inc.Rule
	m["severity"] = inc.Severity.String()
	return m
}

// labelString writes labels as Loki (and Prometheus) print them, sorted by
// name: {host="web-1", job="sigtail"}.
func labelString(m map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(m[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// push sends a batch; when Loki refuses part of it (400), it sends each
// entry again on its own and reports which ones Loki refused.
func (l *Loki) push(ctx context.Context, batch []entry) error {
	err := l.pushOnce(ctx, batch)
	var de *deliveryError
	if err == nil || len(batch) < 2 || !errors.As(err, &de) || de.status != http.StatusBadRequest {
		return err
	}
	l.q.log.Warn().Err(err).Int("incidents", len(batch)).Msg("Loki refused part of a push; sending its incidents one by one")
	refused := map[int]error{}
	for i := range batch {
		err := l.pushOnce(ctx, batch[i:i+1])
		switch {
		case err == nil:
		case isPermanent(err):
			refused[i] = err
		default:
			return &partialDelivery{done: i, refused: refused, err: err}
		}
	}
	return &partialDelivery{done: len(batch), refused: refused}
}

func (l *Loki) pushOnce(ctx context.Context, batch []entry) error {
	streams := l.streams(batch)
	hdr := http.Header{}
	var body []byte
	if l.opt.Encoding == LokiJSON {
		body = encodeLokiJSON(streams)
		hdr.Set("Content-Type", "application/json")
	} else {
		body = snappy.Encode(nil, encodeLokiProto(streams))
		hdr.Set("Content-Type", "application/x-protobuf")
	}
	if l.opt.Tenant != "" {
		hdr.Set("X-Scope-OrgID", l.opt.Tenant)
	}
	what := fmt.Sprintf("Loki push of %d incident(s)", len(batch))
	if len(batch) == 1 {
		what = "Loki push of incident " + batch[0].Inc.ID
	}
	return l.http.post(ctx, what, body, hdr)
}

// encodeLokiJSON is the JSON push body:
//
//	{"streams":[{"stream":{"job":"sigtail",...},"values":[["<unix ns>","<line>"],...]}]}
func encodeLokiJSON(streams []*lokiStream) []byte {
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][2]string       `json:"values"`
	}
	body := struct {
		Streams []stream `json:"streams"`
	}{Streams: make([]stream, 0, len(streams))}
	for _, s := range streams {
		js := stream{Stream: s.labels}
		for _, e := range s.entries {
			js.Values = append(js.Values, [2]string{strconv.FormatInt(e.at.UnixNano(), 10), e.line})
		}
		body.Streams = append(body.Streams, js)
	}
	b, _ := json.Marshal(body) // strings and maps of strings always encode
	return b
}

// Field numbers of Loki's pkg/push/push.proto (package logproto):
//
//	message PushRequest { repeated Stream streams = 1; }
//	message Stream { string labels = 1; repeated Entry entries = 2; uint64 hash = 3; }
//	message Entry { google.protobuf.Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
//	message Timestamp { int64 seconds = 1; int32 nanos = 2; }
const (
	pbPushStreams      protowire.Number = 1
	pbStreamLabels     protowire.Number = 1
	pbStreamEntries    protowire.Number = 2
	pbEntryTimestamp   protowire.Number = 1
	pbEntryLine        protowire.Number = 2
	pbTimestampSeconds protowire.Number = 1
	pbTimestampNanos   protowire.Number = 2
)

// encodeLokiProto is a logproto.PushRequest, before snappy.
func encodeLokiProto(streams []*lokiStream) []byte {
	var req []byte
	for _, s := range streams {
		var sb []byte
		sb = protowire.AppendTag(sb, pbStreamLabels, protowire.BytesType)
		sb = protowire.AppendString(sb, labelString(s.labels))
		for _, e := range s.entries {
			var ts []byte
			if sec := e.at.Unix(); sec != 0 {
				ts = protowire.AppendTag(ts, pbTimestampSeconds, protowire.VarintType)
				ts = protowire.AppendVarint(ts, uint64(sec))
			}
			if ns := e.at.Nanosecond(); ns != 0 {
				ts = protowire.AppendTag(ts, pbTimestampNanos, protowire.VarintType)
				ts = protowire.AppendVarint(ts, uint64(ns))
			}
			var eb []byte
			eb = protowire.AppendTag(eb, pbEntryTimestamp, protowire.BytesType)
			eb = protowire.AppendBytes(eb, ts)
			eb = protowire.AppendTag(eb, pbEntryLine, protowire.BytesType)
			eb = protowire.AppendString(eb, e.line)
			sb = protowire.AppendTag(sb, pbStreamEntries, protowire.BytesType)
			sb = protowire.AppendBytes(sb, eb)
		}
		req = protowire.AppendTag(req, pbPushStreams, protowire.BytesType)
		req = protowire.AppendBytes(req, sb)
	}
	return req
}
