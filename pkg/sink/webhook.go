package sink

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
)

// WebhookOptions configure a webhook output.
type WebhookOptions struct {
	DeliveryOptions
	HTTP HTTPOptions
	// Secret, when set, signs each body: X-Sigtail-Signature is
	// "sha256=" and the hex HMAC-SHA256 of the body with it.
	Secret string
}

// Webhook posts each incident's JSON (the schema of incident.Incident) to
// a URL, one incident per request, in order, with the headers
// X-Sigtail-Incident (its id), X-Sigtail-Status and X-Sigtail-Delivery
// (the same on every retry of one delivery, for receivers that drop
// repeats). A 2xx answer is success; 429 and 5xx are retried with backoff
// (Retry-After honoured); other statuses are refused for good and kept in
// the spool's rejected.jsonl.
type Webhook struct {
	spooledSink
	http *httpTarget
	opt  WebhookOptions
}

var _ Sink = (*Webhook)(nil)

// NewWebhook opens the spool; it starts nothing (Run does).
func NewWebhook(opt WebhookOptions) (*Webhook, error) {
	h, q, err := newHTTPSpooled(opt.Name, opt.HTTP, opt.DeliveryOptions, opt.Now)
	if err != nil {
		return nil, err
	}
	w := &Webhook{spooledSink: spooledSink{q}, http: h, opt: opt}
	q.deliver = w.post
	return w, nil
}

func (w *Webhook) post(ctx context.Context, batch []entry) error {
	for _, e := range batch { // batches are of one
		hdr := http.Header{}
		hdr.Set("Content-Type", "application/json")
		hdr.Set("X-Sigtail-Incident", e.Inc.ID)
		hdr.Set("X-Sigtail-Status", string(e.Inc.Status))
		hdr.Set("X-Sigtail-Delivery", e.Inc.ID+"-"+strconv.FormatInt(e.At.UnixNano(), 10))
		if w.opt.Secret != "" {
			hdr.Set("X-Sigtail-Signature", "sha256="+sign(w.opt.Secret, e.JSON))
		}
		if err := w.http.post(ctx, "webhook post of incident "+e.Inc.ID, e.JSON, hdr); err != nil {
			return err
		}
	}
	return nil
}

// sign is the hex HMAC-SHA256 of body with secret.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
