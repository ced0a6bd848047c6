"""Forms of the catalog pages; the rules live in catalog.services."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.nik import province_choices
from prakerja.inputs import MAX_ID, check_moment

from .models import Affiliation, Category, DeliveryMode, Platform
from .services import CourseInput, course_validate

_ANY = [("", _("All"))]
_MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SessionForm(forms.Form):
    """One session of a course version (the institution's sessions page)."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("self_paced", _("Self-paced module")), ("webinar", _("Webinar"))]
    )
    title = forms.CharField(label=_("Title"), max_length=150)
    starts_at = forms.DateTimeField(
        label=_("Webinar starts"), required=False, validators=[check_moment], widget=_MOMENT
    )
    ends_at = forms.DateTimeField(label=_("Webinar ends"), required=False, validators=[check_moment], widget=_MOMENT)


SessionFormSet = forms.formset_factory(SessionForm, extra=1, max_num=10, absolute_max=10, can_delete=True)


class PostTestForm(forms.Form):
    post_test = forms.BooleanField(label=_("The course ends with a post-test"), required=False)


class CourseForm(forms.Form):
    platform = forms.ModelChoiceField(label=_("Sold through"), queryset=Platform.objects.none(), required=True)
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=400, widget=forms.Textarea(attrs={"rows": 2}))
    description = forms.CharField(label=_("Description"), max_length=6000, widget=forms.Textarea(attrs={"rows": 6}))
    learning_outcomes = forms.CharField(
        label=_("Learning outcomes"), max_length=3000, widget=forms.Textarea(attrs={"rows": 4})
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    delivery_mode = forms.ChoiceField(label=_("Delivery mode"), choices=DeliveryMode.choices)
    duration_hours = forms.IntegerField(label=_("Duration (hours)"), min_value=0, max_value=100_000)
    price = forms.IntegerField(label=_("Price (Rp)"), min_value=0, max_value=10**9)
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        required=False,
        validators=[check_moment],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        required=False,
        validators=[check_moment],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    capacity = forms.IntegerField(label=_("Capacity (people)"), required=False, min_value=0, max_value=100_000)

    def __init__(self, *args, platforms=None, with_platform=True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_platform:
            self.fields["platform"].queryset = platforms if platforms is not None else Platform.objects.none()
        else:
            del self.fields["platform"]

    def to_input(self) -> CourseInput:
        d = self.cleaned_data
        return CourseInput(**{name: d.get(name) for name in CourseInput.__dataclass_fields__})

    def clean(self):
        # The service's rules on what the form could read, so that every
        # mistake shows in one round; a field the form already refused keeps
        # only its own message.
        cleaned = super().clean()
        try:
            course_validate(self.to_input())
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, errors)
        return cleaned


class CatalogFilterForm(forms.Form):
    # Bounded by cutting, not by refusing: a long search still searches its
    # start (the selector uses 100 characters).
    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(attrs={"maxlength": 100}))
    category = forms.ChoiceField(label=_("Category"), choices=_ANY + Category.choices, required=False)
    delivery_mode = forms.ChoiceField(label=_("Delivery mode"), choices=_ANY + DeliveryMode.choices, required=False)
    platform = forms.ModelChoiceField(
        label=_("Platform"), queryset=Platform.objects.filter(is_active=True), required=False, empty_label=_("All")
    )
    province = forms.ChoiceField(label=_("Province"), required=False)
    min_price = forms.IntegerField(label=_("Price from (Rp)"), required=False, min_value=0, max_value=10**12)
    max_price = forms.IntegerField(label=_("Price to (Rp)"), required=False, min_value=0, max_value=10**12)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("newest", _("Newest")),
            ("price", _("Cheapest first")),
            ("-price", _("Most expensive first")),
            ("rating", _("Best rated")),
        ],
    )
    institution = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].choices = _ANY + province_choices()

    def clean_q(self):
        return self.cleaned_data["q"][:200]


class AffiliationForm(forms.Form):
    """An owner, officer or affiliated company the institution or platform declares."""

    owner = forms.TypedChoiceField(label=_("Declared by"), coerce=int)
    relation = forms.ChoiceField(label=_("Relation"), choices=Affiliation.Relation.choices)
    party_kind = forms.ChoiceField(
        label=_("Person or company"), choices=Affiliation.PartyKind.choices, widget=forms.RadioSelect
    )
    name = forms.CharField(label=_("Name"), max_length=150)
    number = forms.CharField(
        label=_("NIK (person) or NIB (company)"),
        max_length=30,
        help_text=_("A person's NIK is kept only as a keyed hash; it is matched, never shown."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    share_percent = forms.DecimalField(
        label=_("Share (%)"), required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(o.pk, o.name) for o in owners]
        if len(owners) == 1:
            self.fields["owner"].initial = owners[0].pk
            self.fields["owner"].widget = forms.HiddenInput()
