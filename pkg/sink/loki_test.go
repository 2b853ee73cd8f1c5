package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sigtail/sigtail/pkg/incident"
)

// pushed is one entry as a Loki push carried it.
type pushed struct {
	Labels map[string]string
	At     time.Time
	Line   string
}

// lokiServer is a test Loki: it decodes pushes exactly as the push API
// defines them (JSON, or snappy-compressed logproto.PushRequest), checks
// the tenant and the credentials and that each stream's entries come in
// order of time, answers with the statuses it is told to, and can go away
// and come back on the same port.
//
// As Loki does, it drops an exact repeat of an entry it stored (same
// stream, time and line), counting it in repeats, and, when oldest is set,
// refuses the entries older than it with 400 after storing the others of
// the push.
type lokiServer struct {
	t        *testing.T
	tenant   string
	auth     string // the Authorization header wanted
	mu       sync.Mutex
	entries  []pushed
	seen     map[string]bool // stream, time and line of the stored entries
	repeats  int
	oldest   time.Time
	requests int
	types    []string
	fail     []failure       // the next answers, before success
	failAt   map[int]failure // the answer to the request of that number (from 1)
	errs     []string
	addr     string
	srv      *http.Server
}

type failure struct {
	status     int
	retryAfter string
}

func newLokiServer(t *testing.T, tenant, auth string) *lokiServer {
	s := &lokiServer{t: t, tenant: tenant, auth: auth}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *lokiServer) url() string { return "http://" + s.addr + "/loki/api/v1/push" }

func (s *lokiServer) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
}

// stop closes the listener and every connection: Loki is away.
func (s *lokiServer) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// start listens again on the same port.
func (s *lokiServer) start() {
	var ln net.Listener
	var err error
	for range 100 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listening again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *lokiServer) failNext(f ...failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, f...)
}

func (s *lokiServer) got() []pushed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

func (s *lokiServer) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

func (s *lokiServer) repeated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repeats
}

// refuseOlderThan makes the server refuse entries older than t, as Loki
// refuses entries too old or too far behind the newest of their stream.
func (s *lokiServer) refuseOlderThan(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oldest = t
}

func (s *lokiServer) failRequest(n int, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAt == nil {
		s.failAt = map[int]failure{}
	}
	s.failAt[n] = f
}

func (s *lokiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	bad := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		s.errs = append(s.errs, msg)
		http.Error(w, msg, http.StatusBadRequest)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/loki/api/v1/push" {
		bad("%s %s", r.Method, r.URL.Path)
		return
	}
	if got := r.Header.Get("X-Scope-OrgID"); got != s.tenant {
		bad("tenant %q, want %q", got, s.tenant)
		return
	}
	if got := r.Header.Get("Authorization"); got != s.auth {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f, ok := s.failAt[s.requests]
	if !ok && len(s.fail) > 0 {
		f, ok = s.fail[0], true
		s.fail = s.fail[1:]
	}
	if ok {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		http.Error(w, "injected", f.status)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		bad("reading: %v", err)
		return
	}
	ct := r.Header.Get("Content-Type")
	s.types = append(s.types, ct)
	var entries []pushed
	switch ct {
	case "application/json":
		entries, err = decodeLokiJSON(body)
	case "application/x-protobuf":
		var raw []byte
		if raw, err = snappy.Decode(nil, body); err == nil {
			entries, err = decodeLokiProto(raw)
		}
	default:
		err = fmt.Errorf("content type %q", ct)
	}
	if err != nil {
		bad("decoding the push: %v", err)
		return
	}
	last := map[string]time.Time{}
	for _, e := range entries {
		k := labelString(e.Labels)
		if e.At.Before(last[k]) {
			bad("entries of stream %s out of order in a push: %v after %v", k, e.At, last[k])
			return
		}
		last[k] = e.At
	}
	var refused []string
	for _, e := range entries {
		if !s.oldest.IsZero() && e.At.Before(s.oldest) {
			refused = append(refused, fmt.Sprintf("entry for stream '%s' has timestamp too old: %s, oldest acceptable timestamp is: %s",
				labelString(e.Labels), e.At.Format(time.RFC3339), s.oldest.Format(time.RFC3339)))
			continue
		}
		key := fmt.Sprintf("%s %d %s", labelString(e.Labels), e.At.UnixNano(), e.Line)
		if s.seen[key] {
			s.repeats++
			continue
		}
		if s.seen == nil {
			s.seen = map[string]bool{}
		}
		s.seen[key] = true
		s.entries = append(s.entries, e)
	}
	if len(refused) > 0 {
		// The others are stored: Loki says 400 all the same.
		http.Error(w, fmt.Sprintf("%s\ntotal ignored: %d out of %d", strings.Join(refused, "\n"), len(refused), len(entries)), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeLokiJSON decodes {"streams":[{"stream":{...},"values":[[ns, line]]}]}
// strictly.
func decodeLokiJSON(b []byte) ([]pushed, error) {
	var req struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][]string        `json:"values"`
		} `json:"streams"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, err
	}
	var out []pushed
	for _, s := range req.Streams {
		if len(s.Stream) == 0 {
			return nil, errors.New("a stream without labels")
		}
		for _, v := range s.Values {
			if len(v) != 2 {
				return nil, fmt.Errorf("value of %d elements", len(v))
			}
			ns, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("timestamp %q: %w", v[0], err)
			}
			out = append(out, pushed{Labels: s.Stream, At: time.Unix(0, ns).UTC(), Line: v[1]})
		}
	}
	return out, nil
}

// decodeLokiProto decodes a logproto.PushRequest with protowire, by the
// field numbers of Loki's push.proto, refusing unknown fields and types.
func decodeLokiProto(b []byte) ([]pushed, error) {
	var out []pushed
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 || typ != protowire.BytesType {
			return fmt.Errorf("PushRequest: field %d type %d", num, typ)
		}
		var labels map[string]string
		var entries []pushed
		err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			switch {
			case num == 1 && typ == protowire.BytesType:
				var err error
				labels, err = parseLabels(string(v))
				return err
			case num == 2 && typ == protowire.BytesType:
				var e pushed
				err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
					switch {
					case num == 1 && typ == protowire.BytesType:
						var sec, nanos int64
						err := eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) error {
							switch {
							case num == 1 && typ == protowire.VarintType:
								sec = int64(n)
							case num == 2 && typ == protowire.VarintType:
								nanos = int64(int32(n))
							default:
								return fmt.Errorf("Timestamp: field %d type %d", num, typ)
							}
							return nil
						})
						e.At = time.Unix(sec, nanos).UTC()
						return err
					case num == 2 && typ == protowire.BytesType:
						e.Line = string(v)
						return nil
					}
					return fmt.Errorf("Entry: field %d type %d", num, typ)
				})
				entries = append(entries, e)
				return err
			}
			return fmt.Errorf("Stream: field %d type %d", num, typ)
		})
		if err != nil {
			return err
		}
		for i := range entries {
			entries[i].Labels = labels
		}
		out = append(out, entries...)
		return nil
	})
	return out, err
}

func eachField(b []byte, f func(protowire.Number, protowire.Type, []byte, uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			return fmt.Errorf("unexpected wire type %d", typ)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// parseLabels parses {a="b", c="d"} as Loki does (Go-quoted values).
func parseLabels(s string) (map[string]string, error) {
	in, ok := strings.CutPrefix(s, "{")
	if in, ok = strings.CutSuffix(in, "}"); !ok {
		return nil, fmt.Errorf("labels %q: no braces", s)
	}
	m := map[string]string{}
	for in != "" {
		name, rest, ok := strings.Cut(in, "=")
		if !ok || !validLabelName(name) {
			return nil, fmt.Errorf("labels %q: bad name %q", s, name)
		}
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, fmt.Errorf("labels %q: %w", s, err)
		}
		m[name], _ = strconv.Unquote(q)
		in = strings.TrimPrefix(rest[len(q):], ", ")
	}
	return m, nil
}

func numbered(n int) []*incident.Incident {
	base := sample()[0]
	t := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	out := make([]*incident.Incident, n)
	for i := range out {
		inc := *base
		inc.ID = fmt.Sprintf("inc-%04d", i)
		inc.Count = i + 1
		inc.LastSeen = t.Add(time.Duration(i) * time.Second)
		if i%3 == 1 {
			inc.Rule, inc.Severity = "nginx.upstream_prematurely_closed", incident.SeverityWarning
		}
		out[i] = &inc
	}
	return out
}

// clock is a settable clock for the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)} }

// running runs s's Run until the test ends.
func running(t *testing.T, r interface{ Run(context.Context) error }) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func flushed(t *testing.T, f interface{ Flush(context.Context) error }, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

func lokiOptions(t *testing.T, srv *lokiServer, enc LokiEncoding, spool string, m *Metrics) LokiOptions {
	return LokiOptions{
		DeliveryOptions: DeliveryOptions{Name: "loki", Spool: spool, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
			Metrics: m, Log: zerolog.Nop(), Now: newClock().Now},
		HTTP: HTTPOptions{URL: srv.url(), Auth: Auth{BearerToken: "s3cret"}, Timeout: 2 * time.Second}, Tenant: "team-a",
		Encoding: enc, Host: "fallback", BatchWait: 10 * time.Millisecond, BatchEntries: 7,
	}
}

// checkPushed checks that got is exactly incs, in order, with the labels
// and line Loki's push API defines.
func checkPushed(t *testing.T, got []pushed, incs []*incident.Incident) {
	t.Helper()
	if len(got) != len(incs) {
		t.Fatalf("Loki got %d entries, want %d", len(got), len(incs))
	}
	for i, p := range got {
		var inc incident.Incident
		if err := json.Unmarshal([]byte(p.Line), &inc); err != nil {
			t.Fatalf("entry %d: line is not incident JSON: %v", i, err)
		}
		if inc.ID != incs[i].ID {
			t.Fatalf("entry %d is %s, want %s (out of order)", i, inc.ID, incs[i].ID)
		}
		wantLabels := map[string]string{"job": "sigtail", "host": incs[i].Host, "rule": incs[i].Rule, "severity": incs[i].Severity.String()}
		if fmt.Sprint(p.Labels) != fmt.Sprint(wantLabels) {
			t.Errorf("entry %d labels %v, want %v", i, p.Labels, wantLabels)
		}
		if p.At.Year() != 2026 {
			t.Errorf("entry %d timestamp %v", i, p.At)
		}
	}
}

// streamOrder lists incident ids per stream: a push groups entries by
// stream, and order is kept within a stream.
func streamOrder(got []pushed) map[string][]string {
	out := map[string][]string{}
	for _, p := range got {
		var inc incident.Incident
		json.Unmarshal([]byte(p.Line), &inc)
		k := labelString(p.Labels)
		out[k] = append(out[k], inc.ID)
	}
	return out
}

func sortedByStream(incs []*incident.Incident, host string) map[string][]string {
	out := map[string][]string{}
	for _, inc := range incs {
		h := inc.Host
		if h == "" {
			h = host
		}
		k := labelString(map[string]string{"job": "sigtail", "host": h, "rule": inc.Rule, "severity": inc.Severity.String()})
		out[k] = append(out[k], inc.ID)
	}
	return out
}

// TestLokiDelivers: both encodings carry every incident, with its labels,
// its JSON as the line, the tenant and the token, in order per stream.
func TestLokiDelivers(t *testing.T) {
	for _, enc := range []LokiEncoding{LokiJSON, LokiProtobuf} {
		t.Run(string(enc), func(t *testing.T) {
			srv := newLokiServer(t, "team-a", "Bearer s3cret")
			m := NewMetrics(nil)
			l, err := NewLoki(lokiOptions(t, srv, enc, t.TempDir(), m))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			running(t, l)
			incs := numbered(20)
			incs[5].Host = "" // takes the configured host
			for _, inc := range incs {
				if err := l.Send(context.Background(), inc); err != nil {
					t.Fatal(err)
				}
			}
			flushed(t, l, 10*time.Second)
			if p := srv.problems(); len(p) > 0 {
				t.Fatalf("the server refused pushes: %v", p)
			}
			got := srv.got()
			if g, w := streamOrder(got), sortedByStream(incs, "fallback"); fmt.Sprint(g) != fmt.Sprint(w) {
				t.Errorf("streams:\n got %v\nwant %v", g, w)
			}
			if n := testutil.ToFloat64(m.Delivered.WithLabelValues("loki")); n != 20 {
				t.Errorf("delivered metric %v, want 20", n)
			}
			if srv.types[0] != map[LokiEncoding]string{LokiJSON: "application/json", LokiProtobuf: "application/x-protobuf"}[enc] {
				t.Errorf("content type %q", srv.types[0])
			}
			if r := srv.repeated(); r != 0 {
				t.Errorf("%d entries pushed twice", r)
			}
		})
	}
}

// TestLokiEncodingGolden: the bodies of a push, byte for byte (the
// protobuf before snappy), and they decode to what was pushed: the
// incident's JSON with taken_at, stamped with the take time (the event
// times are older than MaxAge).
func TestLokiEncodingGolden(t *testing.T) {
	l := &Loki{opt: LokiOptions{Job: "sigtail", Host: "fallback", MaxAge: DefaultLokiMaxAge}}
	at := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)
	var batch []entry
	for i, inc := range sample() {
		b, _ := json.Marshal(inc)
		batch = append(batch, entry{At: at.Add(time.Duration(i) * time.Second), JSON: b, Inc: inc})
	}
	streams := l.streams(batch)
	for _, tt := range []struct {
		golden string
		body   []byte
		decode func([]byte) ([]pushed, error)
	}{
		{"testdata/loki_push.json", encodeLokiJSON(streams), decodeLokiJSON},
		{"testdata/loki_push.pb", encodeLokiProto(streams), decodeLokiProto},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			if *update {
				os.WriteFile(tt.golden, tt.body, 0o644)
			}
			want, err := os.ReadFile(tt.golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tt.body, want) {
				t.Errorf("body differs from %s:\n%q", tt.golden, tt.body)
			}
			got, err := tt.decode(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0].Labels["host"] != "web-1" || got[1].Labels["host"] != "fallback" ||
				got[0].Labels["rule"] != "gunicorn.worker_timeout" || got[1].Labels["severity"] != "warning" ||
				!got[0].At.Equal(at) || got[0].Line != lokiLine(batch[0].JSON, at) {
				t.Errorf("decoded %+v", got)
			}
			var line struct {
				TakenAt      time.Time `json:"taken_at"`
				Status       string    `json:"status"`
				SupersededBy string    `json:"superseded_by"`
			}
			if err := json.Unmarshal([]byte(got[2].Line), &line); err != nil || !line.TakenAt.Equal(at.Add(2*time.Second)) ||
				line.Status != "superseded" || line.SupersededBy != "0123456789abcdef" {
				t.Errorf("line %s: %+v %v", got[2].Line, line, err)
			}
		})
	}
}

// TestLokiRetries: 429 and 5xx are retried (Retry-After honoured), another
// 4xx is not: the batch is kept in rejected.jsonl and delivery goes on.
func TestLokiRetries(t *testing.T) {
	srv := newLokiServer(t, "team-a", "Bearer s3cret")
	m := NewMetrics(nil)
	spool := t.TempDir()
	opt := lokiOptions(t, srv, LokiProtobuf, spool, m)
	opt.BatchEntries = 1
	l, err := NewLoki(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv.failNext(failure{status: 429, retryAfter: "1"}, failure{status: 500}, failure{status: 503}, failure{status: 400})
	incs := numbered(4)
	for _, inc := range incs {
		l.Send(context.Background(), inc)
	}
	start := time.Now()
	running(t, l)
	flushed(t, l, 10*time.Second)
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("Retry-After: 1 not honoured: delivered after %v", waited)
	}
	// The first incident was tried four times: 429, 500 and 503 were
	// retried, 400 was not; the others went through.
	checkPushed(t, srv.got(), incs[1:])
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"retries", testutil.ToFloat64(m.Retries.WithLabelValues("loki")), 3},
		{"rejected", testutil.ToFloat64(m.Rejected.WithLabelValues("loki")), 1},
		{"delivered", testutil.ToFloat64(m.Delivered.WithLabelValues("loki")), 3},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if n := testutil.ToFloat64(m.Failures.WithLabelValues("loki", "http_429")); n != 1 {
		t.Errorf("failures{http_429} = %v", n)
	}
	rej, err := os.ReadFile(filepath.Join(spool, rejectedFile))
	if err != nil || !strings.Contains(string(rej), `"id":"inc-0000"`) || !strings.Contains(string(rej), "400 Bad Request") {
		t.Errorf("rejected.jsonl: %s %v", rej, err)
	}
}

// TestLokiOutage: Loki goes away (its port closed) while incidents keep
// coming; once it listens again on the same port, every incident is
// delivered, in order.
func TestLokiOutage(t *testing.T) {
	srv := newLokiServer(t, "team-a", "Bearer s3cret")
	m := NewMetrics(nil)
	l, err := NewLoki(lokiOptions(t, srv, LokiJSON, t.TempDir(), m))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	running(t, l)
	incs := numbered(150)
	for _, inc := range incs[:10] {
		l.Send(context.Background(), inc)
	}
	flushed(t, l, 5*time.Second)
	srv.stop()
	// SIGTAIL_TEST_OUTAGE=1m makes it longer, by hand.
	outage := 1500 * time.Millisecond
	if d, err := time.ParseDuration(os.Getenv("SIGTAIL_TEST_OUTAGE")); err == nil && d > 0 {
		outage = d
	}
	start := time.Now()
	for i, inc := range incs[10:] {
		if err := l.Send(context.Background(), inc); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(outage / 14)
		}
	}
	time.Sleep(outage - time.Since(start))
	if n := len(srv.got()); n != 10 {
		t.Fatalf("%d delivered during the outage", n)
	}
	if testutil.ToFloat64(m.SpoolPending.WithLabelValues("loki")) == 0 {
		t.Error("spool pending bytes 0 during the outage")
	}
	srv.start()
	flushed(t, l, 10*time.Second)
	got := srv.got()
	if g, w := streamOrder(got), sortedByStream(incs, ""); fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("after the outage, streams:\n got %v\nwant %v", g, w)
	}
	if r := testutil.ToFloat64(m.Retries.WithLabelValues("loki")); r == 0 {
		t.Error("no retries counted during the outage")
	}
	t.Logf("outage of %v: %d incidents delivered after it, %v retries", outage, len(got)-10, testutil.ToFloat64(m.Retries.WithLabelValues("loki")))
}

// TestLokiRestart: a new output on the same spool delivers what the old one
// had not, and nothing it had.
func TestLokiRestart(t *testing.T) {
	srv := newLokiServer(t, "team-a", "Bearer s3cret")
	spool := t.TempDir()
	incs := numbered(30)
	l, err := NewLoki(lokiOptions(t, srv, LokiProtobuf, spool, nil))
	if err != nil {
		t.Fatal(err)
	}
	stop := running(t, l)
	for _, inc := range incs[:10] {
		l.Send(context.Background(), inc)
	}
	flushed(t, l, 5*time.Second)
	srv.stop()
	for _, inc := range incs[10:] {
		l.Send(context.Background(), inc)
	}
	stop()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	srv.start()
	l2, err := NewLoki(lokiOptions(t, srv, LokiProtobuf, spool, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	running(t, l2)
	flushed(t, l2, 10*time.Second)
	got := srv.got()
	if g, w := streamOrder(got), sortedByStream(incs, ""); fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("after restart, streams:\n got %v\nwant %v", g, w)
	}
	if r := srv.repeated(); r != 0 {
		t.Errorf("%d entries pushed twice", r)
	}
}

// TestLokiSpoolFull: a full spool refuses with ErrSpoolFull and counts it.
func TestLokiSpoolFull(t *testing.T) {
	srv := newLokiServer(t, "team-a", "Bearer s3cret")
	m := NewMetrics(nil)
	opt := lokiOptions(t, srv, LokiJSON, t.TempDir(), m)
	opt.SpoolMaxBytes = 16 << 10
	l, err := NewLoki(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var full error
	for _, inc := range numbered(50) {
		if err := l.Send(context.Background(), inc); err != nil {
			full = err
			break
		}
	}
	if !errors.Is(full, ErrSpoolFull) {
		t.Fatalf("Send on a full spool: %v", full)
	}
	if testutil.ToFloat64(m.SpoolFull.WithLabelValues("loki")) != 1 {
		t.Error("spool_full not counted")
	}
}

func TestLokiOptionErrors(t *testing.T) {
	base := func() LokiOptions {
		return LokiOptions{DeliveryOptions: DeliveryOptions{Name: "loki", Spool: t.TempDir()}, HTTP: HTTPOptions{URL: "http://127.0.0.1:3100/loki/api/v1/push"}}
	}
	for _, tt := range []struct {
		change func(*LokiOptions)
		want   string
	}{
		{func(o *LokiOptions) { o.Encoding = "xml" }, `unknown Loki encoding "xml"`},
		{func(o *LokiOptions) { o.HTTP.URL = "ftp://x" }, "want http:// or https://"},
		{func(o *LokiOptions) { o.HTTP.URL = "" }, "want http:// or https://"},
		{func(o *LokiOptions) { o.Labels = map[string]string{"rule": "x"} }, `label "rule" is set by sigtail`},
		{func(o *LokiOptions) { o.Labels = map[string]string{"a-b": "x"} }, `label name "a-b"`},
		{func(o *LokiOptions) { o.HTTP.Auth = Auth{Username: "u", BearerToken: "t"} }, "exclusive"},
		{func(o *LokiOptions) { o.Spool = "" }, "no spool directory"},
	} {
		o := base()
		tt.change(&o)
		if _, err := NewLoki(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {"-1", 0}, {"soon", 0}, {"100000", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// bindTimes gives incs event times: each opened at base plus its index in
// seconds, except those in old, opened at 10:00, before any cutoff.
func bindTimes(incs []*incident.Incident, base time.Time, old ...int) {
	for i, inc := range incs {
		inc.Status, inc.FirstSeen = incident.StatusOpen, base.Add(time.Duration(i)*time.Second)
		if slices.Contains(old, i) {
			inc.FirstSeen = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		}
		inc.LastSeen = inc.FirstSeen
	}
}

// storedOnce checks that Loki holds each of want exactly once, stamped with
// its event time, and nothing else.
func storedOnce(t *testing.T, got []pushed, want []*incident.Incident) {
	t.Helper()
	n := map[string]int{}
	for _, p := range got {
		var inc incident.Incident
		if err := json.Unmarshal([]byte(p.Line), &inc); err != nil {
			t.Fatalf("line is not incident JSON: %v", err)
		}
		n[inc.ID]++
		if !p.At.Equal(inc.FirstSeen) {
			t.Errorf("%s stamped %v, want its event time %v", inc.ID, p.At, inc.FirstSeen)
		}
	}
	for _, inc := range want {
		if n[inc.ID] != 1 {
			t.Errorf("%s stored %d times, want once", inc.ID, n[inc.ID])
		}
		delete(n, inc.ID)
	}
	if len(n) > 0 {
		t.Errorf("stored beyond what was wanted: %v", n)
	}
}

// rejectedIDs lists the incidents in a spool's rejected.jsonl, and the
// errors kept with them.
func rejectedIDs(t *testing.T, spool string) (ids, errs []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(spool, rejectedFile))
	if err != nil {
		t.Fatalf("rejected.jsonl: %v", err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct {
			Error    string            `json:"error"`
			Incident incident.Incident `json:"incident"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("rejected.jsonl line %q: %v", l, err)
		}
		ids, errs = append(ids, r.Incident.ID), append(errs, r.Error)
	}
	return ids, errs
}

// TestLokiPartialRejection: Loki stores the entries of a push it can and
// answers 400 naming the others (here, one too old). The push's entries
// are then sent one by one: only the old one is kept in rejected.jsonl,
// and the others are stored once (sent again unchanged, they are exact
// repeats, which Loki drops).
func TestLokiPartialRejection(t *testing.T) {
	for _, enc := range []LokiEncoding{LokiJSON, LokiProtobuf} {
		t.Run(string(enc), func(t *testing.T) {
			srv := newLokiServer(t, "team-a", "Bearer s3cret")
			base := time.Date(2026, 11, 24, 11, 50, 0, 0, time.UTC)
			srv.refuseOlderThan(base.Add(-20 * time.Minute))
			m := NewMetrics(nil)
			spool := t.TempDir()
			opt := lokiOptions(t, srv, enc, spool, m)
			opt.MaxAge = 24 * time.Hour // stamp even the old one with its event time
			l, err := NewLoki(opt)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			incs := numbered(6)
			bindTimes(incs, base, 2)
			for _, inc := range incs { // before Run: one push
				l.Send(context.Background(), inc)
			}
			running(t, l)
			flushed(t, l, 10*time.Second)
			if p := srv.problems(); len(p) > 0 {
				t.Fatalf("the server refused pushes: %v", p)
			}
			storedOnce(t, srv.got(), slices.Delete(slices.Clone(incs), 2, 3))
			if srv.repeated() == 0 {
				t.Error("no entry was sent again: was the push partially refused?")
			}
			ids, errs := rejectedIDs(t, spool)
			if len(ids) != 1 || ids[0] != "inc-0002" || !strings.Contains(errs[0], "timestamp too old") {
				t.Errorf("rejected.jsonl holds %v (%q), want inc-0002 alone", ids, errs)
			}
			if d, r := testutil.ToFloat64(m.Delivered.WithLabelValues("loki")), testutil.ToFloat64(m.Rejected.WithLabelValues("loki")); d != 5 || r != 1 {
				t.Errorf("delivered %v rejected %v, want 5 and 1", d, r)
			}
		})
	}
}

// TestLokiPartialRejectionResumes: a failure worth retrying while the
// entries go one by one is retried from the entry it stopped at: what was
// decided is neither sent nor rejected again.
func TestLokiPartialRejectionResumes(t *testing.T) {
	srv := newLokiServer(t, "team-a", "Bearer s3cret")
	base := time.Date(2026, 11, 24, 11, 50, 0, 0, time.UTC)
	srv.refuseOlderThan(base.Add(-20 * time.Minute))
	// 1: the push of 4, partly refused; 2: inc-0000 alone; 3: inc-0001
	// alone, refused; 4: inc-0002 alone, 503; 5: inc-0002 and inc-0003.
	srv.failRequest(4, failure{status: http.StatusServiceUnavailable})
	m := NewMetrics(nil)
	spool := t.TempDir()
	opt := lokiOptions(t, srv, LokiProtobuf, spool, m)
	opt.MaxAge = 24 * time.Hour
	l, err := NewLoki(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	incs := numbered(4)
	bindTimes(incs, base, 1)
	for _, inc := range incs {
		l.Send(context.Background(), inc)
	}
	running(t, l)
	flushed(t, l, 10*time.Second)
	storedOnce(t, srv.got(), slices.Delete(slices.Clone(incs), 1, 2))
	if ids, _ := rejectedIDs(t, spool); len(ids) != 1 || ids[0] != "inc-0001" {
		t.Errorf("rejected.jsonl holds %v, want inc-0001 once", ids)
	}
	srv.mu.Lock()
	requests := srv.requests
	srv.mu.Unlock()
	if requests != 5 {
		t.Errorf("%d requests, want 5", requests)
	}
	if r := testutil.ToFloat64(m.Retries.WithLabelValues("loki")); r != 1 {
		t.Errorf("retries %v, want 1", r)
	}
	if d := testutil.ToFloat64(m.Delivered.WithLabelValues("loki")); d != 3 {
		t.Errorf("delivered %v, want 3", d)
	}
}

// TestLokiEntryTime: an entry is stamped with the incident's event time
// (first_seen while open, last_seen after) when it is at most MaxAge
// before the take time, else with the take time.
func TestLokiEntryTime(t *testing.T) {
	l, err := NewLoki(LokiOptions{DeliveryOptions: DeliveryOptions{Name: "loki", Spool: t.TempDir()}, HTTP: HTTPOptions{URL: "http://127.0.0.1:3100/loki/api/v1/push"}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.opt.MaxAge != time.Hour {
		t.Errorf("default MaxAge %v, want 1h", l.opt.MaxAge)
	}
	taken := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name        string
		status      incident.Status
		first, last time.Duration // before taken; <0: zero time
		maxAge      time.Duration
		want        time.Duration // before taken
	}{
		{"open: first seen", incident.StatusOpen, 10 * time.Minute, time.Minute, time.Hour, 10 * time.Minute},
		{"updated: last seen", incident.StatusUpdated, 10 * time.Minute, time.Minute, time.Hour, time.Minute},
		{"resolved: last seen", incident.StatusResolved, 10 * time.Minute, time.Minute, time.Hour, time.Minute},
		{"superseded: last seen", incident.StatusSuperseded, 10 * time.Minute, time.Minute, time.Hour, time.Minute},
		{"at max age", incident.StatusUpdated, 2 * time.Hour, time.Hour, time.Hour, time.Hour},
		{"older than max age", incident.StatusUpdated, 3 * time.Hour, 2 * time.Hour, time.Hour, 0},
		{"open, too old", incident.StatusOpen, 2 * time.Hour, time.Minute, time.Hour, 0},
		{"no event time", incident.StatusOpen, -1, time.Minute, time.Hour, 0},
		{"after the take time", incident.StatusUpdated, 0, -time.Minute, time.Hour, 0},
		{"max age negative", incident.StatusUpdated, 10 * time.Minute, time.Minute, -1, 0},
	} {
		at := func(d time.Duration) time.Time {
			if d == -1 {
				return time.Time{}
			}
			return taken.Add(-d)
		}
		l.opt.MaxAge = tt.maxAge
		inc := &incident.Incident{Status: tt.status, FirstSeen: at(tt.first), LastSeen: at(tt.last)}
		if tt.last == -time.Minute {
			inc.LastSeen = taken.Add(time.Minute)
		}
		if got := l.entryTime(entry{At: taken, Inc: inc}); !got.Equal(taken.Add(-tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, got, taken.Add(-tt.want))
		}
	}
}

func TestLokiLine(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 0, 0, 5, time.FixedZone("CET", 3600))
	for in, want := range map[string]string{
		`{"id":"x"}`:  `{"id":"x","taken_at":"2026-11-24T11:00:00.000000005Z"}`,
		`{"id":"x"} `: `{"id":"x","taken_at":"2026-11-24T11:00:00.000000005Z"}`,
		`{}`:          `{"taken_at":"2026-11-24T11:00:00.000000005Z"}`,
		`[1]`:         `[1]`,
	} {
		if got := lokiLine([]byte(in), at); got != want {
			t.Errorf("lokiLine(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestLokiStreamsSorted: within a push, a stream's entries are in order of
// time (ties in spool order), in both encodings, whatever order the
// incidents were taken in.
func TestLokiStreamsSorted(t *testing.T) {
	l := &Loki{opt: LokiOptions{Job: "sigtail", Host: "fallback", MaxAge: time.Hour}}
	taken := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var batch []entry
	for i, ago := range []time.Duration{5, 40, 1, 40, 20, 90} { // minutes; 90 is past MaxAge
		inc := *sample()[0]
		inc.ID, inc.Status = fmt.Sprintf("inc-%d", i), incident.StatusUpdated
		inc.LastSeen = taken.Add(-ago * time.Minute)
		b, _ := json.Marshal(&inc)
		batch = append(batch, entry{At: taken.Add(time.Duration(i) * time.Millisecond), JSON: b, Inc: &inc})
	}
	streams := l.streams(batch)
	for name, decode := range map[string]func() ([]pushed, error){
		"json":     func() ([]pushed, error) { return decodeLokiJSON(encodeLokiJSON(streams)) },
		"protobuf": func() ([]pushed, error) { return decodeLokiProto(encodeLokiProto(streams)) },
	} {
		got, err := decode()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i, p := range got {
			var inc incident.Incident
			json.Unmarshal([]byte(p.Line), &inc)
			ids = append(ids, inc.ID)
			if i > 0 && p.At.Before(got[i-1].At) {
				t.Errorf("%s: entry %d at %v before %v", name, i, p.At, got[i-1].At)
			}
		}
		if want := "inc-1 inc-3 inc-4 inc-0 inc-2 inc-5"; strings.Join(ids, " ") != want {
			t.Errorf("%s: order %v, want %s", name, ids, want)
		}
	}
}
