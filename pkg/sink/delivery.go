package sink

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/incident"
)

// DeliveryOptions are what every output with a remote end shares: where
// it spools, how it backs off, and what it reports to.
type DeliveryOptions struct {
	// Name names the output in metrics and logs ("loki", "webhook-2").
	Name string
	// Spool is the spool directory (required) and SpoolMaxBytes its cap
	// (default 256 MiB).
	Spool         string
	SpoolMaxBytes int64
	// MinBackoff and MaxBackoff bound the wait between failed attempts
	// (defaults 500ms and 1m); it doubles after each failure, with ±20%
	// jitter, and a Retry-After from the remote end takes its place.
	MinBackoff, MaxBackoff time.Duration
	Metrics                *Metrics
	Log                    zerolog.Logger
	// Now is the wall clock (default time.Now): the time an incident is
	// taken, and what an HTTP-date Retry-After is measured from.
	Now func() time.Time
}

// spooled is the durable half every remote output shares. Send appends
// the incident to the spool and returns: it never waits for the remote end.
// run, owned by the output's Run, drains the spool in order, in batches,
// through deliver, retrying with backoff until the remote end takes each
// batch or refuses it for good (then the batch is kept in rejected.jsonl).
//
// An optional tick runs every tickEvery in the same goroutine (the
// Alertmanager output resends firing alerts with it), so deliver and tick
// share state without locks.
type spooled struct {
	opt   DeliveryOptions
	spool *Spool
	log   zerolog.Logger
	m     *Metrics

	deliver    func(ctx context.Context, batch []entry) error
	batchMax   int
	batchBytes int
	batchWait  time.Duration
	tickEvery  time.Duration
	tick       func(ctx context.Context)
}

// entry is a spooled incident: when it was taken, its JSON and the
// decoded incident.
type entry struct {
	At       time.Time
	JSON     []byte
	Inc      *incident.Incident
	Previous bool // spooled by an earlier run
}

// deliveryError is a failed delivery. A permanent one is not tried again.
type deliveryError struct {
	err        error
	reason     string // for the failures metric: "network", "http_503", ...
	permanent  bool
	retryAfter time.Duration
	status     int // the HTTP status that refused it, if any
}

func (e *deliveryError) Error() string { return e.err.Error() }
func (e *deliveryError) Unwrap() error { return e.err }

const maxRetryAfter = 10 * time.Minute

func newSpooled(opt DeliveryOptions) (*spooled, error) {
	if opt.Name == "" {
		return nil, errors.New("an output needs a name")
	}
	if opt.Spool == "" {
		return nil, fmt.Errorf("output %s: no spool directory", opt.Name)
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 500 * time.Millisecond
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Minute
	}
	opt.MaxBackoff = max(opt.MaxBackoff, opt.MinBackoff)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Metrics == nil {
		opt.Metrics = NewMetrics(nil)
	}
	sp, err := OpenSpool(opt.Spool, SpoolOptions{MaxBytes: opt.SpoolMaxBytes})
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", opt.Name, err)
	}
	q := &spooled{opt: opt, spool: sp, m: opt.Metrics, batchMax: 1, batchBytes: 1 << 20,
		log: opt.Log.With().Str("output", opt.Name).Logger()}
	q.gauges()
	return q, nil
}

// encodeEnvelope is what is spooled for an incident: the time it was taken
// (8 bytes, Unix nanoseconds, little-endian) and its JSON.
// The JSON is that of the stdout output (no HTML escaping).
func encodeEnvelope(at time.Time, inc *incident.Incident) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(make([]byte, 8))
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(inc); err != nil {
		return nil, err
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	binary.LittleEndian.PutUint64(out, uint64(at.UnixNano()))
	return out, nil
}

func decodeEnvelope(p []byte) (entry, error) {
	if len(p) < 8 {
		return entry{}, fmt.Errorf("spooled record of %d bytes is too short", len(p))
	}
	e := entry{At: time.Unix(0, int64(binary.LittleEndian.Uint64(p[:8]))).UTC(), JSON: p[8:], Inc: new(incident.Incident)}
	if err := json.Unmarshal(e.JSON, e.Inc); err != nil {
		return entry{}, fmt.Errorf("decoding a spooled incident: %w", err)
	}
	return e, nil
}

// send takes inc durably into the spool.
func (q *spooled) send(inc *incident.Incident) error {
	p, err := encodeEnvelope(q.opt.Now(), inc)
	if err != nil {
		return fmt.Errorf("output %s: encoding incident %s: %w", q.opt.Name, inc.ID, err)
	}
	if err := q.spool.Append(p); err != nil {
		if errors.Is(err, ErrSpoolFull) {
			q.m.SpoolFull.WithLabelValues(q.opt.Name).Inc()
		}
		return fmt.Errorf("output %s: taking incident %s: %w", q.opt.Name, inc.ID, err)
	}
	q.m.Queued.WithLabelValues(q.opt.Name).Inc()
	q.gauges()
	return nil
}

func (q *spooled) gauges() {
	st := q.spool.Stats()
	q.m.SpoolBytes.WithLabelValues(q.opt.Name).Set(float64(st.Bytes))
	q.m.SpoolPending.WithLabelValues(q.opt.Name).Set(float64(st.Pending))
	q.m.SpoolCorrupt.WithLabelValues(q.opt.Name).Set(float64(st.Corrupt))
}

// run delivers until ctx is done, then returns nil; what is not delivered
// stays in the spool.
func (q *spooled) run(ctx context.Context) error {
	var tick <-chan time.Time
	if q.tickEvery > 0 && q.tick != nil {
		t := time.NewTicker(q.tickEvery)
		defer t.Stop()
		tick = t.C
	}
	backoff := q.opt.MinBackoff
	var batch []Record
	for {
		if batch == nil {
			var err error
			batch, err = q.collect(ctx, tick)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil && len(batch) == 0 {
				q.log.Error().Err(err).Msg("cannot read the spool")
				q.m.Failures.WithLabelValues(q.opt.Name, "spool").Inc()
				if !q.sleep(ctx, tick, jitter(backoff)) {
					return nil
				}
				backoff = min(2*backoff, q.opt.MaxBackoff)
				continue
			}
		}
		rest, err := q.deliverBatch(ctx, batch)
		if err == nil {
			batch, backoff = nil, q.opt.MinBackoff
			continue
		}
		// What was decided is acknowledged; the rest is tried again.
		batch = rest
		if ctx.Err() != nil {
			return nil
		}
		var de *deliveryError
		reason, wait := "error", jitter(backoff)
		if errors.As(err, &de) {
			reason = de.reason
			if de.retryAfter > 0 {
				wait = min(de.retryAfter, maxRetryAfter)
			}
		}
		q.m.Failures.WithLabelValues(q.opt.Name, reason).Inc()
		q.m.Retries.WithLabelValues(q.opt.Name).Inc()
		q.log.Warn().Err(err).Int("incidents", len(batch)).Dur("retry_in", wait).Msg("delivery failed; will retry")
		if !q.sleep(ctx, tick, wait) {
			return nil
		}
		backoff = min(2*backoff, q.opt.MaxBackoff)
	}
}

func isPermanent(err error) bool {
	var de *deliveryError
	return errors.As(err, &de) && de.permanent
}

func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// sleep waits d, running ticks meanwhile; false when ctx ended it.
func (q *spooled) sleep(ctx context.Context, tick <-chan time.Time, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-tick:
			q.tick(ctx)
		case <-ctx.Done():
			return false
		}
	}
}

// collect waits for the first record, then up to batchWait for more, up
// to batchMax records and about batchBytes.
func (q *spooled) collect(ctx context.Context, tick <-chan time.Time) ([]Record, error) {
	var recs []Record
	for {
		var err error
		recs, err = q.spool.Next(q.batchMax, q.batchBytes)
		q.gauges()
		if err != nil || len(recs) > 0 {
			if err != nil {
				return recs, err
			}
			break
		}
		select {
		case <-q.spool.Notify():
		case <-tick:
			q.tick(ctx)
		case <-ctx.Done():
			return nil, nil
		}
	}
	if q.batchWait <= 0 {
		return recs, nil
	}
	size := 0
	for _, r := range recs {
		size += len(r.Payload)
	}
	t := time.NewTimer(q.batchWait)
	defer t.Stop()
	for len(recs) < q.batchMax && size < q.batchBytes {
		select {
		case <-q.spool.Notify():
			more, err := q.spool.Next(q.batchMax-len(recs), q.batchBytes-size)
			for _, r := range more {
				size += len(r.Payload)
			}
			recs = append(recs, more...)
			if err != nil {
				q.log.Error().Err(err).Msg("cannot read the spool")
				return recs, nil
			}
		case <-t.C:
			return recs, nil
		case <-tick:
			q.tick(ctx)
		case <-ctx.Done():
			return recs, nil
		}
	}
	return recs, nil
}

// partialDelivery is how deliver reports a batch it decided only part of,
// or whose entries the remote end judged one by one: the first done
// entries are decided, those at the indexes in refused refused for good
// (each with why) and the others delivered; err, when not nil, stopped
// delivery at entry done, which is tried again from there.
type partialDelivery struct {
	done    int
	refused map[int]error
	err     error
}

func (p *partialDelivery) Error() string {
	msg := fmt.Sprintf("%d entries decided, %d of them refused", p.done, len(p.refused))
	if p.err != nil {
		msg += ", then: " + p.err.Error()
	}
	return msg
}

func (p *partialDelivery) Unwrap() error { return p.err }

// deliverBatch decodes the records, hands them to deliver, counts and
// rejects what was decided and acknowledges it in the spool. It returns
// the records still to deliver, and why they were not (nil: none left). A
// record that cannot be decoded is rejected on its own.
func (q *spooled) deliverBatch(ctx context.Context, batch []Record) ([]Record, error) {
	ents := make([]entry, 0, len(batch))
	at := make([]int, 0, len(batch)) // the index in batch of each entry
	for i, r := range batch {
		e, err := decodeEnvelope(r.Payload)
		if err != nil {
			continue
		}
		e.Previous = r.Previous
		ents = append(ents, e)
		at = append(at, i)
	}
	var err error
	if len(ents) > 0 {
		err = q.deliver(ctx, ents)
	}
	done, refused := len(ents), map[int]error(nil)
	var p *partialDelivery
	switch {
	case err == nil:
	case errors.As(err, &p):
		done, refused, err = min(max(p.done, 0), len(ents)), p.refused, p.err
		switch {
		case done == len(ents):
			err = nil
		case err == nil:
			err = fmt.Errorf("delivery stopped after %d of %d incidents", done, len(ents))
		}
	case isPermanent(err):
		// Refused as a whole: one report.
		recs := make([]Record, len(ents))
		for i := range ents {
			recs[i] = batch[at[i]]
		}
		q.reject(recs, err)
		done, err = 0, nil
	default:
		done = 0
	}
	delivered := done
	for i := range done {
		if why, ok := refused[i]; ok {
			q.reject([]Record{batch[at[i]]}, why)
			delivered--
		}
	}
	if delivered > 0 {
		q.m.Delivered.WithLabelValues(q.opt.Name).Add(float64(delivered))
	}
	// batch[:cut] is decided.
	cut := len(batch)
	if err != nil {
		cut = at[done]
	}
	for i, j := 0, 0; i < cut; i++ {
		if j < len(at) && at[j] == i {
			j++
			continue
		}
		_, why := decodeEnvelope(batch[i].Payload)
		q.reject([]Record{batch[i]}, &deliveryError{err: why, reason: "undecodable", permanent: true})
	}
	if cut > 0 {
		if err := q.spool.Ack(batch[cut-1].End); err != nil {
			// Delivered all the same; a restart may deliver it again.
			q.log.Error().Err(err).Msg("cannot acknowledge delivered incidents in the spool")
		}
		q.gauges()
	}
	return batch[cut:], err
}

const (
	rejectedFile     = "rejected.jsonl"
	maxRejectedBytes = 16 << 20
)

// reject keeps incidents the remote end refused for good in the spool's
// rejected.jsonl (up to 16 MiB), so none is lost without a trace.
func (q *spooled) reject(batch []Record, why error) {
	q.m.Rejected.WithLabelValues(q.opt.Name).Add(float64(len(batch)))
	var de *deliveryError
	reason := "rejected"
	if errors.As(why, &de) {
		reason = de.reason
	}
	q.m.Failures.WithLabelValues(q.opt.Name, reason).Inc()
	path := filepath.Join(q.spool.Dir(), rejectedFile)
	q.log.Error().Err(why).Int("incidents", len(batch)).Str("kept_in", path).Msg("the remote end refused incidents; not retrying them")
	if fi, err := os.Stat(path); err == nil && fi.Size() >= maxRejectedBytes {
		q.log.Error().Str("file", path).Msg("rejected.jsonl is full; the refused incidents are not kept")
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		q.log.Error().Err(err).Msg("cannot keep refused incidents")
		return
	}
	defer f.Close()
	at := q.opt.Now().UTC()
	for _, r := range batch {
		line := struct {
			RejectedAt time.Time       `json:"rejected_at"`
			Error      string          `json:"error"`
			Incident   json.RawMessage `json:"incident,omitempty"`
			Raw        []byte          `json:"raw,omitempty"`
		}{RejectedAt: at, Error: why.Error()}
		if e, err := decodeEnvelope(r.Payload); err == nil {
			line.Incident = e.JSON
		} else {
			line.Raw = r.Payload
		}
		b, _ := json.Marshal(line)
		f.Write(append(b, '\n'))
	}
	if err := f.Sync(); err != nil {
		q.log.Error().Err(err).Msg("cannot keep refused incidents")
	}
}

// flush waits until everything spooled so far was delivered, or ctx is
// done.
func (q *spooled) flush(ctx context.Context) error {
	for {
		done, acked := q.spool.Drained()
		if done {
			return nil
		}
		select {
		case <-acked:
		case <-ctx.Done():
			st := q.spool.Stats()
			return fmt.Errorf("output %s: %d bytes not delivered yet, kept in %s: %w", q.opt.Name, st.Pending, q.spool.Dir(), ctx.Err())
		}
	}
}

func (q *spooled) close() error {
	return q.spool.Close()
}

// spooledSink is the Sink half that every spooled output shares: Send
// puts the incident in the spool, Run delivers it, Flush waits for the
// spool to empty and Close closes it (after Run returned). Outputs embed
// it and supply only how a batch is delivered.
type spooledSink struct{ q *spooled }

// Send spools inc.
func (s spooledSink) Send(_ context.Context, inc *incident.Incident) error { return s.q.send(inc) }

// Run delivers the spool until ctx is done.
func (s spooledSink) Run(ctx context.Context) error { return s.q.run(ctx) }

// Flush waits until everything sent was delivered, or ctx is done.
func (s spooledSink) Flush(ctx context.Context) error { return s.q.flush(ctx) }

// Close closes the spool; call it after Run returned.
func (s spooledSink) Close() error { return s.q.close() }
