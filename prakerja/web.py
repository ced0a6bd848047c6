"""Web helpers every app's pages share: a service's refusal onto a form, the
gates of institution and platform staff, each role's home, and the net that
turns a refusal no view caught into a message instead of a 500."""

import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

log = logging.getLogger(__name__)


def apply_errors(form, error: ValidationError, field: str | None = None) -> None:
    """Puts a service's refusal next to the fields it concerns (``field`` for
    a refusal that names none)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(field, error)


def _staff_of(model_name: str, doc: str):
    """A view decorator: the partners (of ``catalog.<model_name>``) whose
    staff the user is, as the view's second argument; 404 for anyone else."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            from django.apps import apps

            partners = list(apps.get_model("catalog", model_name).objects.filter(staff=request.user))
            if not partners:
                raise Http404
            return view(request, partners, *args, **kwargs)

        return wrapper

    decorator.__doc__ = doc
    return decorator


institution_staff_required = _staff_of("Institution", "The user's institutions (lembaga pelatihan), or 404.")
platform_staff_required = _staff_of("Platform", "The user's digital platforms (mitra platform digital), or 404.")


def role_home(user) -> str | None:
    """Where a signed-in person starts: their own pages by role, or None for
    a participant (and someone who is yet to register as one)."""
    from accounts.models import DinasOperator, Participant
    from catalog.models import Institution, Platform

    if DinasOperator.objects.filter(user=user).exists():
        return reverse("accounts:operator_dashboard")
    if Participant.objects.filter(user=user).exists():
        return None
    if Institution.objects.filter(staff=user).exists():
        return reverse("catalog:institution_courses")
    if Platform.objects.filter(staff=user).exists():
        return reverse("enrollment:platform_home")
    if user.is_staff:
        return reverse("admin:index")
    return None


class DomainErrorMiddleware:
    """A service's refusal (a ``ValidationError``, ``DomainError`` among them)
    that a view let through becomes a message, never a 500: after a POST the
    person is sent back to the page they were on with the message on top; a
    GET shows the message on a page of its own; the API answers JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ValidationError):
            return None
        text = " ".join(str(m) for m in exception.messages)
        code = getattr(exception, "code", None) or "invalid"
        log.info("refusal shown as a message: %s %s (%s)", request.method, request.path, code)
        if request.path.startswith("/api/"):
            return JsonResponse({"error": {"code": code, "message": text}}, status=409)
        if request.method == "POST":
            messages.error(request, text)
            back = request.META.get("HTTP_REFERER", "")
            safe = url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure())
            return redirect(back if back and safe else request.get_full_path())
        return render(request, "refused.html", {"message": text}, status=409)


class _Roles:
    """What the signed-in person is, for the header's links: read once, in
    one query, and only if a template asks."""

    def __init__(self, user):
        self.user = user
        self._found = None

    def _read(self) -> dict:
        if self._found is None:
            self._found = {}
            if self.user.is_authenticated:
                from django.db.models import Exists, OuterRef

                from accounts.models import DinasOperator, Participant, User
                from catalog.models import Institution, Platform

                mine = {"user": OuterRef("pk")}
                self._found = (
                    User.objects.filter(pk=self.user.pk)
                    .annotate(
                        is_participant=Exists(Participant.objects.filter(**mine)),
                        is_dinas=Exists(DinasOperator.objects.filter(**mine)),
                        is_institution=Exists(Institution.objects.filter(staff=OuterRef("pk"))),
                        is_platform=Exists(Platform.objects.filter(staff=OuterRef("pk"))),
                    )
                    .values("is_participant", "is_dinas", "is_institution", "is_platform")
                    .first()
                    or {}
                )
        return self._found

    def __getattr__(self, name):
        if name in ("participant", "dinas", "institution", "platform"):
            return self._read().get(f"is_{name}", False)
        raise AttributeError(name)


def roles(request):
    """Context processor: ``roles.participant``, ``roles.institution``,
    ``roles.platform``, ``roles.dinas`` for the signed-in user."""
    return {"roles": _Roles(getattr(request, "user", None) or _Anonymous())}


class _Anonymous:
    is_authenticated = False


def admin_login(request):
    """Django admin's own login form has no limit on wrong passwords. Staff
    sign in through the site's allauth login like everyone, with its limits
    on failed attempts (per address and per IP), and come back to the admin
    page they asked for."""
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme, urlencode

    wanted = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        wanted = ""
    return redirect(reverse("account_login") + "?" + urlencode({"next": wanted or reverse("admin:index")}))
