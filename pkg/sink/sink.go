// Package sink delivers incidents to where people look: standard output as
// JSON lines or as text for a terminal (and, for the daemon, journald,
// Loki, Alertmanager and webhooks).
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
type Sink interface {
	Send(ctx context.Context, inc *incident.Incident) error
	Close() error
}
