"""Gunicorn config for the memory scenario: each worker caps its own address
space (RLIMIT_AS, what `ulimit -v` sets) right after the fork, at what it
already maps plus SIGTAIL_E2E_HEADROOM_MB (default 64), so one large
allocation fails inside that worker and never touches the rest of the
machine."""

import os
import resource


def post_fork(server, worker):
    headroom = int(os.environ.get("SIGTAIL_E2E_HEADROOM_MB", "64")) << 20
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                mapped = int(line.split()[1]) << 10
                break
        else:
            mapped = 256 << 20
    limit = mapped + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
