"""The roles of DESIGN.md as groups, with the permissions registration needs.
Later apps add their own permissions to these groups in their migrations."""

from django.db import migrations

from accounts.roles import ALL_ROLES, grant

PERMISSIONS = {
    "dinas_operator": ["accounts.register_offline"],
    "pmo_kyc_reviewer": [
        "accounts.view_participant",
        "accounts.view_full_nik",
        "accounts.view_exclusionlist",
        "accounts.add_exclusionlist",
        "accounts.change_exclusionlist",
        "accounts.view_registrationbatch",
    ],
    "pmo_finance_maker": ["accounts.view_participant"],
    "pmo_finance_checker": ["accounts.view_participant"],
}


def create_roles(apps, schema_editor):
    for role in ALL_ROLES:
        grant(apps, role, PERMISSIONS.get(role, []))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ALL_ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
