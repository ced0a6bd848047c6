"""The gateway's webhook, payout statements of institutions and platforms,
and the participant's incentives page."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.views import participant_required
from payments.gateway import GatewayError, WebhookRejected, get_gateway
from prakerja.inputs import parse_id
from prakerja.web import apply_errors, institution_staff_required, platform_staff_required

from .forms import CodeForm, IncentiveAccountForm, SurveyForm
from .models import IncentiveAccount, IncentivePayment, Payout, PayoutItem, SurveyResponse, payout_id_of
from .selectors import UNDECIDED, participant_incentives, statement_rows
from .services import disbursement, incentives

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def gateway_webhook(request):
    """Payout status webhooks: refused unless they carry the callback token;
    a repeated one changes nothing."""
    gateway = get_gateway()
    try:
        event = gateway.parse_webhook(request.headers, request.body)
    except WebhookRejected as exc:
        log.warning("payout webhook refused: %s", exc)
        return JsonResponse({"error": "rejected"}, status=403)
    payout = _by_reference(event.reference_id)
    if payout is None or (payout.gateway_id and payout.gateway_id != event.id):
        log.warning("payout webhook for unknown payout %s (%s)", event.id, event.reference_id)
        return JsonResponse({"status": "ignored"})
    # The webhook says which payout changed; what it became is asked of the
    # gateway itself, so a leaked callback token cannot fail or settle a
    # payout by a forged body.
    try:
        answer = gateway.get_payout(event.id)
    except GatewayError as exc:
        log.warning("payout %s: webhook not confirmed with the gateway: %s", payout.pk, exc)
        return JsonResponse({"error": "try again"}, status=503)  # the gateway retries the webhook
    if answer.reference_id != payout.reference:
        log.warning("payout webhook %s names %s, the gateway says %s", event.id, payout.reference, answer.reference_id)
        return JsonResponse({"status": "ignored"})
    payout = disbursement.payout_record(payout_id=payout.pk, answer=answer)
    return JsonResponse({"status": payout.status})


def _by_reference(reference: str) -> Payout | None:
    payout_id = payout_id_of(reference)
    return Payout.objects.filter(pk=payout_id).first() if payout_id else None


# ---------------------------------------------------------------- statements


@never_cache
@institution_staff_required
def institution_statement(request, institutions):
    rows = statement_rows(institution__in=institutions)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "payouts/statement.html", {"page": page, "for_institution": True, "owners": institutions})


@never_cache
@institution_staff_required
def institution_statement_detail(request, institutions, payout_id):
    items = (
        PayoutItem.objects.filter(payout_id=payout_id, institution__in=institutions)
        .exclude(batch__status__in=UNDECIDED)
        .select_related("enrollment__revision", "enrollment__participant", "batch", "payout")
        .order_by("enrollment__completed_at", "pk")
    )
    first = items.first()
    if first is None:
        raise Http404
    page = Paginator(items, 100).get_page(request.GET.get("page"))
    return render(
        request, "payouts/statement_detail.html", {"page": page, "payout": first.payout, "batch": first.batch}
    )


@never_cache
@platform_staff_required
def platform_statement(request, platforms):
    rows = statement_rows(enrollment__platform__in=platforms)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "payouts/statement.html", {"page": page, "for_institution": False, "owners": platforms})


# ---------------------------------------------------------------- incentives


@never_cache
@participant_required
@require_http_methods(["GET", "POST"])
def incentives_page(request, participant):
    incentives.incentives_schedule(participant=participant)
    account_form, code_form, survey_form = IncentiveAccountForm(), CodeForm(), SurveyForm()
    action = request.POST.get("action", "")
    if request.method == "POST":
        try:
            if action == "account":
                account_form = IncentiveAccountForm(request.POST)
                if account_form.is_valid():
                    incentives.incentive_account_start(participant=participant, **account_form.cleaned_data)
                    messages.success(request, _("We sent a code to your phone. Enter it to confirm the account."))
                    return redirect("payouts:incentives")
            elif action == "code":
                code_form = CodeForm(request.POST)
                if code_form.is_valid():
                    checked = incentives.incentive_account_confirm(
                        participant=participant, code=code_form.cleaned_data["code"]
                    )
                    if checked.status == IncentiveAccount.Status.CONFIRMED:
                        messages.success(request, _("Your account is confirmed. Incentives due are paid to it."))
                    else:
                        messages.info(request, _("Code accepted. See below what your bank said about the account."))
                    return redirect("payouts:incentives")
            elif action == "survey":
                survey_form = SurveyForm(request.POST)
                number = request.POST.get("number", "")
                if survey_form.is_valid():
                    incentives.survey_submit(
                        participant=participant,
                        number=parse_id(number) or 0,
                        **survey_form.cleaned_data,
                    )
                    messages.success(request, _("Thank you. The survey's incentive is now due."))
                    return redirect("payouts:incentives")
            else:
                return redirect("payouts:incentives")
        except ValidationError as exc:
            if not hasattr(exc, "error_dict") and (
                action != "code" or exc.code in ("already_confirmed", "none_waiting", "checking")
            ):
                # Not about a field (not eligible yet, survey not open, the
                # account confirmed in another tab): the form it came from
                # may not even be on the page.
                messages.error(request, " ".join(exc.messages))
            else:
                form = {"account": account_form, "code": code_form, "survey": survey_form}[action]
                apply_errors(form, exc, field="code" if action == "code" else None)
    schedule = participant_incentives(participant)
    first = next((i for i in schedule if i.kind == IncentivePayment.Kind.POST_TRAINING and i.number == 1), None)
    answered = set(SurveyResponse.objects.filter(participant=participant).values_list("number", flat=True))
    now = timezone.now()
    surveys = [
        {
            "number": i.number,
            "opens_at": incentives.survey_opens_at(first.due_at, i.number) if first else None,
            "answered": i.number in answered,
        }
        for i in schedule
        if i.kind == IncentivePayment.Kind.SURVEY
    ]
    open_survey = next((s for s in surveys if not s["answered"] and s["opens_at"] and s["opens_at"] <= now), None)
    return render(
        request,
        "payouts/incentives.html",
        {
            "participant": participant,
            "now": now,
            "eligible": bool(schedule),
            "schedule": schedule,
            "account": incentives.confirmed_account(participant),
            "waiting": IncentiveAccount.objects.filter(
                participant=participant, status=IncentiveAccount.Status.UNCONFIRMED
            ).first(),
            "refused": IncentiveAccount.objects.filter(
                participant=participant, status=IncentiveAccount.Status.REFUSED
            ).first(),
            "checking": IncentiveAccount.objects.filter(
                participant=participant,
                status__in=[IncentiveAccount.Status.CHECKING, IncentiveAccount.Status.REVIEW],
            ).first(),
            "account_form": account_form,
            "code_form": code_form,
            "survey_form": survey_form,
            "surveys": surveys,
            "open_survey": open_survey,
            "total": sum(i.amount for i in schedule),
            "paid": sum(i.amount for i in schedule if i.status == IncentivePayment.Status.PAID),
        },
    )
