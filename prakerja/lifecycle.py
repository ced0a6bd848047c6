"""The one check every status transition makes against its table."""

from collections.abc import Mapping

from django.utils.translation import gettext as _

from .errors import IllegalTransition


def _label(table: Mapping[str, frozenset[str]], value: str) -> str:
    """A status as people read it: the table's keys are the model's
    TextChoices, whose labels are translated."""
    choices = type(next(iter(table), ""))
    try:
        return str(choices(value).label)
    except (ValueError, AttributeError):
        return str(value)


def check_move(table: Mapping[str, frozenset[str]], current: str, target: str) -> None:
    """Refuses a move the lifecycle table does not list, in words a person
    reads (a double click, a second tab, someone else acting first)."""
    if target not in table.get(current, frozenset()):
        raise IllegalTransition(
            _("This cannot be done now: its status is “%(current)s”. Reload the page to see what can be done.")
            % {"current": _label(table, current).lower()},
            code="illegal_transition",
        )
