"""The table of who may change what (README "Who may change what"): every
role against every admin page, every money and staff field, and every
action a service guards. Each cell that says no is tested, by asking the
admin and the permission system as a request would."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts import roles
from catalog.models import INSTITUTION_PAYEE_FIELDS, PLATFORM_PAYEE_FIELDS, Institution, Platform
from tests.factories import UserFactory, make_staff

pytestmark = pytest.mark.django_db

SUPERUSER = "administrator"

# What each role may add, change or delete in admin; every other model and
# operation is a no. Status moves (approve, open, draw, decide) are actions,
# below, not edits.
ADMIN_WRITES = {
    roles.CURATOR_BINALATTAS: {},
    roles.PMO_CURATOR: {
        "catalog.platform": {"add", "change"},
        "catalog.institution": {"add", "change"},
        "catalog.apiclient": {"add", "change"},  # partner API client codes; keys are issued, never typed
    },
    roles.PMO_KYC_REVIEWER: {
        "accounts.exclusionlist": {"add", "change"},
        "kyc.registryimport": {"add"},
        "integrity.screeninglist": {"add", "change"},  # import; activate or deactivate
    },
    roles.PMO_FINANCE_MAKER: {
        "catalog.payeechange": {"add"},  # a request; another officer approves it
        "enrollment.wave": {"add", "change"},  # while a draft; fixed once approved
        "payouts.payoutbatch": {"add"},
    },
    roles.PMO_FINANCE_CHECKER: {},
}

# Fields nobody with the role may change where the role may change the record.
READ_ONLY_FIELDS = {
    (roles.PMO_CURATOR, Institution): {"staff", *INSTITUTION_PAYEE_FIELDS},
    (roles.PMO_CURATOR, Platform): {"staff", *PLATFORM_PAYEE_FIELDS},
    # An administrator grants staff, but money goes through a PayeeChange.
    (SUPERUSER, Institution): set(INSTITUTION_PAYEE_FIELDS),
    (SUPERUSER, Platform): set(PLATFORM_PAYEE_FIELDS),
}

# Actions the services guard, and the only roles that may take them.
ACTIONS = {
    "catalog.curate_stage1": {roles.CURATOR_BINALATTAS},
    "catalog.curate_stage2": {roles.PMO_CURATOR},
    "catalog.suspend_course": {roles.PMO_CURATOR},
    "catalog.add_payeechange": {roles.PMO_FINANCE_MAKER},
    "catalog.approve_payeechange": {roles.PMO_FINANCE_CHECKER},
    "catalog.add_apikey": {roles.PMO_CURATOR},
    "webhooks.redeliver_webhookmessage": {roles.PMO_CURATOR},
    "accounts.view_full_nik": {roles.PMO_KYC_REVIEWER},
    "accounts.register_offline": {roles.DINAS_OPERATOR},
    "kyc.review_kycsubmission": {roles.PMO_KYC_REVIEWER},
    "kyc.view_kyc_photos": {roles.PMO_KYC_REVIEWER},
    "enrollment.review_attendancecheck": {roles.PMO_KYC_REVIEWER},
    "integrity.decide_case": {roles.PMO_KYC_REVIEWER},
    "integrity.recover_case": {roles.PMO_FINANCE_CHECKER},
    "enrollment.open_wave": {roles.PMO_FINANCE_CHECKER},
    "enrollment.draw_wave": {roles.PMO_FINANCE_CHECKER},
    "payouts.prepare_payoutbatch": {roles.PMO_FINANCE_MAKER},
    "payouts.approve_payoutbatch": {roles.PMO_FINANCE_CHECKER},
    "auth.change_group": set(),  # only an administrator changes what a role may do
    "accounts.change_user": set(),
}


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _user(role):
    if role == SUPERUSER:
        return UserFactory(is_staff=True, is_superuser=True)
    if role in roles.STAFF_ROLES:
        return make_staff(role)
    user = UserFactory()
    user.groups.add(*roles_group(role))
    return type(user).objects.get(pk=user.pk)


def roles_group(role):
    from django.contrib.auth.models import Group

    return Group.objects.filter(name=role)


@pytest.mark.parametrize("role", roles.STAFF_ROLES)
def test_each_staff_role_writes_in_admin_only_what_the_table_gives_it(role):
    request = _request(_user(role))
    found = {}
    for model, model_admin in admin.site._registry.items():
        ops = {op for op in ("add", "change", "delete") if getattr(model_admin, f"has_{op}_permission")(request)}
        if ops:
            found[f"{model._meta.app_label}.{model._meta.model_name}"] = ops
    assert found == ADMIN_WRITES[role]


@pytest.mark.parametrize(("role", "model"), list(READ_ONLY_FIELDS), ids=lambda v: getattr(v, "__name__", v))
def test_money_and_staff_fields_are_read_only_where_the_table_says_so(role, model, world):  # noqa: F811
    institution, _ = world["institution"]("LPK Tabel")
    obj = institution if model is Institution else world["platform"]
    model_admin = admin.site._registry[model]
    request = _request(_user(role))
    for record in (obj, None):  # an existing record and the add form
        assert READ_ONLY_FIELDS[(role, model)] <= set(model_admin.get_readonly_fields(request, record))


@pytest.mark.parametrize("permission", sorted(ACTIONS))
def test_each_guarded_action_belongs_to_its_roles_alone(permission):
    allowed = {role for role in roles.ALL_ROLES if _user(role).has_perm(permission)}
    assert allowed == ACTIONS[permission]


def test_roles_without_admin_pages_cannot_reach_admin(client):
    for role in (roles.PARTICIPANT, roles.DINAS_OPERATOR, roles.INSTITUTION_STAFF, roles.PLATFORM_STAFF):
        client.force_login(_user(role))
        response = client.get("/admin/")
        assert response.status_code == 302 and "/login/" in response["Location"], role


from tests.catalog.test_catalog import world  # noqa: E402, F401  (fixture)
