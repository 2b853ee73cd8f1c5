package sink

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/incident"
)

// TestWebhook: each incident is posted as its JSON, signed, with its
// headers and the bearer token; 503 is retried (the same delivery id), 404
// is refused for good and kept in rejected.jsonl.
func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []incident.Incident
	var deliveries []string
	answers := []int{503, 200, 404} // then 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("X-Sigtail-Signature") != "sha256="+sign("shh", body) || r.URL.Path != "/hook" {
			http.Error(w, "bad headers", http.StatusBadRequest)
			return
		}
		deliveries = append(deliveries, r.Header.Get("X-Sigtail-Delivery"))
		status := 200
		if len(answers) > 0 {
			status, answers = answers[0], answers[1:]
		}
		if status != 200 {
			w.WriteHeader(status)
			return
		}
		var inc incident.Incident
		if err := json.Unmarshal(body, &inc); err != nil || r.Header.Get("X-Sigtail-Incident") != inc.ID ||
			r.Header.Get("X-Sigtail-Status") != string(inc.Status) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		got = append(got, inc)
	}))
	defer srv.Close()
	m := NewMetrics(nil)
	spool := t.TempDir()
	w, err := NewWebhook(WebhookOptions{
		DeliveryOptions: DeliveryOptions{Name: "webhook", Spool: spool, MinBackoff: 10 * time.Millisecond, Metrics: m, Log: zerolog.Nop(), Now: newClock().Now},
		HTTP:            HTTPOptions{URL: srv.URL + "/hook", Auth: Auth{BearerToken: "tok"}}, Secret: "shh",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	running(t, w)
	incs := numbered(4)
	for _, inc := range incs {
		w.Send(context.Background(), inc)
	}
	flushed(t, w, 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	var ids []string
	for _, inc := range got {
		ids = append(ids, inc.ID)
	}
	// inc-0000: 503 then 200; inc-0001: 404, refused; the others at once.
	if strings.Join(ids, " ") != "inc-0000 inc-0002 inc-0003" {
		t.Errorf("delivered %v", ids)
	}
	if len(deliveries) != 5 || deliveries[0] != deliveries[1] || deliveries[1] == deliveries[2] {
		t.Errorf("delivery ids %v: want one per incident, the same on a retry", deliveries)
	}
	if testutil.ToFloat64(m.Rejected.WithLabelValues("webhook")) != 1 || testutil.ToFloat64(m.Retries.WithLabelValues("webhook")) != 1 {
		t.Errorf("rejected %v retries %v", testutil.ToFloat64(m.Rejected.WithLabelValues("webhook")), testutil.ToFloat64(m.Retries.WithLabelValues("webhook")))
	}
	if b, _ := os.ReadFile(filepath.Join(spool, rejectedFile)); !strings.Contains(string(b), `"id":"inc-0001"`) {
		t.Errorf("rejected.jsonl: %s", b)
	}
}
