"""The roles of DESIGN.md, as Django groups with their permissions.

Migration accounts.0002 creates the groups; after every migrate (and every
test database flush) a post_migrate handler grants the permissions listed in
ROLE_PERMISSIONS, so a later app only adds its lines here. Granting only adds:
permissions an administrator gave a group by hand stay.
"""

from django.apps import apps as global_apps

PARTICIPANT = "participant"
DINAS_OPERATOR = "dinas_operator"
INSTITUTION_STAFF = "institution_staff"
PLATFORM_STAFF = "platform_staff"
CURATOR_BINALATTAS = "curator_binalattas"
PMO_CURATOR = "pmo_curator"
PMO_KYC_REVIEWER = "pmo_kyc_reviewer"
PMO_FINANCE_MAKER = "pmo_finance_maker"
PMO_FINANCE_CHECKER = "pmo_finance_checker"

ALL_ROLES = (
    PARTICIPANT,
    DINAS_OPERATOR,
    INSTITUTION_STAFF,
    PLATFORM_STAFF,
    CURATOR_BINALATTAS,
    PMO_CURATOR,
    PMO_KYC_REVIEWER,
    PMO_FINANCE_MAKER,
    PMO_FINANCE_CHECKER,
)

# Roles that work in Django admin (their users get is_staff).
STAFF_ROLES = (CURATOR_BINALATTAS, PMO_CURATOR, PMO_KYC_REVIEWER, PMO_FINANCE_MAKER, PMO_FINANCE_CHECKER)

# What PMO finance staff look at: applications, cards, purchases, the ledger.
_MONEY_VIEWS = [
    "enrollment.view_waveapplication",
    "enrollment.view_card",
    "enrollment.view_enrollment",
    "enrollment.view_platformnotice",
    "enrollment.view_coursereview",
    "payments.view_account",
    "payments.view_transfer",
    "payouts.view_payoutbatch",
    "payouts.view_payout",
    "payouts.view_payoutline",
    "payouts.view_payoutitem",
    "payouts.view_incentivepayment",
    "payouts.view_incentiveaccount",
    "payouts.view_surveyresponse",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    CURATOR_BINALATTAS: [
        "catalog.curate_stage1",
        "catalog.view_stage1queue",
        "catalog.view_courserevision",
        "catalog.view_curationdecision",
    ],
    PMO_CURATOR: [
        "catalog.curate_stage2",
        "catalog.view_stage2queue",
        "catalog.view_courserevision",
        "catalog.view_curationdecision",
        "catalog.view_course",
        "catalog.suspend_course",
        "catalog.view_platform",
        "catalog.add_platform",
        "catalog.change_platform",
        "catalog.view_institution",
        "catalog.add_institution",
        "catalog.change_institution",
        # Partner API credentials: the client codes and their signing keys.
        "catalog.view_apiclient",
        "catalog.add_apiclient",
        "catalog.change_apiclient",
        "catalog.add_apikey",
        # Webhooks to the partners: the delivery log, and sending again.
        "webhooks.view_webhookendpoint",
        "webhooks.view_webhookmessage",
        "webhooks.view_webhookattempt",
        "webhooks.redeliver_webhookmessage",
    ],
    DINAS_OPERATOR: ["accounts.register_offline"],
    PMO_KYC_REVIEWER: [
        "accounts.view_participant",
        "accounts.view_full_nik",
        "accounts.view_exclusionlist",
        "accounts.add_exclusionlist",
        "accounts.change_exclusionlist",
        "accounts.view_registrationbatch",
        "kyc.view_kycsubmission",
        "kyc.view_kycreviewcase",
        "kyc.review_kycsubmission",
        "kyc.view_kyc_photos",
        "kyc.view_kycphotolog",
        "kyc.view_registryimport",
        "kyc.add_registryimport",
        "enrollment.view_attendancecheck",
        "enrollment.review_attendancecheck",
        "integrity.view_case",
        "integrity.decide_case",
        "integrity.view_screeninglist",
        "integrity.add_screeninglist",
        "integrity.change_screeninglist",
        "integrity.view_screeningrun",
    ],
    # Waves: the maker sets them up (window, quota, rules); the checker
    # approves the rules by opening the wave and runs the lottery, so no one
    # person both shapes and opens or draws a wave.
    PMO_FINANCE_MAKER: [
        "accounts.view_participant",
        "enrollment.view_wave",
        "enrollment.add_wave",
        "enrollment.change_wave",
        "enrollment.view_waveprovincequota",
        "enrollment.add_waveprovincequota",
        "enrollment.change_waveprovincequota",
        "enrollment.delete_waveprovincequota",
        "payouts.prepare_payoutbatch",
        "catalog.view_institution",
        "catalog.view_platform",
        "catalog.view_payeechange",
        "catalog.add_payeechange",
        *_MONEY_VIEWS,
    ],
    PMO_FINANCE_CHECKER: [
        "accounts.view_participant",
        "enrollment.view_wave",
        "enrollment.view_waveprovincequota",
        "enrollment.draw_wave",
        "enrollment.open_wave",
        "payouts.approve_payoutbatch",
        "catalog.view_institution",
        "catalog.view_platform",
        "catalog.view_payeechange",
        "catalog.approve_payeechange",
        "integrity.view_case",
        "integrity.recover_case",
        "integrity.view_screeningrun",
        *_MONEY_VIEWS,
    ],
}


def sync_roles(apps=global_apps) -> None:
    """Creates the role groups and grants ROLE_PERMISSIONS that exist yet."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ALL_ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = ROLE_PERMISSIONS.get(role, [])
        if not wanted:
            continue
        found = []
        for perm in wanted:
            app_label, codename = perm.split(".")
            found.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.add(*found)
