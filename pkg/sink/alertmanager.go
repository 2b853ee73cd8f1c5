package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
)

// AlertmanagerOptions configure an Alertmanager output.
type AlertmanagerOptions struct {
	DeliveryOptions
	// HTTP.URL is Alertmanager's base URL (http://alertmanager:9093) or
	// the full /api/v2/alerts endpoint.
	HTTP HTTPOptions
	// Resend is how often firing alerts are sent again (default 1m);
	// a firing alert's endsAt is 4 resends ahead, so alerts of a sigtail
	// that died resolve by themselves.
	Resend time.Duration
	// Host is the host (and instance) label of incidents that carry none;
	// Instance, when set, is the instance label instead of the host.
	Host, Instance string
	// Labels are static labels added to every alert.
	Labels map[string]string
	// GroupFields returns the captures a rule splits incidents by (its
	// group_by); those with a single value (in Fields, not in Values) that
	// are not per-event become labels, whatever characters they hold.
	// Nil: none.
	GroupFields func(rule string) []string
}

// Alertmanager posts incidents to Prometheus Alertmanager's v2 API
// (POST /api/v2/alerts) as alerts: an open or updated incident fires, and
// is posted again every Resend while it stays open; a resolved or
// superseded one (Status.Final) is posted once more with endsAt, which
// resolves it. Alertmanager then groups, silences, inhibits and routes
// them across hosts.
//
// Labels (identity): alertname (the rule), severity, host, instance, the
// rule's group_by captures when they have one value and are not
// per-event, and the static labels. Annotations (text): summary,
// description (the title), remediation, runbook (the diagnostic
// commands), incident_id, superseded_by, count, sources, first_seen,
// last_seen. startsAt is the incident's first_seen.
//
// An incident whose labels change (a group_by capture that gained a second
// value) leaves the alert it was in, which resolves if it was the last
// incident there.
//
// Send spools the incident; Run delivers the spool in order and resends
// the firing alerts. Incidents spooled by an earlier run (found at start)
// are posted once but not resent: that run's engine, which alone could
// resolve them, is gone, so they expire at their endsAt.
type Alertmanager struct {
	spooledSink
	http *httpTarget
	opt  AlertmanagerOptions
	// active are the firing alerts by label set, each with the incidents
	// that share it: an alert resolves when its last incident does. Owned
	// by Run's goroutine.
	active map[string]*amGroup
}

type amGroup struct {
	alert     amAlert
	incidents map[string]bool
}

// amAlert is a postableAlert of the v2 API.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

var _ Sink = (*Alertmanager)(nil)

// highCardinality are captures never made labels: every occurrence has a
// new value.
var highCardinality = map[string]bool{
	"pid": true, "client": true, "remote_addr": true, "request": true, "uri": true, "connection": true,
	"request_time": true, "upstream_response_time": true, "offset": true, "seq": true, "line": true,
}

var reservedAMLabel = map[string]bool{"alertname": true, "severity": true, "host": true, "instance": true}

// NewAlertmanager opens the spool; it starts nothing (Run does).
func NewAlertmanager(opt AlertmanagerOptions) (*Alertmanager, error) {
	if opt.Resend <= 0 {
		opt.Resend = time.Minute
	}
	u := strings.TrimRight(opt.HTTP.URL, "/")
	if u != "" && !strings.HasSuffix(u, "/api/v2/alerts") {
		u += "/api/v2/alerts"
	}
	opt.HTTP.URL = u
	if err := checkLabels(opt.Name, opt.Labels, reservedAMLabel); err != nil {
		return nil, err
	}
	h, q, err := newHTTPSpooled(opt.Name, opt.HTTP, opt.DeliveryOptions, opt.Now)
	if err != nil {
		return nil, err
	}
	a := &Alertmanager{spooledSink: spooledSink{q}, http: h, opt: opt, active: map[string]*amGroup{}}
	q.deliver = a.post
	q.batchMax = 100
	q.batchWait = 0
	q.tickEvery = opt.Resend
	q.tick = a.resend
	return a, nil
}

// alert is inc as an alert, firing (endsAt 4 resends from now) or, when
// resolved or superseded, ended at the time sigtail took it.
func (a *Alertmanager) alert(inc *incident.Incident, takenAt time.Time) amAlert {
	host := inc.Host
	if host == "" {
		host = a.opt.Host
	}
	instance := a.opt.Instance
	if instance == "" {
		instance = host
	}
	labels := maps.Clone(a.opt.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	if a.opt.GroupFields != nil {
		for _, f := range a.opt.GroupFields(inc.Rule) {
			// One value, whatever it holds: a bind address such as
			// ('127.0.0.1', 8000) has a comma and is still one value.
			v, ok := inc.Fields[f]
			if !ok || v == "" || len(inc.Values[f]) > 1 || highCardinality[f] || reservedAMLabel[f] || !validLabelName(f) {
				continue
			}
			labels[f] = v
		}
	}
	labels["alertname"] = inc.Rule
	labels["severity"] = inc.Severity.String()
	if host != "" {
		labels["host"] = host
	}
	if instance != "" {
		labels["instance"] = instance
	}
	ann := map[string]string{
		"summary":       inc.Summary,
		"description":   inc.Title,
		"incident_id":   inc.ID,
		"superseded_by": inc.SupersededBy,
		"count":         strconv.Itoa(inc.Count),
		"sources":       strings.Join(inc.Sources, ", "),
	}
	if inc.Remediation != "" {
		ann["remediation"] = inc.Remediation
	}
	if len(inc.Diagnostics) > 0 {
		lines := make([]string, len(inc.Diagnostics))
		for i, d := range inc.Diagnostics {
			lines[i] = "$ " + d.Command
			if d.Why != "" {
				lines[i] += "    # " + d.Why
			}
		}
		ann["runbook"] = strings.Join(lines, "\n")
	}
	if !inc.FirstSeen.IsZero() {
		ann["first_seen"] = inc.FirstSeen.UTC().Format(time.RFC3339)
	}
	if !inc.LastSeen.IsZero() {
		ann["last_seen"] = inc.LastSeen.UTC().Format(time.RFC3339)
	}
	for k, v := range ann {
		if v == "" {
			delete(ann, k)
		}
	}
	start := inc.FirstSeen
	if start.IsZero() || start.After(takenAt) {
		start = takenAt
	}
	al := amAlert{Labels: labels, Annotations: ann, StartsAt: start.UTC()}
	if inc.Status.Final() {
		al = ended(al, takenAt)
	}
	return al
}

// ended is al resolved at t (after its start: Alertmanager wants endsAt
// after startsAt).
func ended(al amAlert, t time.Time) amAlert {
	al.EndsAt = t.UTC()
	if !al.EndsAt.After(al.StartsAt) {
		al.EndsAt = al.StartsAt.Add(time.Second)
	}
	return al
}

// firing sets a firing alert's endsAt from now.
func (a *Alertmanager) firing(al amAlert) amAlert {
	al.EndsAt = a.q.opt.Now().Add(4 * a.opt.Resend).UTC()
	return al
}

// post applies a batch to the active alerts and posts what changed. The
// active set changes only once Alertmanager took the post, so a retried
// batch is applied to the same state.
func (a *Alertmanager) post(ctx context.Context, batch []entry) error {
	next := make(map[string]*amGroup, len(a.active))
	for k, g := range a.active {
		next[k] = &amGroup{alert: g.alert, incidents: maps.Clone(g.incidents)}
	}
	var order []string
	changed := map[string]amAlert{}
	post := func(key string, al amAlert) {
		if _, ok := changed[key]; !ok {
			order = append(order, key)
		}
		changed[key] = al
	}
	for _, e := range batch {
		al := a.alert(e.Inc, e.At)
		key := labelString(al.Labels)
		final := e.Inc.Status.Final()
		if e.Previous && !final {
			// An earlier run's firing alert: posted once, expires by itself.
			post(key, a.firing(al))
			continue
		}
		// An incident whose labels changed leaves its old alert, which
		// ends with its last incident. An incident is in one group at
		// most, and the groups are the firing alerts: few.
		for k, g := range next {
			if k == key || !g.incidents[e.Inc.ID] {
				continue
			}
			delete(g.incidents, e.Inc.ID)
			if len(g.incidents) == 0 {
				delete(next, k)
				post(k, ended(g.alert, e.At))
			}
			break
		}
		g := next[key]
		if !final {
			if g == nil {
				g = &amGroup{incidents: map[string]bool{}}
				next[key] = g
			}
			g.incidents[e.Inc.ID] = true
			g.alert = al
			post(key, a.firing(al))
			continue
		}
		// Resolved or superseded.
		if g != nil {
			delete(g.incidents, e.Inc.ID)
			if len(g.incidents) > 0 {
				// Another incident with the same labels is still open.
				post(key, a.firing(g.alert))
				continue
			}
			delete(next, key)
		}
		post(key, al)
	}
	alerts := make([]amAlert, 0, len(order))
	for _, k := range order {
		alerts = append(alerts, changed[k])
	}
	if err := a.send(ctx, alerts); err != nil {
		return err
	}
	a.active = next
	return nil
}

// resend posts every firing alert again, with endsAt moved on. A failure
// is only logged: the next resend tries again.
func (a *Alertmanager) resend(ctx context.Context) {
	if len(a.active) == 0 {
		return
	}
	alerts := make([]amAlert, 0, len(a.active))
	for _, k := range slices.Sorted(maps.Keys(a.active)) {
		alerts = append(alerts, a.firing(a.active[k].alert))
	}
	if err := a.send(ctx, alerts); err != nil && ctx.Err() == nil {
		a.q.m.Failures.WithLabelValues(a.opt.Name, "resend").Inc()
		a.q.log.Warn().Err(err).Int("alerts", len(alerts)).Msg("resending firing alerts failed; next resend tries again")
	}
}

func (a *Alertmanager) send(ctx context.Context, alerts []amAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return &deliveryError{err: fmt.Errorf("encoding %d alert(s): %w", len(alerts), err), permanent: true, reason: "encoding"}
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	return a.http.post(ctx, fmt.Sprintf("Alertmanager post of %d alert(s)", len(alerts)), body, hdr)
}

// Announce takes an incident a restarted daemon restored as open: it fires
// again at once and is resent like any other until the engine resolves
// it, so a restart resolves nothing in Alertmanager.
func (a *Alertmanager) Announce(ctx context.Context, inc *incident.Incident) error {
	return a.Send(ctx, inc)
}
