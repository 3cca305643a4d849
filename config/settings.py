"""Citemap settings, read from the environment.

With nothing set the app runs on SQLite in ./data/ (the embedded default). Production sets
DATABASE_URL (PostgreSQL), SECRET_KEY, ALLOWED_HOSTS and leaves DEBUG off.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CITEMAP_DATA_DIR", BASE_DIR / "data"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def local_secret_key() -> str:
    # Without SECRET_KEY in the environment, keep one generated key in the data folder so
    # sessions survive restarts of a local install. Deployments with several app processes
    # must set SECRET_KEY so all of them agree.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
    "apps.accounts",
    "apps.people",
    "apps.library",
    "apps.claims",
    "apps.annotations",
    "apps.search",
    "apps.review",
    "apps.xref",
    "apps.jobs",
    "apps.bibliography",
    "apps.backup",
    "apps.webanno",
    "apps.qda",
    "apps.api",
    "apps.agreement",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the middleware that reads forms or refuses requests: /api/ takes JSON bodies only
    # and answers every error in JSON.
    "apps.api.middleware.ApiJsonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.accounts.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a sign-in refused for too many failures into the sign-in
    # page with its message (apps.accounts.throttling.lockout_response).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'citemap.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers go on while one request writes; IMMEDIATE transactions take
            # the write lock up front instead of failing half-way with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# Background jobs (apps/jobs): Django's tasks API with its database backend. JOBS_MODE says who
# runs them: "worker" (`manage.py db_worker` processes; the default on PostgreSQL), "thread"
# (the app process itself, in a background thread; the default on SQLite, so `make run` stays
# one command) or "immediate" (before start_job returns; the tests).
JOBS_MODE = os.environ.get(
    "JOBS_MODE",
    "thread" if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else "worker",
)
if JOBS_MODE not in {"worker", "thread", "immediate"}:
    raise ImproperlyConfigured(f"JOBS_MODE must be worker, thread or immediate, not {JOBS_MODE!r}")
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if JOBS_MODE == "immediate"
        else "django_tasks_db.DatabaseBackend",
    }
}
# A running job whose heartbeat is older than this (seconds) on another machine counts as dead.
JOBS_STALE_AFTER = float(os.environ.get("JOBS_STALE_AFTER", "30"))
# How often a running job writes its progress and heartbeat (seconds).
JOBS_PULSE_SECONDS = float(os.environ.get("JOBS_PULSE_SECONDS", "2"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE columns) serve PostgreSQL; SQLite builds them without the extra
# columns, which is all the embedded default needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "accounts:project_list"
LOGOUT_REDIRECT_URL = "login"

# django-axes checks every sign-in before the password is (it refuses a locked-out user or
# address even with the right password); the model backend then signs in. axes needs the
# request: Django's sign-in views pass it, and so must tests that call client.login().
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sign-in throttling (django-axes). After SIGNIN_FAILURE_LIMIT failed sign-ins for one username,
# or from one client address, further attempts are refused for SIGNIN_LOCKOUT_MINUTES after the
# last counted failure, even with the right password. `manage.py axes_reset` (everything),
# `axes_reset_username NAME` or `axes_reset_ip ADDRESS` lift a lock at once. Failures are
# counted in the database (axes' default handler), which every app process shares. Not in
# Redis even when there is one: its least-recently-used eviction could forget a count, and
# sign-ins are too rare for the database's cost to matter.
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Attempts while locked out are refused but not counted, so the lock ends when the page said.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful sign-in does not wipe the counts: axes would forget every failure from that
# address, whichever account they targeted, so someone with an account of their own could
# sign in to it between guesses at another's password and never be locked out. Failures are
# forgotten SIGNIN_LOCKOUT_MINUTES after the last one instead.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "apps.accounts.throttling.lockout_response"
AXES_CLIENT_IP_CALLABLE = "apps.accounts.throttling.client_address"
AXES_USERNAME_CALLABLE = "apps.accounts.throttling.attempted_username"
# How many proxies that append to X-Forwarded-For stand between the clients and the app (nginx
# in front of gunicorn: 1). 0 uses the connection's own address, which behind a proxy is the
# proxy's: everyone would share one failure count.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Successful sign-ins are not logged a second time (the server's access log has them).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Invitations to a project (apps.accounts.models.Invitation) are valid this many days after
# they were (last) sent.
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 7)
# A link confirming a new email address (from the profile) is valid this many days.
EMAIL_CHANGE_MAX_AGE_DAYS = env_int("EMAIL_CHANGE_MAX_AGE_DAYS", 3)
# At most this many mails of each kind within an hour per sender (a signed-in member), per
# recipient address and per client address (apps.accounts.mail.spend). Counted in the cache,
# so several app processes share the count where the cache is Redis.
MAIL_LIMITS = {
    "invitation": {"sender": env_int("INVITATIONS_PER_HOUR", 50), "recipient": 5},
    "password_reset": {"client": env_int("PASSWORD_RESETS_PER_HOUR", 20), "recipient": 3},
    "email_change": {"sender": 5, "recipient": 3},
}
# API requests one token (or session, or client address) may make within a minute; beyond,
# 429 with Retry-After (apps.api.middleware). 0 lifts the limit.
API_REQUESTS_PER_MINUTE = env_int("API_REQUESTS_PER_MINUTE", 600)
# Password reset links are valid this long (Django's setting, in seconds).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_HOURS", 24) * 3600

# Email (invitations, password resets). Without EMAIL_HOST, messages are written to the
# console (the app's standard output), which is right for `make run`; with it, they are sent
# through that SMTP server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    # STARTTLS unless implicit TLS (usually port 465) is asked for; Django refuses both at once.
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Citemap <citemap@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only needed for `collectstatic` (e.g. behind a CDN); WhiteNoise serves from the app folders.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the app folders, so no build step is needed and `runserver` with DEBUG
# off serves static files too.
WHITENOISE_USE_FINDERS = True

# The cache: Redis when REDIS_URL is set (Django's own RedisCache backend), shared by every app
# process: page aggregates, job progress and every rate limit (anything that uses Django's
# default cache) follow it. Without it each process keeps its own in memory, which is right
# for one process (`make run`) and correct, only slower, for several.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "citemap"),
            "TIMEOUT": 600,
            # A Redis that stops answering fails a request within a second, not a minute.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # Sessions are read from Redis and written through to the database, so a restarted or
    # emptied Redis signs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_COOKIE_HTTPONLY = True
# Behind HTTPS in production set SECURE_COOKIES=1, HTTPS_REDIRECT=1 and HSTS_SECONDS (README
# lists the production variables; with them `manage.py check --deploy` is clean).
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("HTTPS_REDIRECT")
# Load balancers probe the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD")
# Behind a proxy that ends TLS, the header in which it says the request came over HTTPS (e.g.
# X-Forwarded-Proto: https). Only set it when the proxy always sets or strips that header, or
# clients could claim HTTPS themselves.
if proxy_header := os.environ.get("PROXY_SSL_HEADER", "").strip():
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Links to other sites (a source's URL, a DOI) do not tell them which page of a private
# review they came from.
SECURE_REFERRER_POLICY = "same-origin"
# Scripts, styles, images and fetches come from this site only, and no inline script, style
# block or style attribute runs: templates keep JS in static/js/ and CSS in static/css/, and a
# hostile note that slipped past sanitising still could not execute. Images may be data: URLs
# (small icons in CSS). Nothing may frame the app, and forms post to it alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Uploads are bounded everywhere; import views check their own, tighter limits.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# LOG_FORMAT=json writes one JSON object per line (for a log collector); the default is text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# citeproc-js, the CSL processor Zotero uses, formats citations inside the app (embedded V8,
# see apps/library/citations.py). `make install` installs it from the npm registry at the
# version package-lock.json pins; nothing is fetched at run time.
CITEPROC_JS = Path(
    os.environ.get("CITEPROC_JS", BASE_DIR / "node_modules" / "citeproc" / "citeproc_commonjs.js")
)
