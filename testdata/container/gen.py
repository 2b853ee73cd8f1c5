#!/usr/bin/env python3
"""Writes one container's output (Gunicorn error and access logs, nginx's
error and access logs, the app's prints) three ways: as `docker logs`
prints it (plain.log), as docker's json-file driver stores it
(docker-json.log, a long line split into partial entries) and as a CRI
runtime stores it (cri.log, long lines split into P chunks ending in F)."""
import json

lines = [
 ("stderr", "[2026-11-24 10:00:00 +0000] [1] [INFO] Starting gunicorn 23.0.0"),
 ("stderr", "[2026-11-24 10:00:00 +0000] [1] [INFO] Listening at: http://127.0.0.1:8000 (1)"),
 ("stderr", "[2026-11-24 10:00:00 +0000] [1] [INFO] Using worker: sync"),
 ("stderr", "[2026-11-24 10:00:00 +0000] [7] [INFO] Booting worker with pid: 7"),
 ("stderr", "[2026-11-24 10:00:00 +0000] [8] [INFO] Booting worker with pid: 8"),
 ("stdout", "loading settings from /app/config.py"),
 ("stdout", '127.0.0.1 - - [24/Nov/2026:10:00:05 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "curl/8.5.0"'),
 ("stdout", '172.17.0.1 - - [24/Nov/2026:10:00:05 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "curl/8.5.0" 0.003 0.003'),
 ("stdout", "report cache warm-up: " + "x" * 300),
 ("stderr", "[2026-11-24 10:00:40 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:7)"),
 ("stderr", "[2026-11-24 10:00:40 +0000] [7] [ERROR] Error handling request /api/report"),
 ("stderr", "Traceback (most recent call last):"),
 ("stderr", '  File "/usr/local/lib/python3.12/site-packages/gunicorn/workers/sync.py", line 134, in handle'),
 ("stderr", "    self.handle_request(listener, req, client, addr)"),
 ("stderr", '  File "/usr/local/lib/python3.12/site-packages/gunicorn/workers/base.py", line 204, in handle_abort'),
 ("stderr", "    sys.exit(1)"),
 ("stderr", "SystemExit: 1"),
 ("stdout", '172.17.0.1 - - [24/Nov/2026:10:00:40 +0000] "GET /static/app.css HTTP/1.1" 200 1520 "-" "Mozilla/5.0" 0.001 0.001'),
 ("stderr", "[2026-11-24 10:00:40 +0000] [7] [INFO] Worker exiting (pid: 7)"),
 ("stderr", '2026/11/24 10:00:40 [error] 20#20: *3 upstream prematurely closed connection while reading response header from upstream, client: 172.17.0.1, server: _, request: "GET /api/report HTTP/1.1", upstream: "http://127.0.0.1:8000/api/report", host: "localhost"'),
 ("stdout", '172.17.0.1 - - [24/Nov/2026:10:00:40 +0000] "GET /api/report HTTP/1.1" 502 157 "-" "Mozilla/5.0" 30.004 30.004'),
 ("stderr", "[2026-11-24 10:00:41 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?"),
 ("stderr", "[2026-11-24 10:00:41 +0000] [9] [INFO] Booting worker with pid: 9"),
 ("stdout", "report generated in 0.2s"),
]

def stamp(i, nano):
    return "2026-11-24T10:00:%02d.%s" % (min(i * 2, 59), ("%09d" % (1000 + i)) if nano else ("%06d" % (1000 + i)))

with open("plain.log", "w") as f:
    for _, l in lines:
        f.write(l + "\n")
with open("docker-json.log", "w") as f:
    for i, (st, l) in enumerate(lines):
        t = stamp(i, True) + "Z"
        parts = [l[:100], l[100:250], l[250:]] if len(l) > 200 else [l]
        for k, p in enumerate(parts):
            last = k == len(parts) - 1
            f.write(json.dumps({"log": p + ("\n" if last else ""), "stream": st, "time": t}, separators=(",", ":")) + "\n")
with open("cri.log", "w") as f:
    for i, (st, l) in enumerate(lines):
        t = stamp(i, False) + "+00:00"
        if len(l) > 200:
            f.write(f"{t} {st} P {l[:120]}\n{t} {st} F {l[120:]}\n")
        else:
            f.write(f"{t} {st} F {l}\n")
