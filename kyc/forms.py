from django import forms
from django.utils.translation import gettext_lazy as _

_IMAGE_TYPES = "image/jpeg,image/png,image/heic,image/heif,.heic,.heif,.jpg,.jpeg,.png"


class KycUploadForm(forms.Form):
    """The KTP photo, and either the camera check (its nonce here, its frames
    as files frames_0, frames_1... filled by static/js/liveness.js) or a
    selfie uploaded without it."""

    ktp_photo = forms.FileField(
        label=_("Photo of your KTP"),
        help_text=_("The whole card, flat, in good light, without glare."),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": _IMAGE_TYPES, "capture": "environment"}),
    )
    selfie = forms.FileField(
        label=_("Selfie"),
        help_text=_(
            "Your face only, facing the camera, without a mask, hat or sunglasses. Without the camera check a "
            "reviewer looks at your photos, which takes longer."
        ),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": _IMAGE_TYPES, "capture": "user"}),
    )
    nonce = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve: the identity is proved")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason (sent to the participant)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class RegistryImportForm(forms.Form):
    source = forms.CharField(label=_("Source"), max_length=200, help_text=_("For example: Dukcapil extract 2026-11."))
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 CSV with columns nik, nama, tanggal_lahir (YYYY-MM-DD), jenis_kelamin (L/P)."),
    )
