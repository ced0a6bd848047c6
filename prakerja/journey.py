"""The participant's whole programme as one task list (the home page): each
step with its state and the one next action, read from the apps that own
each part. Reads only; a handful of queries whatever the participant did."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

DONE, NOW, WAITING, LATER, STOPPED = "done", "now", "waiting", "later", "stopped"


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    state: str  # DONE, NOW (the participant acts), WAITING (someone else acts), LATER, STOPPED
    detail: str = ""
    action_url: str = ""
    action_label: str = ""


def participant_journey(participant) -> list[Step]:
    from accounts.models import ParticipantStatus as P
    from enrollment.models import Card, Enrollment, WaveApplication
    from kyc.models import KycSubmission, SubmissionStatus
    from payouts.models import IncentiveAccount

    steps = [Step("account", _("Account and email"), DONE, participant.user.email)]
    steps.append(Step("profile", _("Profile as on the KTP"), DONE, participant.full_name))
    if participant.phone_verified:
        steps.append(Step("phone", _("Mobile number"), DONE, _("Verified")))
    else:
        steps.append(
            Step(
                "phone",
                _("Mobile number"),
                NOW,
                _("Confirm it with the code we send by SMS."),
                reverse("accounts:verify_phone"),
                _("Verify now"),
            )
        )

    status = participant.status
    past_kyc = status not in (P.REGISTERED, P.PROFILE_COMPLETE)
    submission = KycSubmission.objects.filter(participant=participant).order_by("-created_at", "-pk").first()
    kyc_url = reverse("kyc:status")
    if (past_kyc and status != P.INELIGIBLE) or (submission and submission.status == SubmissionStatus.VERIFIED):
        steps.append(Step("identity", _("Identity check"), DONE, _("Verified")))
    elif submission is None:
        state = NOW if participant.phone_verified else LATER
        steps.append(
            Step(
                "identity",
                _("Identity check"),
                state,
                _("A photo of your KTP and a selfie prove the NIK is yours."),
                kyc_url if state == NOW else "",
                _("Send photos"),
            )
        )
    elif submission.status == SubmissionStatus.REJECTED:
        steps.append(
            Step("identity", _("Identity check"), NOW, _("Refused. See why and try again."), kyc_url, _("See why"))
        )
    else:
        steps.append(
            Step(
                "identity",
                _("Identity check"),
                WAITING,
                submission.get_status_display(),
                kyc_url,
                _("See the status"),
            )
        )

    if status == P.INELIGIBLE:
        steps.append(
            Step(
                "wave",
                _("Selection wave"),
                STOPPED,
                _("Your NIK is on an exclusion list of the programme, so you are not eligible."),
            )
        )
        return steps

    waves_url = reverse("enrollment:waves")
    application = WaveApplication.objects.filter(participant=participant).select_related("wave").order_by("-pk").first()
    card = Card.objects.filter(participant=participant).first()
    if card is not None:
        steps.append(Step("wave", _("Selection wave"), DONE, _("Selected")))
    elif not past_kyc:
        steps.append(Step("wave", _("Selection wave"), LATER, _("After your identity is verified.")))
    elif application and application.status == WaveApplication.Status.APPLIED:
        steps.append(
            Step(
                "wave",
                _("Selection wave"),
                WAITING,
                _("You applied. The result comes after registration closes."),
                waves_url,
                _("Waves"),
            )
        )
    else:
        detail = (
            _("Not selected this time: you may apply to the next wave.")
            if application and application.status == WaveApplication.Status.NOT_SELECTED
            else _("Apply to an open wave. Those selected get a card with a training balance.")
        )
        steps.append(Step("wave", _("Selection wave"), NOW, detail, waves_url, _("Apply")))

    card_url = reverse("enrollment:card")
    if card is None:
        steps.append(Step("card", _("Prakerja card"), LATER, _("Given to those selected in a wave.")))
        return steps
    if card.status == Card.Status.REVOKED:
        steps.append(Step("card", _("Prakerja card"), STOPPED, card.get_status_display(), card_url, _("My card")))
        return steps
    steps.append(Step("card", _("Prakerja card"), DONE, card.get_status_display(), card_url, _("My card")))

    enrollments = list(
        Enrollment.objects.filter(participant=participant).select_related("review").order_by("created_at", "pk")
    )
    finished = [e for e in enrollments if e.status in (Enrollment.Status.COMPLETED, Enrollment.Status.PAID_OUT)]
    open_ones = [e for e in enrollments if e.status in (Enrollment.Status.AUTHORISED, Enrollment.Status.REDEEMED)]
    courses_url = reverse("catalog:list")
    if finished or open_ones:
        current = open_ones[0] if open_ones and not finished else None
        if current and current.status == Enrollment.Status.AUTHORISED:
            steps.append(
                Step(
                    "course",
                    _("First course"),
                    NOW,
                    _("Bought: give the voucher code to the institution to start."),
                    reverse("enrollment:purchase", args=[current.pk]),
                    _("See the voucher"),
                )
            )
        elif current:
            steps.append(Step("course", _("First course"), WAITING, _("In progress at the institution.")))
        else:
            steps.append(Step("course", _("First course"), DONE, _("Completed")))
    else:
        steps.append(
            Step(
                "course",
                _("First course"),
                NOW,
                _("Choose a course and buy it with your card's balance before the deadline."),
                courses_url,
                _("Choose a course"),
            )
        )

    first = finished[0] if finished else None
    if first is None:
        steps.append(Step("review", _("Completion and review"), LATER, _("After your first course is completed.")))
        return steps
    if not hasattr(first, "review"):
        steps.append(
            Step(
                "review",
                _("Completion and review"),
                NOW,
                _("Completed. Review the course to receive the incentive."),
                reverse("enrollment:purchase", args=[first.pk]),
                _("Write a review"),
            )
        )
        return steps
    steps.append(Step("review", _("Completion and review"), DONE, _("Reviewed")))

    account = IncentiveAccount.objects.filter(participant=participant).order_by("-pk").first()
    incentives_url = reverse("payouts:incentives")
    if account and account.status == IncentiveAccount.Status.CONFIRMED:
        steps.append(
            Step(
                "incentive",
                _("Account for the incentive"),
                DONE,
                account.get_status_display(),
                incentives_url,
                _("See the incentive"),
            )
        )
    else:
        detail = (
            _("The bank refused the account: link another one.")
            if account and account.status == IncentiveAccount.Status.REFUSED
            else _("Link a bank account or e-wallet in your own name to receive the incentive.")
        )
        steps.append(
            Step("incentive", _("Account for the incentive"), NOW, detail, incentives_url, _("Link an account"))
        )
    return steps


def next_step(steps: list[Step]) -> Step | None:
    """The first step that waits for the participant."""
    return next((s for s in steps if s.state == NOW), None)
