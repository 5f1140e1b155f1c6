"""The middleware stack costs no thread hand-offs it does not need (issue 7, item 5).

Under ASGI, Django runs a middleware that can do both in async mode when the handler below it is
async, and Django's own middleware (MiddlewareMixin) in async mode hands each of its hooks to a
thread and back: two hand-offs per request each. A sync-only middleware makes every middleware
above it run sync, in the request's one thread, as plain calls. So the sync-only ones go last.
"""

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string


def _modes(paths: list[str]) -> dict[str, bool]:
    """Whether Django runs each middleware in async mode under ASGI (as BaseHandler.load_middleware decides)."""
    handler_is_async, modes = True, {}
    for path in reversed(paths):
        middleware = import_string(path)
        if not getattr(middleware, "async_capable", False):
            handler_is_async = False
        elif not getattr(middleware, "sync_capable", True):
            handler_is_async = True
        modes[path] = handler_is_async
    return modes


def test_it_runs_no_mixin_middleware_in_async_mode():
    handing_off = [
        path
        for path, is_async in _modes(settings.MIDDLEWARE).items()
        if is_async and issubclass(import_string(path), MiddlewareMixin)
    ]
    assert handing_off == []
