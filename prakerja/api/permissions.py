from rest_framework.permissions import BasePermission


class SignedClient(BasePermission):
    def has_permission(self, request, view):
        from catalog.models import ApiClient

        return isinstance(request.auth, ApiClient)
