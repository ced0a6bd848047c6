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
        if request.path.startswith("/api/"):
            # The partner API has no cookies: its clients say Accept-Language.
            language = translation.get_language_from_request(request)
        else:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class IdentityNumbersOutOfUrlsMiddleware:
    """A query parameter shaped like a NIK or KK (16 digits, whatever
    separates them) is dropped: the browser is sent to the same page without
    it and told why, so the number stays out of its history, of the next
    page's referrer and of every later log. Such numbers are searched by
    POST (the admin's NIK search form)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from prakerja.inputs import has_identity_number

        if request.GET and any(
            has_identity_number(key) or any(has_identity_number(value) for value in values)
            for key, values in request.GET.lists()
        ):
            from django.contrib import messages
            from django.http import HttpResponseRedirect, JsonResponse
            from django.utils.translation import gettext as _

            if request.path.startswith("/api/"):
                # A program is told, not redirected: the request is refused.
                message = _("A number shaped like a NIK or KK cannot be put in a URL; send it in the body.")
                return JsonResponse({"error": {"code": "identity_number_in_url", "message": message}}, status=400)
            kept = request.GET.copy()
            for key, values in request.GET.lists():
                if has_identity_number(key) or any(has_identity_number(value) for value in values):
                    del kept[key]
            if hasattr(request, "_messages"):
                messages.warning(
                    request,
                    _(
                        "A number shaped like a NIK or KK cannot be put in a page address. "
                        "To find a participant by NIK, use the NIK search form."
                    ),
                )
            query = kept.urlencode()
            return HttpResponseRedirect(request.path + (f"?{query}" if query else ""), status=303)
        return self.get_response(request)
