from django import forms
from django.utils.translation import gettext_lazy as _

from payments.channels import PayoutChannel

from .models import SurveyResponse


class IncentiveAccountForm(forms.Form):
    channel_code = forms.ChoiceField(label=_("Bank or e-wallet"), choices=PayoutChannel.choices)
    account_number = forms.CharField(
        label=_("Account number, or the e-wallet's mobile number"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_holder = forms.CharField(
        label=_("Name on the account"),
        max_length=100,
        help_text=_("It must be your own name, as on your KTP."),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class SurveyForm(forms.Form):
    work = forms.ChoiceField(
        label=_("What do you do now?"), choices=SurveyResponse.Work.choices, widget=forms.RadioSelect
    )
    usefulness = forms.TypedChoiceField(
        label=_("How useful was the training for your work? (1 = not at all, 5 = very)"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )
