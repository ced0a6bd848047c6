"""Bahasa Indonesia unless the person chose otherwise."""

from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    """Activates the language chosen with the site's language switch (a
    cookie), or Bahasa Indonesia. Unlike Django's LocaleMiddleware it ignores
    the browser's Accept-Language: many phones here are set to English, and
    the programme speaks Indonesian first."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
