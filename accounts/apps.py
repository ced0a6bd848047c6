from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _grant_role_permissions(sender, **kwargs):
    from .roles import sync_roles

    sync_roles()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and participants")

    def ready(self):
        # Runs after every app's permissions exist (post_migrate of the last
        # app), and again after a test database flush.
        post_migrate.connect(_grant_role_permissions, dispatch_uid="accounts.sync_roles")
