# Gunicorn settings for the shop.
import multiprocessing
import os

bind = "0.0.0.0:8000"
workers = multiprocessing.cpu_count() * 2 + 1
timeout = 60  # the slowest report takes 40 s
max_requests = 1000
max_requests_jitter = 50
worker_class = 'sync'
errorlog = "-"
accesslog = "/var/log/shop/access.log"
backlog = 64
preload_app = True


def post_fork(server, worker):
    workers = 1  # a local of the hook, not the setting
    server.log.info("worker %s", worker.pid)


if os.environ.get("DEBUG"):
    loglevel = "debug"
