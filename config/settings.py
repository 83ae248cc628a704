"""One settings module for every environment (12-factor).

Every value that varies between deployments comes from the environment, with a safe
default for a local run. A bad value stops start-up with a message naming the variable.
`.env.example` lists every variable with a one-line comment.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import django
import django_stubs_ext
import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] etc. work at run time

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime state of a local run; ignored by git

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real env vars win


def _get(name: str, cast: Any, default: Any) -> Any:
    """Read one variable and turn any parsing error into a message that names it."""
    try:
        return env.get_value(name, cast=cast, default=default)
    except (ValueError, TypeError, ImproperlyConfigured, KeyError) as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name} has an invalid value: {exc}"
        ) from exc


def _bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default)).strip().lower()
    truthy, falsy = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
    if raw not in truthy | falsy:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be true or false, not {raw!r}"
        )
    return raw in truthy


def _positive_int(name: str, default: int) -> int:
    value = _get(name, int, default)
    if value <= 0:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a positive integer"
        )
    return int(value)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured(
                "Environment variable SECRET_KEY must be at least 32 characters"
            )
        return key
    # Local runs only: a random key kept in var/, never committed.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = _bool("DEBUG", False)
# Production refuses to start without its secrets and switches on HTTPS-only settings.
PRODUCTION = _bool("PRODUCTION", False)
if PRODUCTION:
    _missing = [
        name
        for name in (
            "SECRET_KEY",
            "DATABASE_URL",
            "REDIS_URL",
            "ALLOWED_HOSTS",
            "EMAIL_URL",
        )
        if not env.str(name, default="")
    ]
    if _missing:
        raise ImproperlyConfigured(
            "PRODUCTION is set but these environment variables are missing: "
            + ", ".join(_missing)
        )
    if DEBUG:
        raise ImproperlyConfigured(
            "Environment variable DEBUG must be false in production"
        )
SECRET_KEY = _secret_key()
ALLOWED_HOSTS: list[str] = _get(
    "ALLOWED_HOSTS", list, ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS: list[str] = _get("CSRF_TRUSTED_ORIGINS", list, [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "enquiries",
    "triage",
    "casestudies",
]

MIDDLEWARE = [
    "enquiries.logs.request_ids",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "enquiries.permissions.session_limits",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns lockouts into a 429 page
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# Database: SQLite file by default; DATABASE_URL=postgres://… in production and CI.
DATABASES = {
    "default": _get("DATABASE_URL", environ.Env.db_url_config, None)
    or {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "db.sqlite3")}
}
if isinstance(DATABASES["default"], str):  # pragma: no cover - defensive
    DATABASES["default"] = environ.Env.db_url_config(DATABASES["default"])
_SUPPORTED_DATABASES = ("django.db.backends.sqlite3", "django.db.backends.postgresql")
if DATABASES["default"].get("ENGINE") not in _SUPPORTED_DATABASES:
    raise ImproperlyConfigured(
        "Environment variable DATABASE_URL must be a postgres:// or sqlite:/// URL"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions: concurrent writers wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    VAR_DIR.mkdir(exist_ok=True)
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Broker and cache: Redis when REDIS_URL is set, otherwise embedded (no server).
REDIS_URL: str = _get("REDIS_URL", str, "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(
        "Environment variable REDIS_URL must start with redis:// or rediss://"
    )
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "triage",
        }
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery: reliable delivery (docs/decisions/0003). Tasks take ids only.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 120  # well below the broker visibility timeout (3600 s)
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "sweep-unclassified": {
        "task": "triage.tasks.sweep_unclassified",
        "schedule": 60.0,
    },
    "purge-expired": {
        "task": "enquiries.tasks.purge_expired",
        "schedule": crontab(minute=30, hour=2),
    },
    "retrain-weekly": {
        "task": "triage.tasks.retrain_classifier",
        "schedule": crontab(minute=0, hour=3, day_of_week="sunday"),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Email: console by default; EMAIL_URL=smtp+tls://user:pass@host:587 in production.
_email = _get("EMAIL_URL", environ.Env.email_url_config, "consolemail://")
if isinstance(_email, str):  # pragma: no cover - defensive
    _email = environ.Env.email_url_config(_email)
if django.VERSION >= (6, 1):  # MAILERS replaces EMAIL_* from Django 6.1
    _smtp = "smtp" in _email["EMAIL_BACKEND"]
    MAILERS = {
        "default": {
            "BACKEND": _email["EMAIL_BACKEND"],
            "OPTIONS": {
                "host": _email.get("EMAIL_HOST") or "localhost",
                "port": _email.get("EMAIL_PORT") or 25,
                "username": _email.get("EMAIL_HOST_USER", ""),
                "password": _email.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": bool(_email.get("EMAIL_USE_TLS")),
                "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
                "timeout": 10,
            }
            if _smtp
            else {},
        }
    }
else:  # pragma: no cover - Django 5.2 on Python 3.11
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = _email.get("EMAIL_PORT", 25)
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = _get(
    "DEFAULT_FROM_EMAIL", str, "Innovation Office <innovation@example.org>"
)

# Public site and service levels.
SITE_URL: str = _get("SITE_URL", str, "http://127.0.0.1:8000").rstrip("/")
OFFICE_NAME: str = _get("OFFICE_NAME", str, "Regulatory Innovation Office")
RESPONSE_TARGET_WORKING_DAYS = _positive_int("RESPONSE_TARGET_WORKING_DAYS", 20)
STATUS_LINK_VALID_DAYS = _positive_int("STATUS_LINK_VALID_DAYS", 730)
SUBMIT_RATE_LIMIT_PER_HOUR = _positive_int("SUBMIT_RATE_LIMIT_PER_HOUR", 10)
STATUS_RATE_LIMIT_PER_HOUR = _positive_int("STATUS_RATE_LIMIT_PER_HOUR", 120)
UPLOAD_DIR = Path(_get("UPLOAD_DIR", str, str(VAR_DIR / "uploads")))
# Retention (UK GDPR storage limitation), counted from an enquiry's last change
# once it is closed; audit events from when they happened.
RETENTION_PERSONAL_DATA_DAYS = _positive_int("RETENTION_PERSONAL_DATA_DAYS", 730)
RETENTION_ATTACHMENT_DAYS = _positive_int("RETENTION_ATTACHMENT_DAYS", 365)
RETENTION_AUDIT_DAYS = _positive_int("RETENTION_AUDIT_DAYS", 2190)
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Classification.
CLASSIFIER_DIR = Path(_get("CLASSIFIER_DIR", str, str(VAR_DIR / "models")))
CLASSIFY_SWEEP_AFTER_SECONDS = _positive_int("CLASSIFY_SWEEP_AFTER_SECONDS", 120)
CLASSIFY_MAX_ATTEMPTS = _positive_int("CLASSIFY_MAX_ATTEMPTS", 3)
# Enquiry texts that help case-study matching (the project's own corpus by default).
MATCHING_BACKGROUND_DIR = Path(
    _get("MATCHING_BACKGROUND_DIR", str, str(BASE_DIR / "triage" / "training"))
)

# REST API (docs/decisions/0008): JSON only, token auth, OpenAPI 3 schema.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["triage.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Innovation enquiry triage API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Submit enquiries, follow their status, read case studies; staff "
    "work the queue with a token (`Authorization: Token <key>`).",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Auth, sessions, security headers.
LOGIN_URL = "triage:login"
# A second factor (TOTP) for staff; switch off only for a local demo.
STAFF_TWO_FACTOR = _bool("STAFF_TWO_FACTOR", True)
STAFF_SESSION_MAX_SECONDS = 8 * 3600  # absolute, whatever the activity
SESSION_COOKIE_AGE = _positive_int("STAFF_IDLE_TIMEOUT_SECONDS", 30 * 60)  # idle
# Staff sessions slide on every request (enquiries.permissions.session_limits); a
# visitor's session is written only when it changes, so a parallel request (a font,
# a second tab) cannot write back an older copy over their draft enquiry.
SESSION_SAVE_EVERY_REQUEST = False
CSRF_FAILURE_VIEW = "enquiries.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "triage/locked_out.html"
OTP_TOTP_ISSUER = "Innovation Office"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION or (not DEBUG and _bool("SECURE_COOKIES", False)):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # TLS ends at the proxy, which must set X-Forwarded-Proto (docs/deployment).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if django.VERSION >= (6, 0):  # Django's own Content Security Policy, with nonces
    from django.utils.csp import CSP

    SECURE_CSP = {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, CSP.NONCE],
        "style-src": [CSP.SELF],
        "img-src": [CSP.SELF, "data:"],
        "font-src": [CSP.SELF, "data:"],
        "connect-src": [CSP.SELF],
        "object-src": [CSP.NONE],
        "base-uri": [CSP.SELF],
        "form-action": [CSP.SELF],
        "frame-ancestors": [CSP.NONE],
    }
    MIDDLEWARE.insert(1, "django.middleware.csp.ContentSecurityPolicyMiddleware")
    TEMPLATES[0]["OPTIONS"]["context_processors"].append(  # type: ignore[index]
        "django.template.context_processors.csp"
    )

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(_get("STATIC_ROOT", str, str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS: list[Any] = [
    BASE_DIR / "static",
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # hashed, compressed files from collectstatic in production
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION  # locally, serve straight from node_modules

LOG_FORMAT = _get("LOG_FORMAT", str, "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "enquiries.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": _get("LOG_LEVEL", str, "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
