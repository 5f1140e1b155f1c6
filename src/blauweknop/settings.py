"""Django settings, read from the environment only (one settings module for every deployment).

Secrets are never in this file and never made here: they come from the environment (``NAME`` or
``NAME_FILE``). Only the demo (``BLAUWEKNOP_DEMO=True``, set by ``make demo`` and the tests) may
read them from its data folder instead, where ``python -m blauweknop.demo.first_run`` made them.
Loading these settings writes nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from blauweknop.demo import first_run
from blauweknop.demo.organisations import demo_holder_oins, demo_requester_oins
from blauweknop.protocol.identifiers import is_valid_oin


def env(name: str, default: str = "") -> str:
    """A setting from ``NAME``, or from the file named by ``NAME_FILE`` (for container secrets)."""
    if f"{name}_FILE" in os.environ:
        try:
            return Path(os.environ[f"{name}_FILE"]).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE names a file that cannot be read ({exc.strerror}).") from None
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    """``True`` or ``False`` exactly; anything else is a configuration error, not a guess."""
    value = env(name, str(default))
    if value not in ("True", "False"):
        raise ImproperlyConfigured(f"{name} must be True or False, not {value!r}")
    return value == "True"


def envlist(name: str, default: str) -> list[str]:
    """A comma-separated list."""
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number, at least ``minimum``; anything else is a configuration error."""
    value = env(name, str(default))
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be {minimum} or more, not {number}")
    return number


def envjson(name: str, default: str) -> dict:
    """A JSON object; anything else is a configuration error that names the setting."""
    try:
        value = json.loads(env(name, default))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a JSON object, and is not valid JSON") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object ({{...}})")
    return value


def secret(name: str) -> str:
    """A secret from the environment; in the demo, from the data folder if the environment has none."""
    if value := env(name):
        return value
    if not DEMO:
        raise ImproperlyConfigured(
            f"{name} is not set. Set {name} or {name}_FILE (or BLAUWEKNOP_DEMO=True for the demo)."
        )
    path = first_run.secret_path(DATA_DIR, name)
    if not path.exists():
        raise ImproperlyConfigured(
            f"{name} is not set and the demo has no {path} yet: run `python -m blauweknop.demo.first_run` "
            f"(make demo does), or set {name}."
        )
    return path.read_text().strip()


PACKAGE_DIR = Path(__file__).resolve().parent
# The database, keys and generated files of the demo; anchored to the project, never to the current folder.
DATA_DIR = first_run.data_dir()
# The demo, the browser tests and the test suite: secrets from the data folder, keys made at first use,
# the DigiD mock. Never in a real deployment.
DEMO = envbool("BLAUWEKNOP_DEMO", False)

DEBUG = envbool("DJANGO_DEBUG", False)
SECRET_KEY = secret("DJANGO_SECRET_KEY")
# Keyed pseudonyms for citizens in logs and access records: never the BSN itself.
PSEUDONYM_KEY = secret("BLAUWEKNOP_PSEUDONYM_KEY")
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

# Which roles this deployment plays; the demo plays them all in one process.
ALL_ROLES = ("scheme", "holder", "portal", "requester")
BLAUWEKNOP_ROLES = envlist("BLAUWEKNOP_ROLES", ",".join(ALL_ROLES))
if unknown := set(BLAUWEKNOP_ROLES) - set(ALL_ROLES):
    raise ImproperlyConfigured(f"BLAUWEKNOP_ROLES has unknown roles: {', '.join(sorted(unknown))}")
if not BLAUWEKNOP_ROLES:
    raise ImproperlyConfigured(f"BLAUWEKNOP_ROLES names no role: use one or more of {', '.join(ALL_ROLES)}")
# The server half of the key to each citizen's vault (docs/vault.md); only a portal has a vault.
VAULT_KEY = secret("BLAUWEKNOP_VAULT_KEY") if "portal" in BLAUWEKNOP_ROLES else ""

# The organisations a holder deployment issues for, by OIN; all else about them comes from the scheme
# document. The demo issues for its own holders; elsewhere they must be named.
HOLDER_OINS = envlist("BLAUWEKNOP_HOLDER_OINS", ",".join(demo_holder_oins()) if DEMO else "")
if bad := [oin for oin in HOLDER_OINS if not is_valid_oin(oin)]:
    raise ImproperlyConfigured(f"BLAUWEKNOP_HOLDER_OINS must list OINs of 20 digits, not {', '.join(bad)}")
if "holder" in BLAUWEKNOP_ROLES and not HOLDER_OINS:
    raise ImproperlyConfigured(
        "This deployment plays the holder role, but BLAUWEKNOP_HOLDER_OINS names no organisation. "
        "Set it to the OINs it issues for, separated by commas."
    )

# The organisations a requester deployment asks data for (variant Plus), by OIN; as with holders, all else
# about them comes from the scheme document.
REQUESTER_OINS = envlist("BLAUWEKNOP_REQUESTER_OINS", ",".join(demo_requester_oins()) if DEMO else "")
if bad := [oin for oin in REQUESTER_OINS if not is_valid_oin(oin)]:
    raise ImproperlyConfigured(f"BLAUWEKNOP_REQUESTER_OINS must list OINs of 20 digits, not {', '.join(bad)}")
if "requester" in BLAUWEKNOP_ROLES and not REQUESTER_OINS:
    raise ImproperlyConfigured(
        "This deployment plays the requester role, but BLAUWEKNOP_REQUESTER_OINS names no organisation. "
        "Set it to the OINs it asks data for, separated by commas."
    )

# Where this deployment is reached; issuer URLs and links in PDFs are made from it.
BASE_URL = env("BLAUWEKNOP_BASE_URL", f"http://127.0.0.1:{env('PORT', '8000')}").rstrip("/")
# Where the scheme document is fetched from (the scheme operator's deployment).
SCHEME_URL = env("BLAUWEKNOP_SCHEME_URL", BASE_URL + "/stelsel").rstrip("/")
KEY_DIR = Path(env("BLAUWEKNOP_KEY_DIR", str(DATA_DIR / "keys")))
# The scheme operator's public keys (a JWKS): the trust anchor. Empty means: this deployment is
# the scheme operator, so its own key is the anchor.
SCHEME_JWKS = env("BLAUWEKNOP_SCHEME_JWKS")
if SCHEME_JWKS and not isinstance(envjson("BLAUWEKNOP_SCHEME_JWKS", "{}").get("keys"), list):
    raise ImproperlyConfigured('BLAUWEKNOP_SCHEME_JWKS must be the operator\'s JWK Set: {"keys": [...]}')
if "scheme" not in BLAUWEKNOP_ROLES and not DEMO:
    # Without these it would trust, and fetch from, itself: it could never become ready.
    for needed in ("BLAUWEKNOP_SCHEME_URL", "BLAUWEKNOP_SCHEME_JWKS"):
        if not env(needed):
            raise ImproperlyConfigured(f"{needed} is not set: a deployment without the scheme role needs it.")
# The public verify page that PDFs point to (the portal's, wherever it runs).
VERIFY_URL = env("BLAUWEKNOP_VERIFY_URL", BASE_URL + "/controleren/")
# The portal's own OIN: it signs session assertions to holders as this certified app manager.
PORTAL_OIN = env("BLAUWEKNOP_PORTAL_OIN", "00000001234567890000")
# The overview asks every holder at once; one that has not answered within this many seconds shows as unreachable.
OVERVIEW_TIMEOUT = envint("BLAUWEKNOP_OVERVIEW_TIMEOUT", 5, minimum=1)
# A holder that failed this many answers in a row is not asked for BREAKER_WAIT seconds, then once on trial.
BREAKER_FAILURES = envint("BLAUWEKNOP_BREAKER_FAILURES", 3, minimum=1)
BREAKER_WAIT = envint("BLAUWEKNOP_BREAKER_WAIT", 60, minimum=1)
# The bearer token the operator's monitoring sends for /metrics; without one, /metrics does not exist.
METRICS_TOKEN = env("BLAUWEKNOP_METRICS_TOKEN")
# How a holder reads its own registry (see blauweknop.holder.sources).
SOURCE_ADAPTER = env("BLAUWEKNOP_SOURCE_ADAPTER", "blauweknop.holder.sources.SqlTableAdapter")
SOURCE_ADAPTER_OPTIONS = envjson("BLAUWEKNOP_SOURCE_ADAPTER_OPTIONS", "{}")
# Credentials per status list; a holder starts the next list when one is full.
STATUS_LIST_SIZE = envint("BLAUWEKNOP_STATUS_LIST_SIZE", 2**17, minimum=1)
# A status list download that has not finished within this many seconds in all is given up (a slow server).
STATUS_LIST_DEADLINE = envint("BLAUWEKNOP_STATUS_LIST_DEADLINE", 3, minimum=1)

# Each role brings its own apps, and so its own tables and migrations; none needs another role's.
# Staff of the operator, of holders and of requesters log in with a password and a second factor (TOTP or a passkey);
# wrong passwords lock out.
STAFF_APPS = ["blauweknop.staff", "django_otp", "django_otp.plugins.otp_totp", "django_otp_webauthn", "axes"]
ROLE_APPS = {
    "scheme": ["blauweknop.scheme", *STAFF_APPS],
    "holder": ["blauweknop.holder", "blauweknop.audit", *STAFF_APPS],
    "portal": ["blauweknop.portal", "digid_eherkenning", "privates", "simple_certmanager", "solo"],
    "requester": ["blauweknop.requester", *STAFF_APPS],
}
STAFF_ROLES = {"scheme", "holder", "requester"} & set(BLAUWEKNOP_ROLES)  # the roles whose staff log in
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "blauweknop.accounts",
    # Once each, in role order: two roles may share apps (the staff login).
    *dict.fromkeys(app for role in ALL_ROLES if role in BLAUWEKNOP_ROLES for app in ROLE_APPS[role]),
    # seed_demo fills the scheme and holder roles; a portal alone has nothing to seed.
    *(["blauweknop.demo"] if {"scheme", "holder"} & set(BLAUWEKNOP_ROLES) else []),
    "csp",
    "django_tasks",
    "django_tasks_db",
    "django_prometheus",
]

# Background work (housekeeping, re-signing) goes through Django's Tasks API to a worker process.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# E-mail: only "there is news about your correction request" (blauweknop.portal.notifications). A real deployment
# sends through its SMTP server; the demo stores every mail for its inbox page (/demo/inbox/) and sends nothing.
EMAIL_BACKEND = "blauweknop.portal.inbox.DemoInboxBackend" if DEMO else "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("DJANGO_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("DJANGO_EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set DJANGO_EMAIL_USE_TLS or DJANGO_EMAIL_USE_SSL, not both: a server speaks one.")
EMAIL_TIMEOUT = 10  # seconds for each step with the mail server: a slow one must not hold a worker
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", "De Blauwe Knop <noreply@localhost>")

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files leave here, with their own caching
    "blauweknop.security.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "blauweknop.api.ApiMiddleware",  # sees the errors of every layer below it
    "django.contrib.sessions.middleware.SessionMiddleware",
    "blauweknop.i18n.DutchFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The staff of the operator, holders and requesters: request.user.is_verified() (second factor), axes lockout.
    *(["django_otp.middleware.OTPMiddleware", "axes.middleware.AxesMiddleware"] if STAFF_ROLES else []),
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Sync only, so last: every middleware above then runs in the request's one thread as plain calls.
    # Anywhere higher, those below it run in async mode, which costs two thread hand-offs each.
    # Every role has pages that meet outages (no scheme document, a signing key not held here): a page, no 500.
    "blauweknop.outage.OutageMiddleware",
]

ROOT_URLCONF = "blauweknop.urls"
ASGI_APPLICATION = "blauweknop.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blauweknop.context.deployment",
            ],
        },
    },
]

# SQLite in WAL mode is the embedded default; PostgreSQL through DATABASE_URL for production.
# conn_max_age=0: connections go back to the pool (PostgreSQL) or are closed after each request.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'blauweknop.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Writers take the lock when their transaction starts, so two never deadlock half-way.
        "transaction_mode": "IMMEDIATE",
        # The sqlite3 module's busy timeout, in seconds: a writer waits its turn instead of failing.
        "timeout": envint("BLAUWEKNOP_SQLITE_TIMEOUT", 20),
        # secure_delete: a deleted row (a vault's key, a sealed copy) is overwritten, not left in a free page.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg's pool, per worker process: at most MAX connections each, so workers x MAX must stay
    # below the server's max_connections. A request waits up to TIMEOUT seconds for a free one.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": envint("BLAUWEKNOP_DB_POOL_MIN", 2, minimum=0),
            "max_size": envint("BLAUWEKNOP_DB_POOL_MAX", 10, minimum=1),
            "timeout": envint("BLAUWEKNOP_DB_POOL_TIMEOUT", 30, minimum=1),
        },
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache shared by every web process and worker of a deployment (scheme document, status lists):
# a table in the database by default (made by a migration), Redis when BLAUWEKNOP_CACHE_URL names one.
CACHE_TABLE = "blauweknop_cache"
CACHE_URL = env("BLAUWEKNOP_CACHE_URL")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("BLAUWEKNOP_CACHE_URL must be a redis://, rediss:// or unix:// address.")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
}

# Citizens log in with DigiD through django-digid-eherkenning. The demo uses a DigiD mock that
# keeps the BSN out of every URL; real DigiD is SAML, configured in the admin of that package.
AUTH_USER_MODEL = "accounts.User"
DIGID_MOCK = envbool("BLAUWEKNOP_DIGID_MOCK", DEMO)
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out staff login is refused before a password is checked (axes scopes itself to it).
    *(["axes.backends.AxesStandaloneBackend"] if STAFF_ROLES else []),
    "digid_eherkenning.mock.backends.DigiDBackend" if DIGID_MOCK else "digid_eherkenning.backends.DigiDBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "portal:login" if DIGID_MOCK else "digid:login"
PRIVATE_MEDIA_ROOT = DATA_DIR / "private-media"
PRIVATE_MEDIA_URL = "/private-media/"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"  # collectstatic's target; WhiteNoise also serves from the finders
# NL Design System CSS, installed from npm by the setup (package.json), served by WhiteNoise.
NODE_MODULES = Path(env("BLAUWEKNOP_NODE_MODULES", str(PACKAGE_DIR.parent.parent / "node_modules")))
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/utrecht", NODE_MODULES / "@utrecht" / "component-library-css" / "dist"),
]
WHITENOISE_USE_FINDERS = True  # serve straight from the folders above, also without collectstatic

# Database sessions that refuse keys Django could not have made (a NUL in a cookie broke PostgreSQL).
SESSION_ENGINE = "blauweknop.portal.session_store"
SESSION_COOKIE_AGE = 15 * 60  # a citizen session lasts at most 15 minutes
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Over https (a real deployment): secure cookies, a redirect from http, and HSTS. Behind a proxy that
# ends TLS, uvicorn's --proxy-headers (with --forwarded-allow-ips) tells Django the request was https.
HTTPS = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = HTTPS
# Probes and the metrics scrape come from inside the cluster, over plain http.
SECURE_REDIRECT_EXEMPT = [r"^gezondheid/", r"^metrics$"]
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = HTTPS
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: the pages use the stylesheets under /static/ only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        # Real DigiD logs in with a form posted to its IdP: name that address here.
        "form-action": ["'self'", *envlist("BLAUWEKNOP_CSP_FORM_ACTION", "")],
        "frame-ancestors": ["'none'"],
    }
}

# Request bodies larger than this are refused with 413 before they are read further (blauweknop.limits).
MAX_REQUEST_BODY = envint("BLAUWEKNOP_MAX_REQUEST_BODY", 256 * 1024)
# The verify page takes a copy of up to 2 MB, plus room for the form around it.
MAX_UPLOAD_BODY = envint("BLAUWEKNOP_MAX_UPLOAD_BODY", 2 * 1024 * 1024 + 64 * 1024)
UPLOAD_PATHS = ("/controleren/",)
# Django reads a JSON body into memory and refuses one over this; BodyLimit (blauweknop.limits) holds every body to
# its address's cap first, the largest being a correction request with its attachment in base64 (ATTACHMENT_BODY).
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# Every line goes through one handler that masks check codes in paths (blauweknop.log_filters).
# uvicorn configures its own loggers before it loads this app; this configuration comes later and
# sends theirs (the access log writes every path) through that handler too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"hide_check_codes": {"()": "blauweknop.log_filters.HideCheckCodes"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["hide_check_codes"]}},
    "loggers": {
        name: {"handlers": ["console"], "propagate": False} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    },
    "root": {"handlers": ["console"], "level": env("BLAUWEKNOP_LOG_LEVEL", "INFO")},
}

# The staff logins of requesters and of the operator (blauweknop.staff.login): lockout after repeated wrong
# passwords, for those logins only (never the DigiD login); a passkey as a second factor, never instead of the password.
AXES_WHITELIST_CALLABLE = "blauweknop.staff.login.outside_staff_login"
AXES_LOCKOUT_CALLABLE = "blauweknop.staff.login.locked_out"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one address cannot lock a colleague out everywhere
AXES_FAILURE_LIMIT = 5  # wrong passwords in a row before the login is locked for AXES_COOLOFF_TIME
AXES_COOLOFF_TIME = 0.5  # hours
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful logins are not kept
AXES_SENSITIVE_PARAMETERS = ["username", "password", "ip_address", "token"]
OTP_TOTP_ISSUER = "De Blauwe Knop"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# A passkey belongs to a domain name; http is allowed for localhost only, so the demo's 127.0.0.1 becomes localhost.
OTP_WEBAUTHN_ORIGIN = BASE_URL if HTTPS else BASE_URL.replace("//127.0.0.1", "//localhost")
OTP_WEBAUTHN_RP_ID = OTP_WEBAUTHN_ORIGIN.split("//", 1)[1].split("/", 1)[0].split(":", 1)[0]
OTP_WEBAUTHN_RP_NAME = "De Blauwe Knop"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [OTP_WEBAUTHN_ORIGIN]
