package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDecisiveLines: each of these lines proves a failure by itself, and
// `sigtail scan -` of that one line pasted alone says so.
func TestDecisiveLines(t *testing.T) {
	for _, tt := range []struct{ line, rule string }{
		{`2026/11/24 10:00:00 [error] 812#812: *1 no live upstreams while connecting to upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://app/", host: "x"`, "nginx.upstream_refused"},
		{`2026/11/24 10:00:00 [error] 812#812: *1 connect() to unix:/run/gunicorn.sock failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/", host: "x"`, "nginx.upstream_refused"},
		{`[2026-11-24 10:00:00 +0000] [123] [ERROR] Connection in use: ('127.0.0.1', 8000)`, "gunicorn.bind_failure"},
		{`[2026-11-24 10:00:00 +0000] [124] [INFO] Parent changed, shutting down: <Worker 124>`, "gunicorn.master_gone"},
		{`Nov 24 10:00:00 web-1 kernel: [100.1] gunicorn invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0`, "kernel.oom_killer_ran"},
		{`Nov 24 10:00:00 web-1 kernel: [100.2] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/gunicorn.service,task=gunicorn,pid=2301,uid=33`, "kernel.oom_killer_ran"},
		{`[2026-11-24 10:00:00 +0000] [125] [ERROR] Socket error processing request.`, "gunicorn.request_error"},
		{`[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:7)`, "gunicorn.worker_timeout"},
		{`2026/11/24 10:00:00 [crit] 812#812: accept4() failed (24: Too many open files)`, "nginx.open_files_limit"},
		{`2026/11/24 10:00:00 [alert] 812#812: 1024 worker_connections are not enough`, "nginx.worker_connections"},
		{`203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5.0" 0.002 0.002`, "nginx.server_errors"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			_, out, errs := runCmd(t, tt.line+"\n", "scan", "--timezone", "UTC", "--fail-on", "none", "-")
			var rules []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var inc struct {
					Rule string `json:"rule"`
				}
				if json.Unmarshal([]byte(l), &inc) == nil && inc.Rule != "" {
					rules = append(rules, inc.Rule)
				}
			}
			if len(rules) == 0 || rules[0] != tt.rule {
				t.Errorf("%.60s...: incidents %v, want %s\n%s", tt.line, rules, tt.rule, errs)
			}
		})
	}
}
