"""The participant's side of a case: what was found, what is held, and an
objection the officer reads on the case."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.views import participant_required
from prakerja.web import apply_errors

from .evidence import participant_text, rupiah
from .forms import ObjectionForm
from .models import HOLDING_STATUSES, Case
from .services.cases import case_object


@never_cache
@participant_required
@require_http_methods(["GET", "POST"])
def case_page(request, participant, pk):
    case = get_object_or_404(Case, pk=pk, participant=participant)
    form = ObjectionForm(request.POST or None, initial={"text": case.objection})
    if request.method == "POST" and form.is_valid():
        try:
            case_object(case_id=case.pk, participant=participant, text=form.cleaned_data["text"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your objection was sent. The programme office answers on this page."))
            return redirect("integrity:case", pk=case.pk)
    return render(
        request,
        "integrity/case.html",
        {
            "case": case,
            "finding": participant_text(case),
            "held": rupiah(case.amount_held) if case.holds_money else "",
            "open": case.status in HOLDING_STATUSES,
            "form": form,
        },
    )
