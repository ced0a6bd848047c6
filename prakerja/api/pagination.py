"""Lists of the partner API: cursor pagination, stable while rows are added,
newest first."""

from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"
    ordering = ("-created_at", "-id")


def filtered_page(request, queryset, serializer_class, statuses):
    """One page of ``queryset`` newest first, narrowed by ``?status=`` (one
    of ``statuses``; a present but unknown or empty value is refused)."""
    from django.utils.translation import gettext as _
    from rest_framework import serializers

    if "status" in request.query_params:
        status = request.query_params["status"]
        if status not in statuses:
            raise serializers.ValidationError({"status": [_("One of: %(values)s.") % {"values": ", ".join(statuses)}]})
        queryset = queryset.filter(status=status)
    paginator = NewestFirst()
    page = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
