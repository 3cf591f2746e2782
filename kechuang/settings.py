"""Django settings, all read from the environment (see docs/operations.md).

With nothing set, the platform runs in development mode on an SQLite file
under var/. Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and
DATABASE_URL (PostgreSQL).
"""

import hashlib
import hmac
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from kechuang.env import (
    OFFLINE_SECRET_KEY,
    env_bool,
    env_int,
    env_list,
    env_str,
    is_serving_command,
    require_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KECHUANG_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
# Commands that serve nothing (plans extract, check, makemigrations, ...) run from a checkout
# without a SECRET_KEY; what serves requests or runs tasks refuses the placeholder:
# runserver and the workers here, gunicorn in kechuang/wsgi.py (require_secret_key).
SECRET_KEY = env_str("SECRET_KEY", "") or (_DEV_SECRET if DEBUG else OFFLINE_SECRET_KEY)
if is_serving_command(sys.argv):
    require_secret_key(SECRET_KEY)
# Key of the audit entries' MACs (core.auditchain). Kept outside the database so that database
# rights alone cannot forge an entry; by default derived from SECRET_KEY (domain-separated).
# Empty under the offline placeholder: a command run without SECRET_KEY that writes or checks
# the audit log stops (core.auditchain.keyed) instead of signing with a key nobody keeps.
AUDIT_KEY = env_str("AUDIT_KEY", "") or (
    hmac.new(SECRET_KEY.encode(), b"kechuang audit entry mac v1", hashlib.sha256).hexdigest()
    if SECRET_KEY != OFFLINE_SECRET_KEY
    else ""
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # domain apps, in dependency order (see docs/architecture.md)
    "kechuang.core",
    "kechuang.enterprises",
    "kechuang.rules",
    "kechuang.policies",
    "kechuang.plans",
    "kechuang.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kechuang.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kechuang.core.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: every view needs a login unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "kechuang.core.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "kechuang.core.audit.AuditViaMiddleware",
]

ROOT_URLCONF = "kechuang.urls"
WSGI_APPLICATION = "kechuang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kechuang" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kechuang.core.context_processors.navigation",
            ],
        },
    }
]

# --- database -------------------------------------------------------------
_database_url = env_str("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "kechuang.sqlite3",
            "OPTIONS": {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
                ),
                "transaction_mode": "IMMEDIATE",
                # Wait this long for another connection's write lock instead of failing
                # at once with "database is locked" (the worker and the web share the file).
                "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 30),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "kechuang",
    }
}
if env_str("REDIS_URL", ""):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("REDIS_URL", ""),
    }

# --- users, passwords, sessions --------------------------------------------
AUTH_USER_MODEL = "core.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kechuang.core.auth.AccountBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False

# Lock-out after repeated failures (django-axes): by user name and address.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The socket address, or behind BEHIND_TLS_PROXY the client address the proxy forwarded.
AXES_CLIENT_IP_CALLABLE = "kechuang.core.auth.client_ip"

# --- security (production defaults are strict; intranet deployments may relax TLS) ---
_https = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
# Load-balancer probes often reach the web process over plain HTTP: answer, don't redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# Behind the proxy: how many proxies append to X-Forwarded-For (core.auth.client_ip).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", ["security.W021"])

# --- i18n ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kechuang" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and uploaded files ---------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "kechuang" / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

# --- API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["kechuang.core.rest.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "kechuang.core.rest.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["kechuang.core.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kechuang.core.rest.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "kechuang API",
    "DESCRIPTION": "REST API of the kechuang platform; every endpoint is scoped by the same "
    "permission layer as the web pages and exports.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kechuang.core.rest.error_schema_hook",
    ],
}

# --- background tasks (django-tasks; database backend, runs in a worker) ----
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.backend.DatabaseBackend"),
    }
}

# --- bulk imports (kechuang.core.imports): kind -> importer class, in menu order ---
IMPORT_KINDS = {
    "enterprises": "kechuang.enterprises.importers.EnterpriseImporter",
    "qualifications": "kechuang.enterprises.importers.QualificationImporter",
    "annual_reports": "kechuang.enterprises.importers.AnnualReportImporter",
}
# Files up to this size are checked/applied in the request; larger ones in a task.
IMPORT_INLINE_MAX_BYTES = env_int("IMPORT_INLINE_MAX_BYTES", 512 * 1024)
# A job still "checking"/"applying" with no progress for this long is marked failed.
IMPORT_STALE_AFTER_SECONDS = env_int("IMPORT_STALE_AFTER_SECONDS", 15 * 60)
# How many problems a job keeps for its report page (the rest are only counted).
IMPORT_MAX_STORED_PROBLEMS = env_int("IMPORT_MAX_STORED_PROBLEMS", 1000)

# --- reading uploaded tables (kechuang.core.tabular; uploads are untrusted) ---
TABULAR_MAX_ROWS = env_int("TABULAR_MAX_ROWS", 200_000)
TABULAR_MAX_COLUMNS = env_int("TABULAR_MAX_COLUMNS", 200)
TABULAR_MAX_CELL_CHARS = env_int("TABULAR_MAX_CELL_CHARS", 32_767)  # Excel's own limit
# The read runs in a child process with these limits (memory above the parent's size).
TABULAR_READ_CONTAINED = env_bool("TABULAR_READ_CONTAINED", True)
TABULAR_READ_MEMORY_MB = env_int("TABULAR_READ_MEMORY_MB", 2048)
TABULAR_READ_CPU_SECONDS = env_int("TABULAR_READ_CPU_SECONDS", 300)

# --- workflows (kechuang.core.workflow): every state machine, so the table-driven tests
# (core/tests/test_workflows_table.py) and docs/workflows.md cover each one -------------
WORKFLOWS = [
    "kechuang.core.imports.workflows.IMPORT_JOB",
    "kechuang.enterprises.workflows.ANNUAL_REPORT",
    "kechuang.rules.workflows.RULE_VERSION",
    "kechuang.policies.workflows.POLICY",
    "kechuang.plans.workflows.TASK",
]

# --- e-mail: an outbox in the database; SMTP only when configured ----------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kechuang@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
