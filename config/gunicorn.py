"""gunicorn's settings for Citemap: `gunicorn -c config/gunicorn.py config.wsgi` (`make serve`).

Every value can be changed from the environment (gunicorn also reads GUNICORN_CMD_ARGS).
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Processes: about two per core. Each handles THREADS requests at once (gthread), so a slow
# client or a long download does not hold a whole process, and the arbiter's heartbeat does
# not kill a worker that is streaming a large export.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# A fresh process now and then bounds what a leak could grow to.
max_requests = 2000
max_requests_jitter = 200
# Behind a reverse proxy on this machine; set FORWARDED_ALLOW_IPS to the proxy's address
# otherwise, so X-Forwarded-Proto is believed from it only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn's control socket is one path per user: several servers on a machine (a benchmark
# beside a deployment) would take it from each other. Nothing here uses it.
control_socket_disable = True
accesslog = "-"
errorlog = "-"

if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def post_worker_init(worker):
    """Each new worker builds its citation engines in the background (a second or two of CPU
    for APA's and Chicago's), instead of the first source page it serves waiting for them.
    CITATIONS_WARM_UP=0 leaves them to be built on first use."""
    if os.environ.get("CITATIONS_WARM_UP", "1") == "0":
        return
    import logging
    import threading

    def warm_up():
        from apps.library.citations import warm_up as build_engines

        try:
            build_engines()
        except Exception:  # a missing citeproc-js is reported when a page needs it
            logging.getLogger("gunicorn.error").exception("Citation engines not built")

    threading.Thread(target=warm_up, name="citations-warm-up", daemon=True).start()
