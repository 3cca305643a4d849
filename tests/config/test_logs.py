"""LOG_FORMAT=json: one JSON object per line, for the app's records and gunicorn's access log."""

import json
import logging
import sys

from config.logs import JsonFormatter


def record(name, msg, args=(), exc_info=None, **extra):
    made = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_an_app_record_is_one_json_line_with_its_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        line = JsonFormatter().format(record("apps.jobs", "Job %s failed", (7,), sys.exc_info()))
    assert "\n" not in line.replace("\\n", "")
    data = json.loads(line)
    assert data["level"] == "ERROR" and data["logger"] == "apps.jobs"
    assert data["message"] == "Job 7 failed"
    assert "ValueError: boom" in data["exception"]


def test_a_gunicorn_access_record_keeps_its_fields():
    atoms = {"h": "127.0.0.1", "m": "GET", "U": "/healthz/", "q": "", "s": "200", "B": "52",
             "D": "1840", "a": "curl/8"}  # fmt: skip
    data = json.loads(JsonFormatter().format(record("gunicorn.access", "%(h)s", (atoms,))))
    assert data["path"] == "/healthz/" and data["status"] == 200 and data["duration_us"] == 1840
    assert "query" not in data
