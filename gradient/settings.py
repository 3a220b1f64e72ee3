"""Gradient settings: one module, driven by the environment.

Every variable is documented in `.env.example`. The defaults run on a fresh clone: SQLite
under `var/`, an embedded (filesystem) Celery broker under `var/`, and media under `var/media`.
A bad value stops start-up with `ImproperlyConfigured` naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GRADIENT_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), got {raw!r}")


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = _env_bool("DEBUG", True)
# With DEBUG on, unknown pages and errors still get the friendly pages (the demo runs with
# DEBUG); set this to see Django's technical 404 and traceback pages instead.
TECHNICAL_ERROR_PAGES = _env_bool("TECHNICAL_ERROR_PAGES", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
elif len(SECRET_KEY) < 50 and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production")
# Secret rotation (docs/deploy.md): the previous keys, comma-separated. Sessions, password-reset
# links and signed values made with them stay valid; new ones are signed with SECRET_KEY. Drop
# a key from the list once its sessions have expired (SESSION_COOKIE_AGE, two weeks).
SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS", [])
if not DEBUG and any(len(key) < 50 for key in SECRET_KEY_FALLBACKS):
    raise ImproperlyConfigured(
        "each key in SECRET_KEY_FALLBACKS must be at least 50 characters long"
    )

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entries must start with http:// or https://, got {_origin!r}"
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Machine clients' tokens: staff issue and revoke them in the admin (README, API).
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI's files, served as the app's own static files (no CDN: /api/docs/ offline).
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "gradient.apps.AxesConfig",
    "clusters",
    "assessments",
    "programmes",
    "reports",
    # The audit trail: who did what, when and from where (gradient/audit.py, programmes/audit.py).
    "gradient.apps.AuditlogConfig",
]

MIDDLEWARE = [
    # First: every later line of the request, other middlewares' too, carries its id.
    "gradient.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (hashed, compressed names in production) answered here, before sessions,
    # CSP and the rest: see "Static files" below.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "gradient.middleware.PermissionsPolicyMiddleware",
    # Before everything that reads the database (session, user, audit trail): a request that
    # failed because the database is unreachable gets a 503 in the user's language.
    "gradient.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Puts the user and the address on every audit-trail entry the request writes.
    "gradient.audit.AuditMiddleware",
    # The site's 404 and 500 pages even with DEBUG on (the runserver demo); after the locale
    # and the user, which the pages use.
    "gradient.error_pages.FriendlyErrorPagesMiddleware",
    # After authentication: it reads request.user once the view has run (DRF sets it there).
    "gradient.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gradient.urls"
WSGI_APPLICATION = "gradient.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # `csp_nonce_styles`: the nonce for the <style> of server-drawn SVG charts.
            "builtins": ["gradient.csp"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "") or f"sqlite:///{VAR_DIR / 'gradient.sqlite3'}"
_db_scheme = urlparse(DATABASE_URL).scheme
if _db_scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
    raise ImproperlyConfigured(
        f"DATABASE_URL must be a sqlite:// or postgres:// URL, got scheme {_db_scheme!r}"
    )
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web app and the embedded worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # A database host that drops packets fails a request (and /healthz) in seconds, not after
    # the operating system's TCP timeout. `?connect_timeout=N` in DATABASE_URL overrides it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # A database that restarted leaves every persistent connection dead: check a reused
    # connection at the start of each request and reconnect, instead of failing the first
    # request of each process after the restart (tests/faults/test_database_restart.py).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Number of reverse proxies in front of the app that each append the address they saw to
# X-Forwarded-For. 0: the client is REMOTE_ADDR and the header is never believed. Every
# throttle (log-in lock-out, password reset) uses gradient.authentication.client_ip.
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)

# Two log-in limits within the cool-off: failures for one username from one address, and
# failures for any username from one address (password spraying). Either locks; the address
# limit locks every username from that address. A successful log-in clears only its own
# username + address count, so a sprayer cannot reset the address count with its own account.
AXES_FAILURE_LIMIT = _env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_ADDRESS_FAILURE_LIMIT = _env_int("AXES_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
AXES_COOLOFF_TIME = _env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "gradient.authentication.AddressLimitAxesHandler"
AXES_CLIENT_IP_CALLABLE = "gradient.authentication.client_ip"
AXES_LOCKOUT_CALLABLE = "gradient.authentication.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Password-reset requests per hour, from one address and for one e-mail address (counted
# whether or not an account has it). Counted in the cache (django-ratelimit).
PASSWORD_RESET_LIMIT_PER_ADDRESS = _env_int("PASSWORD_RESET_LIMIT_PER_ADDRESS", 10, minimum=1)
PASSWORD_RESET_LIMIT_PER_ACCOUNT = _env_int("PASSWORD_RESET_LIMIT_PER_ACCOUNT", 3, minimum=1)

# --- Cache ------------------------------------------------------------------------------------
# The throttles count here. Local memory (the default) is per process: with several web
# processes set CACHE_URL to Redis (redis://host:6379/1), shared by all of them.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// or rediss:// URL, got {CACHE_URL!r}")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Sessions live in the database; with Redis as the cache they are also read from it
# (`cached_db`: written to both, read from Redis, the database on a miss), which spares each
# request's session query (docs/benchmarks.md, load). Never with the per-process local
# memory: a log-out in one web process would leave the session alive in the others' caches.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_URL
    else "django.contrib.sessions.backends.db"
)

# --- I18n -------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# One catalog per part, so that scripts/i18n.py can refresh one without touching the others.
LOCALE_PATHS = [
    BASE_DIR / "locale" / part
    for part in ("core", "clusters", "assessments", "programmes", "reports")
]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Files ------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# Media is private: report files are served only through permission-checked views.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", "") or VAR_DIR / "media")
MEDIA_URL = "/private-media-not-served/"
# Static files: served by WhiteNoise from STATIC_ROOT, in every environment (no proxy
# configuration needed). STATIC_MANIFEST picks the storage, by default on when DEBUG is off:
# - on (production): collectstatic writes content-hashed, gzip- and brotli-compressed copies
#   and a manifest ({% static %} then names app.3f2a9c1b.css, cached for a year). The manifest
#   must exist: run `manage.py collectstatic` on each deploy, or pages fail with
#   "Missing staticfiles manifest entry".
# - off (runserver demo, tests): plain names, found without collectstatic (WhiteNoise also
#   looks in the apps' folders when DEBUG is on; runserver serves them itself).
STATIC_MANIFEST = _env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Source maps (Swagger UI's and ReDoc's weigh 6 MB) are fetched only by browser developer
# tools: not worth compressing, and skipping them halves collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# An assessor's evidence file (a photo, a PDF, a screenshot): at most this many bytes each
# (programmes/evidence.py). Uploads above it are refused before their body is read.
EVIDENCE_MAX_BYTES = _env_int("EVIDENCE_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Gradient <noreply@localhost>")
if os.environ.get("EMAIL_URL_HOST"):
    EMAIL_HOST = os.environ["EMAIL_URL_HOST"]
    EMAIL_PORT = _env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", True)
# The absolute base of links in e-mails and invitation lists.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must start with http:// or https://, got {SITE_URL!r}")

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or "filesystem://"
_broker_scheme = CELERY_BROKER_URL.split("://", 1)[0] if "://" in CELERY_BROKER_URL else ""
if _broker_scheme not in {"filesystem", "redis", "rediss", "amqp", "memory"}:
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL must be filesystem://, memory://, redis://, rediss:// or amqp://, "
        f"got {CELERY_BROKER_URL!r}"
    )
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if _broker_scheme == "filesystem":
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    # kombu's filesystem transport does not create its folder.
    for _folder in ("broker", "broker-processed", "broker-control"):
        (VAR_DIR / _folder).mkdir(parents=True, exist_ok=True)
elif _broker_scheme in {"redis", "rediss"}:
    # Reliability (tests/faults/): with acks_late, a task whose worker died unacknowledged is
    # redelivered after this many seconds. It must stay above REPORT_HARD_TIME_LIMIT: a
    # redelivered report task then knows that the earlier run is dead (see
    # reports.services.report_job_claim). Checked below, beside the limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
    }
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "reports.tasks.*": {"queue": "reports"},
    "reports.batch_tasks.*": {"queue": "reports"},  # report batches (issue 14)
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_MEMORY_PER_CHILD = _env_int("CELERY_WORKER_MAX_MEMORY_KB", 1_500_000, minimum=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "reports-cleanup": {"task": "reports.tasks.cleanup_reports", "schedule": 15 * 60},
    # Report jobs whose task could not be sent (the broker was down) are sent again.
    "reports-requeue": {"task": "reports.tasks.requeue_reports", "schedule": 60},
    # Report batches (issue 14): unsent ones sent again, cut chains finished, old zips removed.
    "report-batches-tick": {"task": "reports.batch_tasks.tick_report_batches", "schedule": 60},
}

# --- Reports ----------------------------------------------------------------------------------
REPORT_TTL_HOURS = _env_int("REPORT_TTL_HOURS", 24 * 7, minimum=1)
REPORT_SOFT_TIME_LIMIT = _env_int("REPORT_SOFT_TIME_LIMIT", 600, minimum=10)
# The worker kills a report task at this limit; the minute after the soft one lets the task
# fail its job with a message first. Read through reports.services.hard_time_limit().
REPORT_HARD_TIME_LIMIT = REPORT_SOFT_TIME_LIMIT + _env_int("REPORT_HARD_TIME_MARGIN", 60, minimum=1)
if (
    _broker_scheme in {"redis", "rediss"}
    and int(CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"])  # type: ignore[call-overload]
    <= REPORT_HARD_TIME_LIMIT
):
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must be above the report hard time limit "
        f"({REPORT_HARD_TIME_LIMIT} s): a report still rendering would be delivered twice"
    )
# The CJK font embedded in PDFs. See docs/benchmarks.md for why this one.
PDF_CJK_FONT = os.environ.get("PDF_CJK_FONT", "")

# --- REST framework ---------------------------------------------------------------------------
# Requests per caller and period (DRF's "N/second|minute|hour|day"), counted in the cache
# above: set CACHE_URL to Redis with several web processes, or each counts on its own.
API_ANON_RATE = os.environ.get("API_ANON_RATE", "") or "30/minute"
API_USER_RATE = os.environ.get("API_USER_RATE", "") or "600/minute"
for _name, _rate in (("API_ANON_RATE", API_ANON_RATE), ("API_USER_RATE", API_USER_RATE)):
    _count, _sep, _period = _rate.partition("/")
    if not _count.isdigit() or int(_count) < 1 or _period[:1] not in {"s", "m", "h", "d"}:
        raise ImproperlyConfigured(
            f"{_name} must look like 600/minute (a count, then second, minute, hour or day), "
            f"got {_rate!r}"
        )
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "gradient.api.ApiSchema",
    # Basic first: its challenge makes a failed log-in 401 with WWW-Authenticate (DRF asks the
    # first class), and a locked-out client gets 429 with Retry-After instead of 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gradient.authentication.LockoutAwareBasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["gradient.limits.SignedIn"],
    # JSON only, capped in size and nesting (gradient/parsers.py): a form or multipart body is
    # a 415, and the schema offers no other media type.
    "DEFAULT_PARSER_CLASSES": ["gradient.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "gradient.limits.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["gradient.limits.AnonThrottle", "gradient.limits.UserThrottle"],
    "EXCEPTION_HANDLER": "gradient.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gradient API",
    "DESCRIPTION": (
        "Digital maturity assessments of SMEs, by cluster and region. Every 4xx answer has "
        "the shape {detail, code, problems}, in the language of Accept-Language (zh-hans, en)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI's default validator badge calls a public web service.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # <id:…> in a path (gradient.api.IdConverter): a whole number that fits a 64-bit column.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    },
    # Several models have a `status` field with different choices: name each enum explicitly.
    "ENUM_NAME_OVERRIDES": {
        "FrameworkVersionStatusEnum": "assessments.models.FrameworkVersion.Status",
        "AssessmentStatusEnum": "assessments.models.Assessment.Status",
        "ReportJobStatusEnum": "reports.models.ReportJob.Status",
        "AnswerSaveStatusEnum": ["saved", "unchanged", "conflict"],
        "InvitationStatusEnum": ["invited", "sent", "accepted", "started", "submitted"],
        "RoundStateEnum": ["upcoming", "open", "closed"],
    },
}

# --- Security (production) --------------------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 31536000)
    # Both on by default (check --deploy warns otherwise); turn off for a host whose
    # subdomains are not all on HTTPS, or that must stay off browsers' preload lists.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Only the app's own scripts and styles, on every page /api/docs/ included (Swagger UI is served
# from the app's static files). The inline SVG charts' <style> carries the request's nonce
# (gradient.csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features the app never uses, refused for it and anything it might embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# --- Logging ----------------------------------------------------------------------------------
# One line per event on standard error. LOG_FORMAT=json (production) writes each as one JSON
# object (python-json-logger) with time, level, logger, message, request_id and, in a Celery
# task, task_id and task_name; plain (the default) is for people at a terminal. Both go through
# gradient.logging.ContextFilter, which adds the request id and keeps the request object (its
# cookies and session id) and any secret-looking field out of the line.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "") or "plain"
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
LOG_LEVEL = (os.environ.get("LOG_LEVEL", "") or "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "gradient.logging.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            # "time": UTC, ISO 8601 (2026-12-03T13:09:23.619+00:00).
            "timestamp": "time",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

SITE_NAME = _("Gradient")
