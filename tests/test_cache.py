"""The shared cache: a database table by default, made by migrate, so every process of a deployment sees one cache."""

import json

import pytest
from django.core.cache import cache

from tests.test_settings import load_settings, production_environment


@pytest.mark.django_db(transaction=True)
def test_the_default_cache_is_a_table_that_migrate_made() -> None:
    cache.set("stelseldocument", "token", 60)
    assert cache.get("stelseldocument") == "token"


def test_a_redis_cache_is_used_when_configured(tmp_path) -> None:
    env = production_environment(tmp_path, BLAUWEKNOP_CACHE_URL="redis://cache.internal:6379/0")
    done = load_settings(env, cwd=tmp_path, expression="settings.CACHES['default']")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/0",
    }


def test_it_refuses_a_cache_address_it_cannot_use(tmp_path) -> None:
    env = production_environment(tmp_path, BLAUWEKNOP_CACHE_URL="memcached://cache.internal")
    done = load_settings(env, cwd=tmp_path)
    assert done.returncode != 0
    assert "BLAUWEKNOP_CACHE_URL must be a redis://" in done.stderr
