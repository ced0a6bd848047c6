from django.apps import AppConfig


class PrakerjaConfig(AppConfig):
    name = "prakerja"

    def ready(self):
        from . import lookups  # noqa: F401  (registers field__any)
