"""Certificate files an institution uploads on completion: checked by their
first bytes (not their name), kept in private storage, served by a view
that checks the viewer, always as a download."""

from django.conf import settings
from django.utils.translation import gettext as _

from prakerja.inputs import field_refusal

SIGNATURES = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
}
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


def certificate_check(upload) -> str:
    """The file's type ("pdf", "png" or "jpg"), or a refusal."""
    if upload is None or not upload.size:
        raise field_refusal("certificate", _("Choose the certificate file."), "empty")
    if upload.size > settings.CERTIFICATE_MAX_BYTES:
        raise field_refusal(
            "certificate",
            _("The file is larger than %(mb)d MB.") % {"mb": settings.CERTIFICATE_MAX_BYTES // 2**20},
            "too_large",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, extension in SIGNATURES.items():
        if head.startswith(signature):
            return extension
    raise field_refusal("certificate", _("The certificate must be a PDF, JPEG or PNG file."), "bad_type")
