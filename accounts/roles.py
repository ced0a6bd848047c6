"""The roles of DESIGN.md, as Django groups. Migrations create them and grant
their permissions; code refers to them by these names."""

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
STAFF_ROLES = (
    CURATOR_BINALATTAS,
    PMO_CURATOR,
    PMO_KYC_REVIEWER,
    PMO_FINANCE_MAKER,
    PMO_FINANCE_CHECKER,
)


def grant(apps, role: str, permissions: list[str]) -> None:
    """For data migrations: give ``role`` the "app_label.codename" permissions,
    creating any not made yet (post_migrate has not run in a fresh database)."""
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group, _ = Group.objects.get_or_create(name=role)
    for perm in permissions:
        app_label, codename = perm.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
