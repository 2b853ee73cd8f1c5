package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/incident"
)

// handlerTransport serves requests with a handler in the same process:
// no network, so it works inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// amRecorder records the alerts posted to /api/v2/alerts and answers with
// the statuses it is told to first.
type amRecorder struct {
	mu     sync.Mutex
	posts  [][]amAlert
	bodies [][]byte
	fail   []int
}

func (a *amRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.URL.Path != "/api/v2/alerts" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request "+r.URL.Path, http.StatusBadRequest)
		return
	}
	if len(a.fail) > 0 {
		w.WriteHeader(a.fail[0])
		a.fail = a.fail[1:]
		return
	}
	b, _ := io.ReadAll(r.Body)
	var alerts []amAlert
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&alerts); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.posts = append(a.posts, alerts)
	a.bodies = append(a.bodies, b)
}

func (a *amRecorder) body(i int) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bodies[i]
}

func (a *amRecorder) take() [][]amAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.posts
	a.posts = nil
	return p
}

func amOptions(t *testing.T, rec http.Handler, spool string) AlertmanagerOptions {
	return AlertmanagerOptions{
		DeliveryOptions: DeliveryOptions{Name: "alertmanager", Spool: spool, MinBackoff: time.Second, MaxBackoff: 4 * time.Second, Log: zerolog.Nop()},
		HTTP:            HTTPOptions{URL: "http://alertmanager.test:9093", Client: &http.Client{Transport: handlerTransport{rec}}},
		Resend:          time.Minute, Host: "web-1", Labels: map[string]string{"team": "web"},
		GroupFields: func(rule string) []string {
			if rule == "gunicorn.socket_in_use" {
				return []string{"address", "pid"}
			}
			return nil
		},
	}
}

func amIncident(id, rule string, status incident.Status, first time.Time) *incident.Incident {
	inc := *sample()[0]
	inc.ID, inc.Rule, inc.Status, inc.FirstSeen, inc.LastSeen = id, rule, status, first, first.Add(time.Second)
	if rule == "gunicorn.socket_in_use" {
		inc.Fields = map[string]string{"address": "unix:/run/gunicorn.sock", "pid": "1"}
		inc.Values = map[string][]string{"pid": {"1", "2"}}
	}
	return &inc
}

// TestAlertmanagerLifecycle: an open incident fires at once with its
// labels and annotations, is posted again every resend interval while
// open, and is posted resolved (endsAt) when it resolves, then no more.
func TestAlertmanagerLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &amRecorder{}
		a, err := NewAlertmanager(amOptions(t, rec, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); a.Run(ctx) }()
		defer func() { cancel(); <-done }()

		start := time.Now()
		open := amIncident("inc-1", "gunicorn.socket_in_use", incident.StatusOpen, start.Add(-time.Minute))
		a.Send(ctx, open)
		synctest.Wait()
		posts := rec.take()
		if len(posts) != 1 || len(posts[0]) != 1 {
			t.Fatalf("posts after open: %+v", posts)
		}
		golden, body := "testdata/alertmanager_alerts.json", rec.body(0)
		if *update {
			os.WriteFile(golden, body, 0o644)
		}
		if want, _ := os.ReadFile(golden); !bytes.Equal(body, want) {
			t.Errorf("body differs from %s:\n%s", golden, body)
		}
		al := posts[0][0]
		wantLabels := map[string]string{"alertname": "gunicorn.socket_in_use", "severity": "critical", "host": "web-1",
			"instance": "web-1", "team": "web", "address": "unix:/run/gunicorn.sock"}
		if labelString(al.Labels) != labelString(wantLabels) {
			t.Errorf("labels %v, want %v", al.Labels, wantLabels)
		}
		for _, k := range []string{"summary", "description", "remediation", "runbook", "incident_id"} {
			if al.Annotations[k] == "" {
				t.Errorf("no annotation %s: %v", k, al.Annotations)
			}
		}
		if !al.StartsAt.Equal(open.FirstSeen) || !al.EndsAt.Equal(start.Add(4*time.Minute)) {
			t.Errorf("startsAt %v endsAt %v", al.StartsAt, al.EndsAt)
		}

		// Resent every minute while open, endsAt moving on.
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		posts = rec.take()
		if len(posts) != 1 || !posts[0][0].EndsAt.Equal(start.Add(5*time.Minute)) {
			t.Fatalf("resend: %+v", posts)
		}
		// An update changes nothing but the annotations.
		upd := *open
		upd.Status, upd.Count = incident.StatusUpdated, 7
		a.Send(ctx, &upd)
		synctest.Wait()
		if posts = rec.take(); len(posts) != 1 || posts[0][0].Annotations["count"] != "7" {
			t.Fatalf("update: %+v", posts)
		}

		// Resolved: endsAt is when it was taken; then no more resends.
		resolvedAt := time.Now()
		res := *open
		res.Status = incident.StatusResolved
		a.Send(ctx, &res)
		synctest.Wait()
		posts = rec.take()
		if len(posts) != 1 || !posts[0][0].EndsAt.Equal(resolvedAt) {
			t.Fatalf("resolve: %+v", posts)
		}
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		if posts = rec.take(); len(posts) != 0 {
			t.Errorf("posted after resolution: %+v", posts)
		}
	})
}

// TestAlertmanagerSharedLabels: two incidents with the same labels are one
// alert, resolved only when both are.
func TestAlertmanagerSharedLabels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &amRecorder{}
		a, _ := NewAlertmanager(amOptions(t, rec, t.TempDir()))
		defer a.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); a.Run(ctx) }()
		defer func() { cancel(); <-done }()
		now := time.Now()
		for _, inc := range []*incident.Incident{
			amIncident("a", "gunicorn.worker_timeout", incident.StatusOpen, now),
			amIncident("b", "gunicorn.worker_timeout", incident.StatusOpen, now),
			amIncident("a", "gunicorn.worker_timeout", incident.StatusResolved, now),
		} {
			a.Send(ctx, inc)
			synctest.Wait()
		}
		posts := rec.take()
		if last := posts[len(posts)-1][0]; len(posts) != 3 || !last.EndsAt.After(time.Now()) || last.Annotations["incident_id"] != "b" {
			t.Fatalf("one of two resolved: %+v", posts)
		}
		time.Sleep(2 * time.Second)
		a.Send(ctx, amIncident("b", "gunicorn.worker_timeout", incident.StatusResolved, now))
		synctest.Wait()
		if posts = rec.take(); len(posts) != 1 || !posts[0][0].EndsAt.Equal(time.Now()) {
			t.Fatalf("both resolved: %+v", posts)
		}
	})
}

// TestAlertmanagerRetriesAndPrevious: a 503 is retried with backoff; after
// a restart, an alert spooled by the earlier run is posted once, not
// resent (that run's engine cannot resolve it any more).
func TestAlertmanagerRetriesAndPrevious(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &amRecorder{fail: []int{503, 503}}
		spool := t.TempDir()
		a, _ := NewAlertmanager(amOptions(t, rec, spool))
		a.Send(context.Background(), amIncident("old", "gunicorn.worker_timeout", incident.StatusOpen, time.Now()))
		a.Close() // never ran
		a, _ = NewAlertmanager(amOptions(t, rec, spool))
		defer a.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); a.Run(ctx) }()
		defer func() { cancel(); <-done }()
		a.Send(ctx, amIncident("new", "nginx.upstream_prematurely_closed", incident.StatusOpen, time.Now()))
		time.Sleep(10 * time.Second) // two backoffs
		synctest.Wait()
		posts := rec.take()
		var ids []string
		for _, p := range posts {
			for _, al := range p {
				ids = append(ids, al.Annotations["incident_id"])
			}
		}
		if strings.Join(ids, " ") != "old new" {
			t.Fatalf("after retries: %v", ids)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		posts = rec.take()
		if len(posts) != 1 || len(posts[0]) != 1 || posts[0][0].Annotations["incident_id"] != "new" {
			t.Fatalf("resend: %+v", posts)
		}
	})
}

// runAM runs a's Run inside the bubble until the test ends.
func runAM(t *testing.T, a *Alertmanager) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return ctx
}

// TestAlertmanagerSuperseded: a superseded incident is posted as
// resolved, endsAt the time it was taken, says who superseded it, and is
// not resent.
func TestAlertmanagerSuperseded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &amRecorder{}
		a, _ := NewAlertmanager(amOptions(t, rec, t.TempDir()))
		defer a.Close()
		ctx := runAM(t, a)
		open := amIncident("inc-1", "gunicorn.socket_in_use", incident.StatusOpen, time.Now().Add(-time.Minute))
		a.Send(ctx, open)
		synctest.Wait()
		if posts := rec.take(); len(posts) != 1 || !posts[0][0].EndsAt.After(time.Now()) {
			t.Fatalf("open: %+v", posts)
		}
		time.Sleep(10 * time.Second)
		takenAt := time.Now()
		sup := *open
		sup.Status, sup.SupersededBy = incident.StatusSuperseded, "inc-2"
		a.Send(ctx, &sup)
		synctest.Wait()
		posts := rec.take()
		if len(posts) != 1 || len(posts[0]) != 1 {
			t.Fatalf("superseded: %+v", posts)
		}
		if al := posts[0][0]; !al.EndsAt.Equal(takenAt) || al.Annotations["superseded_by"] != "inc-2" || al.Labels["address"] == "" {
			t.Errorf("superseded alert %+v, want endsAt %v", al, takenAt)
		}
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		if posts = rec.take(); len(posts) != 0 {
			t.Errorf("resent after it was superseded: %+v", posts)
		}
	})
}

// TestAlertmanagerBindAddresses: a group_by capture with one value is a
// label whatever it holds (a Python bind address has a comma), so two
// bind failures on two ports are two alerts; a capture with several values
// is no label; and an incident whose capture gains a second value leaves
// its alert, which resolves.
func TestAlertmanagerBindAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &amRecorder{}
		a, _ := NewAlertmanager(amOptions(t, rec, t.TempDir()))
		defer a.Close()
		ctx := runAM(t, a)
		bind := func(id, addr string, more ...string) *incident.Incident {
			inc := amIncident(id, "gunicorn.socket_in_use", incident.StatusOpen, time.Now().Add(-time.Minute))
			inc.Fields = map[string]string{"address": addr}
			if len(more) > 0 {
				inc.Status = incident.StatusUpdated
				inc.Values = map[string][]string{"address": append([]string{addr}, more...)}
			}
			return inc
		}
		a.Send(ctx, bind("a", "('127.0.0.1', 8000)"))
		a.Send(ctx, bind("b", "('127.0.0.1', 8001)"))
		synctest.Wait()
		var labels []map[string]string
		for _, p := range rec.take() {
			for _, al := range p {
				labels = append(labels, al.Labels)
			}
		}
		if len(labels) != 2 || labels[0]["address"] != "('127.0.0.1', 8000)" || labels[1]["address"] != "('127.0.0.1', 8001)" ||
			labelString(labels[0]) == labelString(labels[1]) {
			t.Fatalf("two bind failures: labels %v", labels)
		}

		// c starts with one address, then gains a second: its alert with
		// the address label resolves, one without it fires.
		a.Send(ctx, bind("c", "('127.0.0.1', 8002)"))
		synctest.Wait()
		if posts := rec.take(); len(posts) != 1 || posts[0][0].Labels["address"] != "('127.0.0.1', 8002)" {
			t.Fatalf("c opened: %+v", posts)
		}
		a.Send(ctx, bind("c", "('127.0.0.1', 8002)", "('127.0.0.1', 8003)"))
		synctest.Wait()
		posts := rec.take()
		if len(posts) != 1 || len(posts[0]) != 2 {
			t.Fatalf("c gained a value: %+v", posts)
		}
		for _, al := range posts[0] {
			switch al.Labels["address"] {
			case "('127.0.0.1', 8002)":
				if !al.EndsAt.Equal(time.Now()) {
					t.Errorf("c's old alert not resolved: %+v", al)
				}
			case "":
				if !al.EndsAt.After(time.Now()) {
					t.Errorf("c's alert without address not firing: %+v", al)
				}
			default:
				t.Errorf("unexpected alert %+v", al)
			}
		}
		// Resends: a, b and c without address; nothing of c's old alert.
		time.Sleep(time.Minute)
		synctest.Wait()
		posts = rec.take()
		var addrs []string
		for _, p := range posts {
			for _, al := range p {
				addrs = append(addrs, al.Labels["address"])
			}
		}
		slices.Sort(addrs)
		if want := []string{"", "('127.0.0.1', 8000)", "('127.0.0.1', 8001)"}; !slices.Equal(addrs, want) {
			t.Errorf("resent addresses %q, want %q", addrs, want)
		}
	})
}
