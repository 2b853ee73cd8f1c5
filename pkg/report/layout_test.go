package report

import (
	"slices"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
)

func TestLanesOf(t *testing.T) {
	formats := map[string]string{"/srv/app/err.log": "gunicorn", "/srv/web/a.log": "nginx-access"}
	tests := []struct {
		name string
		inc  incident.Incident
		want []string
	}{
		{"by signature, whatever the path",
			incident.Incident{Evidence: []incident.Evidence{{Source: "/srv/x.log", Signature: "gunicorn.worker_timeout"}, {Source: "/srv/y.log", Signature: "nginx.access_502,nginx.access_5xx"}}},
			[]string{"Gunicorn", "nginx"}},
		{"systemd lines are kernel records",
			incident.Incident{Evidence: []incident.Evidence{{Source: "/var/log/syslog", Signature: "systemd.unit_oom_kill"}}},
			[]string{"kernel"}},
		{"a source no kept evidence came from, by the format the scan detected",
			incident.Incident{Sources: []string{"/srv/app/err.log", "/srv/web/a.log"}, Evidence: []incident.Evidence{{Source: "/srv/app/err.log", Signature: "gunicorn.worker_sigkill"}}},
			[]string{"Gunicorn", "nginx"}},
		{"by path when nothing else says",
			incident.Incident{Sources: []string{"/var/log/kern.log", "/var/log/caddy/access.log", "probe", "/dev/kmsg", "/var/log/app.log"}},
			[]string{"kernel", "Caddy", "probe", "other"}},
		{"nothing at all: the rule's technology",
			incident.Incident{Rule: "caddy.upstream_down"},
			[]string{"Caddy"}},
		{"an unknown rule with nothing else",
			incident.Incident{Rule: "process.core_dump"},
			[]string{"other"}},
	}
	for _, tt := range tests {
		var got []string
		for _, l := range lanesOf(&tt.inc, formats) {
			got = append(got, laneNames[l])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: lanes %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTicks(t *testing.T) {
	day := func(d, h, m, s int) time.Time { return time.Date(2026, 11, d, h, m, s, 0, time.UTC) }
	tests := []struct {
		from, to    time.Time
		first, last string
		caption     string
	}{
		{day(24, 9, 58, 10), day(24, 9, 59, 50), "09:58:10", "09:59:50", "UTC, 2026-11-24"},
		{day(24, 9, 55, 0), day(24, 10, 55, 0), "10:00", "10:50", "UTC, 2026-11-24"},
		{day(24, 20, 0, 0), day(25, 4, 0, 0), "Nov 24 20:00", "Nov 25 04:00", "UTC, 2026-11-24 to 2026-11-25"},
		{day(1, 0, 0, 0), day(30, 0, 0, 0), "Nov 2", "Nov 30", "UTC, 2026-11-01 to 2026-11-30"},
	}
	for _, tt := range tests {
		ts, caption := ticks(domain{tt.from, tt.to})
		if len(ts) < 2 || len(ts) > 12 {
			t.Errorf("%v..%v: %d ticks", tt.from, tt.to, len(ts))
			continue
		}
		if ts[0].Label != tt.first || ts[len(ts)-1].Label != tt.last || caption != tt.caption {
			t.Errorf("%v..%v: ticks %q..%q, %q; want %q..%q, %q", tt.from, tt.to, ts[0].Label, ts[len(ts)-1].Label, caption, tt.first, tt.last, tt.caption)
		}
	}
}

func TestYTicks(t *testing.T) {
	for top, want := range map[int][]int{1: {0, 1}, 3: {0, 1, 2, 3}, 4: {0, 1, 2, 3, 4}, 9: {0, 2, 4, 6, 8}, 17: {0, 5, 10, 15}, 64: {0, 20, 40, 60}} {
		if got := yTicks(top); !slices.Equal(got, want) {
			t.Errorf("yTicks(%d) = %v, want %v", top, got, want)
		}
	}
}
