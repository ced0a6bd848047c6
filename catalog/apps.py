from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """Platforms, institutions, courses and their curation (issue 4)."""

    name = "catalog"
    verbose_name = _("Training catalog")
