from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _email_proved_by_reset(sender, request, user, **kwargs):
    from .services.registration import email_confirm_by_password_reset

    email_confirm_by_password_reset(user=user)


def _grant_role_permissions(sender, using="default", **kwargs):
    from .roles import sync_roles

    if using == "default":  # a replica (the tests' second database) has the primary's groups, not its own
        sync_roles()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and participants")

    def ready(self):
        # Once per migrate (and per test database flush), after the last app's
        # post_migrate, when every app's permissions exist: with sender=self
        # the apps after accounts would have none yet, and without a sender it
        # would run once per app.
        last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
        post_migrate.connect(_grant_role_permissions, sender=last, dispatch_uid="accounts.sync_roles")
        from allauth.account.signals import password_reset

        password_reset.connect(_email_proved_by_reset, dispatch_uid="accounts.email_proved_by_reset")
        from allauth.mfa.models import Authenticator

        from .mfa import record_activation

        post_save.connect(record_activation, sender=Authenticator, dispatch_uid="accounts.mfa_activation")
        from django.db.models.signals import m2m_changed

        from catalog.models import Institution, Platform

        from .services.powers import guard_partner_staff

        for model in (Institution, Platform):
            m2m_changed.connect(
                guard_partner_staff, sender=model.staff.through, dispatch_uid=f"powers.{model.__name__}"
            )
