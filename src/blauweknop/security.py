"""Response headers that keep personal data out of caches, and a small helper for such middleware.

Every page and download may carry personal data, so nothing may keep a copy unless the view says
so itself: a response without its own ``Cache-Control`` gets ``no-store``. Public, signed documents
(status lists, the scheme document) set their own caching and keep it. Static files never get
here: WhiteNoise answers them earlier in the middleware.
"""

from __future__ import annotations

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

ResponseRule = Callable[[HttpRequest, HttpResponseBase], HttpResponseBase]


def response_middleware(rule: ResponseRule) -> Callable:
    """Middleware that applies ``rule`` to every response, in sync and async stacks alike.

    Async-capable, so an ASGI request is not moved to a thread and back just to set a header.
    """

    @sync_and_async_middleware
    def middleware(get_response: Callable) -> Callable:
        if iscoroutinefunction(get_response):

            async def async_call(request: HttpRequest) -> HttpResponseBase:
                return rule(request, await get_response(request))

            return async_call

        def call(request: HttpRequest) -> HttpResponseBase:
            return rule(request, get_response(request))

        return call

    middleware.__doc__ = rule.__doc__
    return middleware


def no_store_unless_cached_on_purpose(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Add ``Cache-Control: no-store`` unless the response chose its own caching."""
    if not response.has_header("Cache-Control"):
        response["Cache-Control"] = "no-store"
    return response


NoStoreMiddleware = response_middleware(no_store_unless_cached_on_purpose)
