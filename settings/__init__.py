"""Cairn's Django settings: every knob comes from the environment, read once, here.

Defaults give the embedded set-up (SQLite, django-q2's ORM broker, files under
CAIRN_DATA_DIR); DESIGN.md "Configuration" lists the variables.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from settings import logs, storage
from settings.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Cairn ------------------------------------------------------------------------------

CAIRN_DATA_DIR = Path(env_str("CAIRN_DATA_DIR", str(BASE_DIR / "var"))).resolve()
CAIRN_MAX_UPLOAD_MB = env_int("CAIRN_MAX_UPLOAD_MB", 50, minimum=1)
# A gzipped upload may inflate to this many times the upload limit before it is refused.
CAIRN_MAX_INFLATE_RATIO = env_int("CAIRN_MAX_INFLATE_RATIO", 10, minimum=1)
# The most track points one activity may have: a file with more fails with TooManyPoints
# (counted as a gzipped GPX or TCX inflates, before anything parses it).
CAIRN_MAX_POINTS = env_int("CAIRN_MAX_POINTS", 2_000_000, minimum=1)
# The address space each web and worker process may take (RLIMIT_AS, set by `serve` and
# `reconcile` at start): a file that needs more fails with OutOfMemory instead of taking
# the machine's memory. 0: no limit.
CAIRN_WORKER_MEMORY_MB = env_int("CAIRN_WORKER_MEMORY_MB", 2048, minimum=0)
# Zip archives (account exports): their size, how many entries, how far one file may
# inflate (its size over its compressed size) before it is refused as a zip bomb, and how
# far all its files may inflate together.
CAIRN_ARCHIVE_MAX_MB = env_int("CAIRN_ARCHIVE_MAX_MB", 1024, minimum=1)
CAIRN_ARCHIVE_MAX_MEMBERS = env_int("CAIRN_ARCHIVE_MAX_MEMBERS", 100_000, minimum=1)
CAIRN_ARCHIVE_MAX_RATIO = env_int("CAIRN_ARCHIVE_MAX_RATIO", 100, minimum=1)
CAIRN_ARCHIVE_MAX_INFLATED_MB = env_int("CAIRN_ARCHIVE_MAX_INFLATED_MB", 10_240, minimum=1)
# Direct and resumable uploads (transfers/): how long a session may take to receive its
# bytes, how often the sweep looks in the store for them, and from what size the upload
# page sends a file resumably (tus).
CAIRN_SESSION_TTL_S = env_int("CAIRN_SESSION_TTL_S", 24 * 3600, minimum=60)
CAIRN_SESSION_POLL_S = env_int("CAIRN_SESSION_POLL_S", 5, minimum=1)
CAIRN_TUS_THRESHOLD_MB = env_int("CAIRN_TUS_THRESHOLD_MB", 8, minimum=1)
# What one user may hold open at once (transfers/sessions.py): sessions still taking
# bytes, and the sizes they declare together (a new session over either is refused 429).
CAIRN_SESSION_MAX_OPEN = env_int("CAIRN_SESSION_MAX_OPEN", 20, minimum=1)
CAIRN_SESSION_MAX_OPEN_MB = env_int("CAIRN_SESSION_MAX_OPEN_MB", 4096, minimum=1)
CAIRN_SWEEP_INTERVAL_S = env_int("CAIRN_SWEEP_INTERVAL_S", 60, minimum=1)
CAIRN_LEASE_S = env_int("CAIRN_LEASE_S", 120, minimum=5)
CAIRN_MAX_ATTEMPTS = env_int("CAIRN_MAX_ATTEMPTS", 5, minimum=1)
CAIRN_BACKOFF_BASE_S = env_int("CAIRN_BACKOFF_BASE_S", 30, minimum=1)
CAIRN_BACKOFF_CAP_S = env_int("CAIRN_BACKOFF_CAP_S", 3600, minimum=1)
CAIRN_CLAIM_BATCH = env_int("CAIRN_CLAIM_BATCH", 10, minimum=1)
CAIRN_ROLLOUT_BATCH = env_int("CAIRN_ROLLOUT_BATCH", 1000, minimum=1)
# Users' records (records/): books rebuilt per sweep round, and how long a rebuild caused by
# activities being rebuilt (a rollout) waits for more of them, so that a user's thousands
# of rebuilt activities cost a few whole builds, not thousands.
CAIRN_RECORDS_BATCH = env_int("CAIRN_RECORDS_BATCH", 20, minimum=1)
CAIRN_RECORDS_COALESCE_S = env_int("CAIRN_RECORDS_COALESCE_S", 60, minimum=0)
# Segments (segments/): how far (metres) a track may stray from a segment's path and still
# ride it; activities matched per claim; a new segment's activities matched per lease of
# its backfill (a round takes CAIRN_SEGMENTS_BACKFILL_BATCH such leases).
CAIRN_SEGMENTS_TOLERANCE_M = env_float("CAIRN_SEGMENTS_TOLERANCE_M", 25.0, minimum=1.0)
CAIRN_SEGMENTS_BATCH = env_int("CAIRN_SEGMENTS_BATCH", 20, minimum=1)
CAIRN_SEGMENTS_BACKFILL_CHUNK = env_int("CAIRN_SEGMENTS_BACKFILL_CHUNK", 100, minimum=1)
CAIRN_SEGMENTS_BACKFILL_BATCH = env_int("CAIRN_SEGMENTS_BACKFILL_BATCH", 2, minimum=1)
# Bulk exports (exports/): how long a ready zip is kept before the sweep deletes it,
# activities written per step (each step records its progress and can be resumed), and the
# exports a user may keep at once (one of them being built).
CAIRN_EXPORT_KEEP_DAYS = env_int("CAIRN_EXPORT_KEEP_DAYS", 7, minimum=1)
CAIRN_EXPORT_CHUNK = env_int("CAIRN_EXPORT_CHUNK", 200, minimum=1)
CAIRN_EXPORTS_PER_USER = env_int("CAIRN_EXPORTS_PER_USER", 5, minimum=1)
# Version rollouts an operator controls (reconciler/rollouts/ops.py): derivers whose new
# versions start in preview (users read their numbers; a track change moves the summary's),
# the preview's sample size and its share of a sweep, and the report's "changed" threshold.
CAIRN_ROLLOUT_PREVIEW = env_list("CAIRN_ROLLOUT_PREVIEW", ["track", "summary"])
CAIRN_PREVIEW_SAMPLE = env_int("CAIRN_PREVIEW_SAMPLE", 200, minimum=1)
CAIRN_PREVIEW_PER_SWEEP = env_int("CAIRN_PREVIEW_PER_SWEEP", 5, minimum=1)
CAIRN_ROLLOUT_CHANGE = env_float("CAIRN_ROLLOUT_CHANGE", 0.01)
# Back-pressure (0 turns either off): uploads a user may make per minute, and fresh
# activities that may wait for workers before uploads are refused with 429.
CAIRN_UPLOADS_PER_MINUTE = env_int("CAIRN_UPLOADS_PER_MINUTE", 120)
CAIRN_MAX_PENDING = env_int("CAIRN_MAX_PENDING", 20000)
CAIRN_INLINE_FALLBACK = env_bool("CAIRN_INLINE_FALLBACK", False)
# Only files up to this size (inflated) are processed inline, for at most this long.
CAIRN_INLINE_MAX_KB = env_int("CAIRN_INLINE_MAX_KB", 1024, minimum=1)
CAIRN_INLINE_BUDGET_S = env_float("CAIRN_INLINE_BUDGET_S", 2.0, minimum=0.1)
CAIRN_BROKER = env_choice("CAIRN_BROKER", "orm", choices=("orm", "redis"))
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# How long an upload may wait on the broker before the nudge is given up (the sweep
# still processes the activity).
CAIRN_NUDGE_TIMEOUT_S = env_float("CAIRN_NUDGE_TIMEOUT_S", 0.5, minimum=0.05)
# Nudges waiting to be sent to the broker by each web process's background thread, after
# the answer (reconciler/nudge_queue.py); beyond it they are dropped and counted (the sweep
# still finds the work). 0: sent in the request, after the commit, as the fallback needs.
CAIRN_NUDGE_QUEUE = env_int("CAIRN_NUDGE_QUEUE", 1000, minimum=0)
# How long a web process trusts a token it looked up (activities/tokens.py): a revoked
# token or deactivated user is refused by every process within this many seconds (at
# once by the process that revoked it). 0: every request looks the token up.
CAIRN_TOKEN_CACHE_S = env_float("CAIRN_TOKEN_CACHE_S", 5.0, minimum=0)
# API tokens one user may have (activities/tokens.py): past it, revoke one to make another.
CAIRN_MAX_API_TOKENS = env_int("CAIRN_MAX_API_TOKENS", 20, minimum=1)
# "database": lease and backoff times come from the database clock, which all hosts share
# (DESIGN.md "Time"); "local": this process's clock (one host, or tests with frozen time).
CAIRN_CLOCK = env_choice("CAIRN_CLOCK", "database", choices=("database", "local"))
CAIRN_WORKERS = env_int("CAIRN_WORKERS", 2, minimum=1)
# Failed sign-ins allowed per username, and per address, in 15 minutes (0: no limit).
CAIRN_LOGIN_FAILURES = env_int("CAIRN_LOGIN_FAILURES", 10)
# Behind a proxy: the header it puts the client's address in (e.g. X-Forwarded-For), so
# that failed sign-ins are counted per client, not for the proxy's one address.
CAIRN_CLIENT_IP_HEADER = env_str("CAIRN_CLIENT_IP_HEADER", "")
# When set, /metrics answers only requests with "Authorization: Bearer <this>".
CAIRN_METRICS_TOKEN = env_str("CAIRN_METRICS_TOKEN", "")
# Webhooks (README "Webhooks"): tries before a delivery is dead, each POST's deadline, how
# long one destination's job may post per sweep, delivery threads per process (0: in the
# sweep's own thread), deliveries leased per sweep, retry backoff, the circuit breaker,
# and the private networks receivers may be in (CIDRs; none by default).
CAIRN_WEBHOOK_MAX_ATTEMPTS = env_int("CAIRN_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
CAIRN_WEBHOOK_TIMEOUT_S = env_float("CAIRN_WEBHOOK_TIMEOUT_S", 5.0, minimum=0.05)
CAIRN_WEBHOOK_BUDGET_S = env_float("CAIRN_WEBHOOK_BUDGET_S", 20.0, minimum=0.1)
CAIRN_WEBHOOK_CONCURRENCY = env_int("CAIRN_WEBHOOK_CONCURRENCY", 4, minimum=0)
CAIRN_WEBHOOK_BATCH = env_int("CAIRN_WEBHOOK_BATCH", 50, minimum=1)
CAIRN_WEBHOOK_BACKOFF_BASE_S = env_float("CAIRN_WEBHOOK_BACKOFF_BASE_S", 10.0, minimum=0.01)
CAIRN_WEBHOOK_BACKOFF_CAP_S = env_float("CAIRN_WEBHOOK_BACKOFF_CAP_S", 3600.0, minimum=0.01)
CAIRN_WEBHOOK_BREAKER_FAILURES = env_int("CAIRN_WEBHOOK_BREAKER_FAILURES", 5, minimum=1)
CAIRN_WEBHOOK_BREAKER_COOLDOWN_S = env_float("CAIRN_WEBHOOK_BREAKER_COOLDOWN_S", 60.0,
                                             minimum=0.1)
CAIRN_WEBHOOK_ALLOW_NETWORKS = env_list("CAIRN_WEBHOOK_ALLOW_NETWORKS", [])
# What one user may ask of the outbound side (README "Security"): webhooks (0: no cap),
# deliveries posted a minute (beyond, they wait for the next minute; 0: no limit), delivery
# threads of a process held at once (besides an even share of them between the owners with
# deliveries due; 0: the even share alone), push-subscription challenges in flight.
CAIRN_WEBHOOKS_PER_USER = env_int("CAIRN_WEBHOOKS_PER_USER", 10, minimum=0)
CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE = env_int("CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE", 120,
                                              minimum=0)
CAIRN_WEBHOOK_THREADS_PER_OWNER = env_int("CAIRN_WEBHOOK_THREADS_PER_OWNER", 2, minimum=0)
CAIRN_PUSH_CHALLENGES_PER_USER = env_int("CAIRN_PUSH_CHALLENGES_PER_USER", 1, minimum=1)
# Map tiles under an activity's route (a Leaflet URL template); empty: no tiles, the route
# on a plain background, and the browser fetches nothing from elsewhere.
CAIRN_MAP_TILES = env_str("CAIRN_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
# Who may make an account (README "Accounts"): nobody but staff in the admin ("closed"),
# whoever holds an invitation link a staff member made ("invite"), or anyone ("open").
CAIRN_SIGNUP = env_choice("CAIRN_SIGNUP", "invite", choices=("closed", "invite", "open"))
CAIRN_INVITE_DAYS = env_int("CAIRN_INVITE_DAYS", 7, minimum=1)
# Password-reset emails: printed on the console (the service's log) unless an SMTP server
# is named.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cairn@localhost")
CAIRN_MAP_ATTRIBUTION = env_str(
    "CAIRN_MAP_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')

# --- Django -----------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def _secret_key() -> str:
    # The embedded set-up keeps a generated key in the data dir, so that sessions survive
    # restarts without anyone having to invent one.
    configured = env_str("SECRET_KEY", "")
    if configured:
        return configured
    path = CAIRN_DATA_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{CAIRN_DATA_DIR / 'cairn.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Prepared statements: psycopg prepares a statement a connection has run five times
    # (claims, fences, the upload's inserts), and PostgreSQL stops planning it at every
    # call; the claim's plan takes ten times as long as running it. Needs server-side
    # binding. (Behind a transaction-pooling PgBouncer, set CAIRN_PREPARED=0.)
    if env_bool("CAIRN_PREPARED", True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, q2 workers and sweepers share the file: WAL lets readers go on during a write,
    # IMMEDIATE takes the write lock at BEGIN instead of failing half-way with "database
    # is locked", and the timeout makes writers queue instead of erring.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": str(CAIRN_DATA_DIR / "test.sqlite3")}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "work",
    "activities",
    "reconciler",
    "webhooks",
    "transfers",
    "records",
    "training",
    "duplicates",
    "segments",
    "exports",
    "sharing",
    "accounts",
]

MIDDLEWARE = [
    "activities.middleware.RequestLogMiddleware",
    "activities.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "activities.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

AUTHENTICATION_BACKENDS = ["activities.logins.ThrottledBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "/static/"
STATIC_ROOT = CAIRN_DATA_DIR / "static"
# Where originals (and archives) live: "fs", files under CAIRN_DATA_DIR (one host), or
# "s3", an S3-compatible object store every host reaches (README "Storage").
CAIRN_STORAGE = env_choice("CAIRN_STORAGE", "fs", choices=("fs", "s3"))
STORAGES = {
    "default": {
        "BACKEND": "activities.storage.DurableFileSystemStorage",
        "OPTIONS": {"location": CAIRN_DATA_DIR / "files"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if CAIRN_STORAGE == "s3" or env_str("AWS_STORAGE_BUCKET_NAME", ""):
    # Read with "fs" too: `migrate_storage --to s3` copies the originals to that store.
    globals().update(storage.s3_settings())
if CAIRN_STORAGE == "s3":
    STORAGES["default"] = {"BACKEND": "activities.objectstore.VerifiedS3Storage"}
# Uploads above this size spill to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 2**20
# A file is stopped at its limit while the body streams in (activities/bodylimit.py).
FILE_UPLOAD_HANDLERS = [
    "activities.bodylimit.LimitedFiles",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind TLS (README "Production"): cookies only over HTTPS, and HSTS. Off by default,
# because the embedded set-up serves plain HTTP on localhost.
CAIRN_SECURE_COOKIES = env_bool("CAIRN_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = CAIRN_SECURE_COOKIES
SECURE_HSTS_SECONDS = env_int("CAIRN_HSTS_SECONDS", 0, minimum=0)
# The header a TLS-terminating proxy sets to "https" (e.g. X-Forwarded-Proto), so that
# Django knows the request was secure. Only behind a proxy that always sets or strips it.
_proxy_ssl_header = env_str("CAIRN_PROXY_SSL_HEADER", "")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
    if _proxy_ssl_header else None)

# --- django-q2: a nudge and a clock, never the guarantee (DESIGN.md) ----------------------

Q_CLUSTER = {
    "name": "cairn",
    "workers": CAIRN_WORKERS,
    "recycle": 500,
    # A scheduled sweep drains for at most a minute; the timeout only stops a stuck worker.
    "timeout": 300,
    "retry": 360,  # must exceed timeout, or q2 re-delivers tasks that are still running
    "max_attempts": 1,  # a failed nudge is not retried by q2: the sweep is the retry
    "ack_failures": True,
    "catch_up": False,  # missed sweep runs are not replayed as a burst
    "save_limit": 250,
    "poll": 0.25,
    "label": "Task queue",
}
if CAIRN_BROKER == "redis":
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Logs: structlog JSON lines on stderr --------------------------------------------------

CAIRN_LOG_FORMAT = env_choice("CAIRN_LOG_FORMAT", "json", choices=("json", "console"))
# Traces (work/tracing.py): over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the SDK
# reads its own OTEL_* settings), printed with "console", else off.
CAIRN_TRACING = ("otlp" if env_str("OTEL_EXPORTER_OTLP_ENDPOINT", "")
                 else env_choice("CAIRN_TRACING", "off", choices=("off", "console")))
CAIRN_LOG_LEVEL = env_choice("CAIRN_LOG_LEVEL", "info",
                             choices=("debug", "info", "warning", "error"))
LOGGING_CONFIG = None
logs.configure(fmt=CAIRN_LOG_FORMAT, level=CAIRN_LOG_LEVEL.upper())
