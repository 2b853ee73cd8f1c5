// Package sink delivers incidents to where people look: standard output as
// JSON lines or as text for a terminal, and, for the daemon, journald,
// Grafana Loki, Prometheus Alertmanager and webhooks.
//
// The outputs with a remote end (Journald, Loki, Alertmanager, Webhook)
// hide the remote end's moods behind a Spool: Send appends the incident to
// an on-disk queue, fsynced, and returns, so a slow or dead remote end
// never holds up the daemon or the other outputs; their Run method, which
// the daemon runs in a goroutine of its own, drains the spool in order,
// retrying with backoff until the remote end takes each batch. The spool
// survives restarts, so an outage of Loki or Alertmanager loses nothing:
// everything is delivered, in order, once it is back. Only a full spool
// (its size is capped) refuses incidents, with ErrSpoolFull.
//
// Delivery is at least once: a crash between a delivery and its
// acknowledgement in the spool delivers that batch again. Loki drops an
// exact repeat of an entry, Alertmanager merges a repeated alert, and
// webhook receivers get X-Sigtail-Delivery to drop repeats.
package sink

import (
	"context"

	"github.com/sigtail/sigtail/pkg/incident"
)

// Sink accepts incidents. Send returns only once the sink has taken the
// incident (written it, or stored it durably to deliver later); an error
// means it did not, and the caller must not consider it delivered. Send is
// called from one goroutine at a time. Close flushes and releases; no Send
// follows it.
//
// A sink that delivers in the background also has Run(ctx) error, which
// delivers until ctx is done (constructors start nothing), and
// Flush(ctx) error, which waits until everything sent so far was
// delivered; Close follows Run's return.
type Sink interface {
	Send(ctx context.Context, inc *incident.Incident) error
	Close() error
}
