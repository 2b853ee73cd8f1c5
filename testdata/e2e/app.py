"""The WSGI app the end-to-end test runs under Gunicorn behind nginx.

Each path makes a worker behave one of the ways the knowledge page describes;
every one of them is bounded (seconds, megabytes) so a test run never takes
the machine down with it.

  /            a tiny page (normal traffic)
  /pid         the worker's pid, to pick a worker to kill
  /sleep?s=N   sleeps N seconds (at most 30): slower than --timeout on a
               sync worker, or long enough for a client to give up
  /spin?s=N    burns the CPU in pure Python for N seconds (at most 30):
               under gevent nothing else in the worker runs meanwhile
  /alloc?mb=N  allocates N MiB (at most 1024) and touches it: fails with
               MemoryError under the RLIMIT_AS that memlimit.py sets
"""

import os
import time
from urllib.parse import parse_qs


def _arg(environ, name, default, most):
    try:
        value = float(parse_qs(environ.get("QUERY_STRING", "")).get(name, [default])[0])
    except ValueError:
        value = float(default)
    return max(0.0, min(value, most))


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/pid":
        body = b"%d\n" % os.getpid()
    elif path == "/sleep":
        time.sleep(_arg(environ, "s", 1, 30))
        body = b"slept\n"
    elif path == "/spin":
        end = time.monotonic() + _arg(environ, "s", 1, 30)
        n = 0
        while time.monotonic() < end:
            n += 1
        body = b"spun %d\n" % n
    elif path == "/alloc":
        size = int(_arg(environ, "mb", 64, 1024)) << 20
        block = bytearray(size)
        block[::4096] = b"x" * len(block[::4096])
        body = b"allocated %d\n" % len(block)
    else:
        body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
