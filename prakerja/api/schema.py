"""The published contract (OpenAPI 3.1, drf-spectacular): the signature's
headers as security schemes, the one error shape, the Idempotency-Key."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorBody(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: e.g. signature_invalid, amount_mismatch.")
    message = serializers.CharField(help_text="For people: Indonesian, or English with Accept-Language: en.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per field of the request, when the input was at fault.",
    )


class ErrorOut(serializers.Serializer):
    error = ErrorBody()


_MEANING = {
    400: "The request is malformed, or its Idempotency-Key is missing.",
    401: "The signature is missing, stale, wrong or replayed (see the code).",
    403: "This endpoint is for the other kind of client (platform or institution).",
    404: "Not found, or not this client's (nothing else is revealed).",
    406: "The Accept header asks for something other than JSON.",
    409: "The object is not in a state that allows this (see the code).",
    413: "The body is larger than the API reads.",
    415: "Wrong Content-Type.",
    422: "The request is well formed but refused (see the code and fields).",
    429: "Too many requests: wait Retry-After seconds.",
}


SHARED = (400, 401, 403, 404, 406, 413, 415, 429)


def errors(*statuses: int) -> dict:
    """The error responses of an operation, with the ones any request can
    meet (SHARED: malformed, unsigned, wrong kind of client, unknown path,
    not JSON, too large, wrong content type, too many)."""
    codes = sorted({*statuses, *SHARED})
    return {code: OpenApiResponse(ErrorOut, description=_MEANING[code]) for code in codes}


def idempotency_key() -> OpenApiParameter:
    return OpenApiParameter(
        "Idempotency-Key",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="A new random value (a UUID) per operation; the same key and body again returns the first "
        "response, the same key with another body is refused. Kept 24 hours.",
    )


class SignedRequestScheme(OpenApiAuthenticationExtension):
    target_class = "prakerja.api.auth.SignedRequestAuthentication"
    name = ["ClientCode", "Timestamp", "Nonce", "Signature"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "X-Client-Code", "description": "The client code from the PMO."},
            {"type": "apiKey", "in": "header", "name": "X-Timestamp", "description": "Unix seconds, within 5 minutes."},
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-Nonce",
                "description": "16-64 letters, digits, - or _; new for every request.",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-Signature",
                "description": "hex HMAC-SHA256 of client code, timestamp, nonce, METHOD, path with query and body, "
                "joined by newlines (see the developer guide).",
            },
        ]


def page_of(serializer_class, name: str, extra: dict | None = None):
    """The schema of a paginated list of ``serializer_class``."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True, help_text="The next page: GET it as it is, signed."),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
            **(extra or {}),
        },
    )


POSITIVE_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
