"""Dutch first: a page is in Dutch unless the visitor chose English with the language switch."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class DutchFirstLocaleMiddleware(LocaleMiddleware):
    """Like Django's, but the browser's own language list is ignored: the choice is the visitor's."""

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def language() -> str:
    """The active language as the catalogue's words are keyed: "en" or "nl"."""
    return "en" if (translation.get_language() or "nl").startswith("en") else "nl"
