"""Settings: secrets only from the environment outside the demo, nothing written at import, databases tuned."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from blauweknop import keystore
from blauweknop.demo import first_run
from blauweknop.protocol.jwk import SigningKey, generate_jwk

REPO = Path(__file__).resolve().parents[1]
SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"


def production_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """A real deployment's environment: https, secrets set, no demo; nothing of the test run's own."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("BLAUWEKNOP_", "DJANGO_", "DATABASE_"))}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "blauweknop.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "BLAUWEKNOP_PSEUDONYM_KEY": secrets.token_urlsafe(50),
        "BLAUWEKNOP_VAULT_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "blauweknop.example",
        "DJANGO_DEBUG": "False",
        "BLAUWEKNOP_BASE_URL": "https://blauweknop.example",
        "BLAUWEKNOP_DATA_DIR": str(data_dir),
        "BLAUWEKNOP_HOLDER_OINS": "00000009999999999000",
        "BLAUWEKNOP_REQUESTER_OINS": "00000009999999998000",
        "BLAUWEKNOP_SCHEME_URL": "https://stelsel.blauweknop.example/stelsel",
        "BLAUWEKNOP_SCHEME_JWKS": json.dumps({"keys": [SigningKey(generate_jwk()).public_jwk]}),
        **extra,
    }


def load_settings(env: dict[str, str], cwd: Path, expression: str = "None") -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh process and print ``expression`` as JSON."""
    code = f"import json, django; from django.conf import settings; django.setup(); print(json.dumps({expression}))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_no_generated_secret_or_key_is_in_git():
    tracked = subprocess.run(
        [shutil.which("git"), "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    leaked = [name for name in tracked.splitlines() if "/var/" in f"/{name}" or name.endswith(".jwk")]
    assert leaked == []


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "BLAUWEKNOP_PSEUDONYM_KEY", "BLAUWEKNOP_VAULT_KEY"])
def test_it_refuses_to_start_without_a_secret_outside_the_demo(tmp_path, missing):
    env = production_environment(tmp_path / "data")
    del env[missing]
    done = load_settings(env, cwd=tmp_path)
    assert done.returncode != 0
    assert f"ImproperlyConfigured: {missing} is not set" in done.stderr
    assert files_under(tmp_path) == []


def test_loading_the_settings_writes_nothing_and_follows_the_project_not_the_current_folder(tmp_path):
    env = production_environment(tmp_path / "data")
    del env["BLAUWEKNOP_DATA_DIR"]
    done = load_settings(env, cwd=tmp_path, expression="str(settings.DATA_DIR)")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == str(REPO / "var")
    assert files_under(tmp_path) == []


def test_the_demo_reads_the_secrets_its_first_run_made_and_never_makes_them_itself(tmp_path):
    data = tmp_path / "data"
    demo = production_environment(data, BLAUWEKNOP_DEMO="True")
    for variable in first_run.DEMO_SECRETS:
        del demo[variable]
    before = load_settings(demo, cwd=tmp_path)
    assert "python -m blauweknop.demo.first_run" in before.stderr
    assert files_under(tmp_path) == []

    made = first_run.prepare(data)
    assert len(made) == len(first_run.DEMO_SECRETS)
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in made)
    assert first_run.prepare(data) == [], "a second run keeps the secrets it made"
    after = load_settings(demo, cwd=tmp_path, expression="settings.SECRET_KEY")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == first_run.secret_path(data, "DJANGO_SECRET_KEY").read_text()


def test_it_refuses_a_missing_signing_key_outside_the_demo(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "DEMO", False)
    monkeypatch.setattr(settings, "KEY_DIR", tmp_path)
    monkeypatch.delenv("BLAUWEKNOP_KEY_STELSEL", raising=False)
    with pytest.raises(ImproperlyConfigured, match="BLAUWEKNOP_KEY_STELSEL"):
        keystore.signing_key("stelsel")
    assert files_under(tmp_path) == []


def test_the_demo_makes_a_missing_signing_key_once(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "KEY_DIR", tmp_path)
    key = keystore.signing_key("stelsel")
    assert files_under(tmp_path) == [tmp_path / "stelsel.jwk"]
    assert stat.S_IMODE((tmp_path / "stelsel.jwk").stat().st_mode) == 0o600
    assert keystore.signing_key("stelsel") is key


def test_the_postgresql_pool_is_sized_from_the_environment(tmp_path):
    env = production_environment(
        tmp_path,
        DATABASE_URL="postgres://blauweknop@db.example/blauweknop",
        BLAUWEKNOP_DB_POOL_MIN="3",
        BLAUWEKNOP_DB_POOL_MAX="7",
    )
    done = load_settings(env, cwd=tmp_path, expression='settings.DATABASES["default"]')
    assert done.returncode == 0, done.stderr
    database = json.loads(done.stdout)
    assert database["OPTIONS"]["pool"] == {"min_size": 3, "max_size": 7, "timeout": 30}
    assert database["CONN_MAX_AGE"] == 0, "Django's pool refuses persistent connections"


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != POSTGRESQL, reason="PostgreSQL only")
@pytest.mark.django_db
def test_postgresql_connections_come_from_the_pool():
    connection.ensure_connection()
    assert connection.pool is not None
    assert connection.pool.max_size == settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != SQLITE, reason="SQLite only")
@pytest.mark.django_db(transaction=True)
def test_sqlite_waits_20_seconds_for_a_lock_in_wal_mode():
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 20_000
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != SQLITE, reason="SQLite only")
@pytest.mark.django_db(transaction=True)
def test_sqlite_transactions_take_the_write_lock_when_they_start():
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        # Nothing written yet: only a transaction begun IMMEDIATE holds the write lock already.
        with transaction.atomic(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_real_deployment_never_falls_back_to_the_digid_mock(tmp_path):
    done = load_settings(production_environment(tmp_path), cwd=tmp_path, expression="settings.DIGID_MOCK")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) is False, "the mock lets anyone log in with any BSN"


def test_processes_of_the_demo_making_one_key_at_once_all_read_the_same_whole_key(tmp_path):
    # The lock in signing_key is per process; the web process, the worker and the scheduler are not.
    start, results, errors = threading.Barrier(16), [], []

    def make() -> None:
        start.wait()
        try:
            results.append(keystore._from_folder("stelsel", tmp_path / "stelsel.jwk"))
        except Exception as exc:  # a half-written file read as JSON
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({json.dumps(jwk, sort_keys=True) for jwk in results}) == 1
    assert files_under(tmp_path) == [tmp_path / "stelsel.jwk"], "no draft is left behind"


def test_it_refuses_a_holder_role_that_names_no_organisation_outside_the_demo(tmp_path):
    env = production_environment(tmp_path / "data", BLAUWEKNOP_ROLES="holder")
    del env["BLAUWEKNOP_HOLDER_OINS"]
    done = load_settings(env, cwd=tmp_path)
    assert done.returncode != 0
    assert "plays the holder role, but BLAUWEKNOP_HOLDER_OINS names no organisation" in done.stderr
    assert load_settings({**env, "BLAUWEKNOP_ROLES": "scheme,portal"}, cwd=tmp_path).returncode == 0


def test_it_refuses_a_holder_oin_that_is_not_one(tmp_path):
    env = production_environment(tmp_path / "data", BLAUWEKNOP_HOLDER_OINS="00000009999999999000,12345")
    done = load_settings(env, cwd=tmp_path)
    assert done.returncode != 0 and "BLAUWEKNOP_HOLDER_OINS must list OINs of 20 digits, not 12345" in done.stderr


@pytest.mark.parametrize(
    ("roles", "expected", "absent"),
    [
        ("scheme", {"blauweknop.scheme", "blauweknop.demo"}, {"blauweknop.holder", "blauweknop.portal", "solo"}),
        ("holder", {"blauweknop.holder", "blauweknop.audit", "blauweknop.demo"}, {"blauweknop.scheme", "privates"}),
        ("portal", {"blauweknop.portal", "digid_eherkenning", "solo"}, {"blauweknop.scheme", "blauweknop.demo"}),
    ],
)
def test_the_installed_apps_follow_the_roles(tmp_path, roles, expected, absent):
    env = production_environment(tmp_path / "data", BLAUWEKNOP_ROLES=roles)
    done = load_settings(env, cwd=tmp_path, expression="[settings.INSTALLED_APPS, settings.MIDDLEWARE]")
    assert done.returncode == 0, done.stderr
    apps, middleware = json.loads(done.stdout)
    assert expected <= set(apps) and not absent & set(apps)
    assert {"blauweknop.accounts", "django_tasks_db", "django_prometheus", "csp"} <= set(apps)
    assert middleware[-1] == "blauweknop.outage.OutageMiddleware"  # every role has pages that meet outages


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "BLAUWEKNOP_STATUS_LIST_SIZE",
            "0",
            "BLAUWEKNOP_STATUS_LIST_SIZE must be 1 or more",
        ),  # issuance looped forever
        ("BLAUWEKNOP_STATUS_LIST_SIZE", "-1", "BLAUWEKNOP_STATUS_LIST_SIZE must be 1 or more"),
        ("BLAUWEKNOP_STATUS_LIST_SIZE", "abc", "BLAUWEKNOP_STATUS_LIST_SIZE must be a whole number"),
        ("BLAUWEKNOP_SOURCE_ADAPTER_OPTIONS", "{x", "BLAUWEKNOP_SOURCE_ADAPTER_OPTIONS must be a JSON object"),
        ("BLAUWEKNOP_SOURCE_ADAPTER_OPTIONS", "[1]", "BLAUWEKNOP_SOURCE_ADAPTER_OPTIONS must be a JSON object"),
        ("BLAUWEKNOP_SCHEME_JWKS", "{x", "BLAUWEKNOP_SCHEME_JWKS must be a JSON object"),
        ("BLAUWEKNOP_SCHEME_JWKS", '{"sleutels": []}', "BLAUWEKNOP_SCHEME_JWKS must be the operator's JWK Set"),
        ("BLAUWEKNOP_ROLES", ",", "BLAUWEKNOP_ROLES names no role"),
        ("DJANGO_SECRET_KEY_FILE", "/nergens/geheim", "DJANGO_SECRET_KEY_FILE names a file that cannot be read"),
    ],
)
def test_it_refuses_a_setting_it_cannot_work_with_and_names_it(tmp_path, setting, value, message):
    done = load_settings(production_environment(tmp_path / "data", **{setting: value}), cwd=tmp_path)
    assert done.returncode != 0
    assert f"ImproperlyConfigured: {message}" in done.stderr


@pytest.mark.parametrize("missing", ["BLAUWEKNOP_SCHEME_URL", "BLAUWEKNOP_SCHEME_JWKS"])
def test_a_deployment_without_the_scheme_role_needs_the_operators_address_and_key(tmp_path, missing):
    # Without them a holder fetched from, and trusted, itself: it started but could never become ready.
    env = production_environment(tmp_path / "data", BLAUWEKNOP_ROLES="holder,portal")
    del env[missing]
    done = load_settings(env, cwd=tmp_path)
    assert done.returncode != 0
    assert f"ImproperlyConfigured: {missing} is not set" in done.stderr
