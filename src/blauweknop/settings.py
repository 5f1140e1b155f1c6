"""Django settings, read from the environment only (one settings module for every deployment).

Every variable has a safe default for the demo. Secrets are never in this file: they come from
the environment (``NAME`` or ``NAME_FILE``) or are generated at first run under the data folder.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str = "") -> str:
    """A setting from ``NAME``, or from the file named by ``NAME_FILE`` (for container secrets)."""
    if f"{name}_FILE" in os.environ:
        return Path(os.environ[f"{name}_FILE"]).read_text().strip()
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


def _generated_secret(path: Path) -> str:
    """A secret kept in the data folder, made once at first run and readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("BLAUWEKNOP_DATA_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = envbool("DJANGO_DEBUG", False)
SECRET_KEY = env("DJANGO_SECRET_KEY") or _generated_secret(DATA_DIR / "secrets" / "django-secret-key")
# Keyed pseudonyms for citizens in logs and access records: never the BSN itself.
PSEUDONYM_KEY = env("BLAUWEKNOP_PSEUDONYM_KEY") or _generated_secret(DATA_DIR / "secrets" / "pseudonym-key")
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

# Which roles this deployment plays; the demo plays them all in one process.
ALL_ROLES = ("scheme", "holder", "portal")
BLAUWEKNOP_ROLES = envlist("BLAUWEKNOP_ROLES", ",".join(ALL_ROLES))
if unknown := set(BLAUWEKNOP_ROLES) - set(ALL_ROLES):
    raise ImproperlyConfigured(f"BLAUWEKNOP_ROLES has unknown roles: {', '.join(sorted(unknown))}")

# Where this deployment is reached; issuer URLs and links in PDFs are made from it.
BASE_URL = env("BLAUWEKNOP_BASE_URL", f"http://127.0.0.1:{env('PORT', '8000')}").rstrip("/")
# Where the scheme document is fetched from (the scheme operator's deployment).
SCHEME_URL = env("BLAUWEKNOP_SCHEME_URL", BASE_URL + "/stelsel").rstrip("/")
KEY_DIR = Path(env("BLAUWEKNOP_KEY_DIR", str(DATA_DIR / "keys")))
# The scheme operator's public keys (a JWKS): the trust anchor. Empty means: this deployment is
# the scheme operator, so its own key is the anchor.
SCHEME_JWKS = env("BLAUWEKNOP_SCHEME_JWKS")
# The public verify page that PDFs point to (the portal's, wherever it runs).
VERIFY_URL = env("BLAUWEKNOP_VERIFY_URL", BASE_URL + "/controleren/")
# The portal's own OIN: it signs session assertions to holders as this certified app manager.
PORTAL_OIN = env("BLAUWEKNOP_PORTAL_OIN", "00000001234567890000")
# How a holder reads its own registry (see blauweknop.holder.sources).
SOURCE_ADAPTER = env("BLAUWEKNOP_SOURCE_ADAPTER", "blauweknop.holder.sources.SqlTableAdapter")
SOURCE_ADAPTER_OPTIONS = json.loads(env("BLAUWEKNOP_SOURCE_ADAPTER_OPTIONS", "{}"))
# Credentials per status list; a holder starts the next list when one is full.
STATUS_LIST_SIZE = int(env("BLAUWEKNOP_STATUS_LIST_SIZE", str(2**17)))

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "privates",
    "simple_certmanager",
    "solo",
    "digid_eherkenning",
    "blauweknop.accounts",
    "blauweknop.scheme",
    "blauweknop.holder",
    "blauweknop.audit",
    "blauweknop.demo",
    "blauweknop.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "blauweknop.i18n.DutchFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "blauweknop.portal.outage.SchemeOutageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "blauweknop.api.ApiVersionMiddleware",
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
            ],
        },
    },
]

# SQLite in WAL mode is the embedded default; PostgreSQL through DATABASE_URL for production.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'blauweknop.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
    # Tests run the roles in several threads (a live server beside the test client); a shared
    # in-memory database fails on table locks, a file in WAL mode waits for them instead.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Citizens log in with DigiD through django-digid-eherkenning. The demo uses a DigiD mock that
# keeps the BSN out of every URL; real DigiD is SAML, configured in the admin of that package.
AUTH_USER_MODEL = "accounts.User"
DIGID_MOCK = envbool("BLAUWEKNOP_DIGID_MOCK", True)
AUTHENTICATION_BACKENDS = [
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
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# NL Design System CSS, installed from npm by the setup (package.json), served by WhiteNoise.
NODE_MODULES = Path(env("BLAUWEKNOP_NODE_MODULES", str(PACKAGE_DIR.parent.parent / "node_modules")))
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/utrecht", NODE_MODULES / "@utrecht" / "component-library-css" / "dist"),
    ("vendor/tokens", NODE_MODULES / "@nl-design-system-unstable" / "voorbeeld-design-tokens" / "dist"),
]
WHITENOISE_USE_FINDERS = True  # serve straight from the folders above, also without collectstatic

SESSION_COOKIE_AGE = 15 * 60  # a citizen session lasts at most 15 minutes
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("BLAUWEKNOP_LOG_LEVEL", "INFO")},
}
