from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ScreeningList
from .services.cases import MAX_REASON, Decision


class ScreeningImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ScreeningList.Kind.choices)
    source = forms.CharField(
        label=_("Source"), max_length=200, help_text=_("Where the extract came from and its date.")
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Wages: columns nik, monthly_wage, employer, month (YYYY-MM). "
            "Education registry: columns nik, status (aktif, lulus, keluar...), institution."
        ),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (Decision.CLEAR, _("Clear: the finding does not hold; the money moves again")),
            (Decision.BLOCK, _("Keep blocked: the money stays held")),
            (Decision.REVOKE, _("Revoke the card and blacklist the participant")),
            (Decision.RECOVER, _("Recover: return the money still held to the programme fund")),
        ],
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_REASON)

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["decision"]
        field.choices = [(value, label) for value, label in field.choices if value in allowed]


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Why the finding is wrong"),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
        max_length=2000,
        required=False,  # the service says what is missing
    )
