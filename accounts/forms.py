"""Forms of the participant and operator pages. They turn input into typed
values; the rules live in accounts.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ExclusionList, Participant
from .services.registration import ProfileInput

_NUMERIC = {"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9 ]*"}


class ProfileForm(forms.Form):
    """The registration form, the same online and at the labour office."""

    full_name = forms.CharField(
        label=_("Full name as on your KTP"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "required": True}),
    )
    nik = forms.CharField(
        label=_("NIK"),
        help_text=_("16 digits, on your KTP."),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={**_NUMERIC, "required": True}),
    )
    kk_number = forms.CharField(
        label=_("Family card (KK) number"),
        help_text=_("16 digits, on your Kartu Keluarga."),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={**_NUMERIC, "required": True}),
    )
    birth_place = forms.CharField(
        label=_("Place of birth"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"required": True}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
        widget=forms.DateInput(
            attrs={"type": "date", "autocomplete": "bday", "required": True},
            format="%Y-%m-%d",
        ),
        error_messages={"invalid": _("Enter a real date, for example 1995-08-17.")},
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        choices=Participant.Gender.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose your gender.")},
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        help_text=_("A code will be sent to it by SMS."),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "autocomplete": "tel",
                "inputmode": "tel",
                "required": True,
            }
        ),
    )
    address = forms.CharField(
        label=_("Domicile address"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address", "required": True}),
    )
    education = forms.ChoiceField(
        label=_("Last education"),
        choices=[("", _("Choose..."))] + Participant.Education.choices,
        required=False,
        error_messages={"invalid_choice": _("Choose your last education.")},
    )
    employment_status = forms.ChoiceField(
        label=_("Employment status"),
        choices=[("", _("Choose..."))] + Participant.Employment.choices,
        required=False,
        error_messages={"invalid_choice": _("Choose your employment status.")},
    )

    def to_input(self) -> ProfileInput:
        d = self.cleaned_data
        return ProfileInput(
            full_name=d["full_name"],
            nik=d["nik"],
            kk_number=d["kk_number"],
            birth_place=d["birth_place"],
            birth_date=d["birth_date"],
            gender=d["gender"],
            phone=d["phone"],
            address=d["address"],
            education=d["education"],
            employment_status=d["employment_status"],
        )


class OperatorProfileForm(ProfileForm):
    email = forms.CharField(
        label=_("The person's email address"),
        help_text=_("They receive a link there to choose a password and log in."),
        max_length=300,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "required": True}),
    )

    field_order = ["email"]

    def __init__(self, *args, **kwargs):
        # The operator fills this in for somebody else: speak of "their" KTP.
        super().__init__(*args, **kwargs)
        f = self.fields
        f["full_name"].label = _("Full name as on their KTP")
        f["nik"].help_text = _("16 digits, on their KTP.")
        f["kk_number"].help_text = _("16 digits, on their Kartu Keluarga.")
        f["phone"].label = _("Their mobile number")
        f["phone"].help_text = _("They verify it with an SMS code when they first log in.")
        f["address"].label = _("Their domicile address")
        f["gender"].error_messages["invalid_choice"] = _("Choose their gender.")
        f["education"].error_messages["invalid_choice"] = _("Choose their last education.")
        f["employment_status"].error_messages["invalid_choice"] = _("Choose their employment status.")


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "required": True,
            }
        ),
        error_messages={"required": _("Enter the 6-digit code from the SMS.")},
    )


class ChangePhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("New mobile number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "autocomplete": "tel",
                "inputmode": "tel",
                "required": True,
            }
        ),
        error_messages={"required": _("Enter your mobile number.")},
    )


class BatchUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={
            "required": _("Choose a CSV file to upload."),
            "empty": _("The file is empty."),
        },
    )


class ExclusionImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ExclusionList.Kind.choices)
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        help_text=_("Where the list came from, e.g. BKN 2026-10."),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 CSV with a column named nik. NIKs are stored only as keyed hashes."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
