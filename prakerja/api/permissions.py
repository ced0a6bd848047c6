from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class SignedClient(BasePermission):
    def has_permission(self, request, view):
        from catalog.models import ApiClient

        return isinstance(request.auth, ApiClient)


class PlatformClient(SignedClient):
    """Endpoints of a platform's client only."""

    message = _("This endpoint is for a platform's API client.")
    code = "platform_only"

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.auth.platform_id is not None


class InstitutionClient(SignedClient):
    """Endpoints of an institution's client only."""

    message = _("This endpoint is for an institution's API client.")
    code = "institution_only"

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.auth.institution_id is not None
