package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/internal/services"
	"github.com/sigtail/sigtail/pkg/incident"
)

func startAlertmanager(t *testing.T) string { return services.Alertmanager(t) }

type gettableAlert = services.Alert

func getAlerts(t *testing.T, base, alertname string) []gettableAlert {
	return services.Alerts(t, base, alertname)
}

// TestAlertmanagerReal posts to a real Alertmanager: the incident is an
// active alert with its labels, stays so through resends, and is no longer
// active once resolved.
func TestAlertmanagerReal(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs prometheus-alertmanager")
	}
	base := startAlertmanager(t)
	a, err := NewAlertmanager(AlertmanagerOptions{
		DeliveryOptions: DeliveryOptions{Name: "alertmanager", Spool: t.TempDir(), MinBackoff: 100 * time.Millisecond, Log: zerolog.Nop()},
		HTTP:            HTTPOptions{URL: base}, Resend: time.Second, Host: "web-1",
		GroupFields: func(string) []string { return []string{"address"} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	running(t, a)
	rule := fmt.Sprintf("test.rule_%d", time.Now().UnixNano())
	inc := amIncident("inc-real", rule, incident.StatusOpen, time.Now().Add(-time.Minute).Truncate(time.Second))
	inc.Fields = map[string]string{"address": "127.0.0.1:8000", "pid": "1"}
	a.Send(context.Background(), inc)
	flushed(t, a, 10*time.Second)

	got := getAlerts(t, base, rule)
	if len(got) != 1 {
		t.Fatalf("%d alerts for %s, want 1", len(got), rule)
	}
	al := got[0]
	wantLabels := map[string]string{"alertname": rule, "severity": "critical", "host": "web-1", "instance": "web-1", "address": "127.0.0.1:8000"}
	if labelString(al.Labels) != labelString(wantLabels) {
		t.Errorf("labels %v, want %v", al.Labels, wantLabels)
	}
	if al.Status.State != "active" || al.Annotations["summary"] != inc.Summary || al.Annotations["incident_id"] != "inc-real" ||
		!al.StartsAt.Equal(inc.FirstSeen) {
		t.Errorf("alert %+v", al)
	}
	// Resends move endsAt on.
	firstEnd := al.EndsAt
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got = getAlerts(t, base, rule); len(got) == 1 && got[0].EndsAt.After(firstEnd) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not resent: %+v", got)
		}
	}

	res := *inc
	res.Status = incident.StatusResolved
	a.Send(context.Background(), &res)
	flushed(t, a, 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got = getAlerts(t, base, rule); len(got) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still active after resolution: %+v", got)
		}
	}
}

// TestAlertmanagerRealBindAddresses: two bind failures on two ports (the
// address holds a comma) are two active alerts in a real Alertmanager,
// and one superseded is no longer active while the other stays.
func TestAlertmanagerRealBindAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs prometheus-alertmanager")
	}
	base := startAlertmanager(t)
	a, err := NewAlertmanager(AlertmanagerOptions{
		DeliveryOptions: DeliveryOptions{Name: "alertmanager", Spool: t.TempDir(), MinBackoff: 100 * time.Millisecond, Log: zerolog.Nop()},
		HTTP:            HTTPOptions{URL: base}, Resend: time.Second, Host: "web-1",
		GroupFields: func(string) []string { return []string{"address"} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	running(t, a)
	rule := fmt.Sprintf("test.bind_%d", time.Now().UnixNano())
	var incs []*incident.Incident
	for i, port := range []int{8000, 8001} {
		inc := amIncident(fmt.Sprintf("inc-%d", i), rule, incident.StatusOpen, time.Now().Add(-time.Minute).Truncate(time.Second))
		inc.Fields = map[string]string{"address": fmt.Sprintf("('127.0.0.1', %d)", port)}
		a.Send(context.Background(), inc)
		incs = append(incs, inc)
	}
	flushed(t, a, 10*time.Second)
	got := getAlerts(t, base, rule)
	if len(got) != 2 || got[0].Labels["address"] == got[1].Labels["address"] {
		t.Fatalf("alerts %+v, want two, one per address", got)
	}
	sup := *incs[0]
	sup.Status, sup.SupersededBy = incident.StatusSuperseded, "inc-9"
	a.Send(context.Background(), &sup)
	flushed(t, a, 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got = getAlerts(t, base, rule); len(got) == 1 && got[0].Labels["address"] == "('127.0.0.1', 8001)" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one was superseded: %+v", got)
		}
	}
}
