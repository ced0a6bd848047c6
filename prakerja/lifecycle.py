"""The one check every status transition makes against its table."""

from collections.abc import Mapping

from django.utils.translation import gettext as _

from .errors import IllegalTransition


def check_move(table: Mapping[str, frozenset[str]], current: str, target: str) -> None:
    """Refuses a move the lifecycle table does not list."""
    if target not in table.get(current, frozenset()):
        raise IllegalTransition(
            _("Status cannot change from %(current)s to %(target)s.") % {"current": current, "target": target},
            code="illegal_transition",
        )
