from django import forms
from django.utils.translation import gettext_lazy as _

from prakerja.inputs import MAX_ID


class CheckoutForm(forms.Form):
    card_number = forms.CharField(
        label=_("Card number"),
        max_length=24,
        help_text=_("The 16 digits on your Prakerja card page."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    request_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    # The version (and so the price) the page showed.
    revision = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


class RedeemForm(forms.Form):
    voucher_code = forms.CharField(
        label=_("Voucher code"),
        max_length=24,
        help_text=_("The participant shows it on their phone, e.g. ABCD-EFGH-JKMN."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class CompletionForm(forms.Form):
    certificate = forms.FileField(
        label=_("Certificate"),
        help_text=_("PDF, JPEG or PNG, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Stars"),
        coerce=int,
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(label=_("Your review"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


IMAGE_TYPES = "image/jpeg,image/png,image/heic,image/heif,.heic,.heif,.jpg,.jpeg,.png"


class AttendanceForm(forms.Form):
    """The face check of a session: the camera check's nonce (its frames as
    files frames_0, frames_1... filled by static/js/liveness.js), or a photo
    without it, which a reviewer looks at."""

    selfie = forms.FileField(
        label=_("Photo of your face"),
        help_text=_("Without the camera check a reviewer looks at your photo, which takes longer."),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={
                "accept": "image/jpeg,image/png,image/heic,image/heif,.heic,.heif,.jpg,.jpeg,.png",
                "capture": "user",
            }
        ),
    )
    nonce = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
