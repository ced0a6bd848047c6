"""The lifecycle kernel: every status move of every app goes through
``record_move`` (one row's move, the row locked by the caller) or
``transition`` (which locks and saves too) or ``transition_many`` (a bulk
move); each checks the model's table of allowed moves and writes one audit
event in the same transaction. Staff changes that are not status moves are
recorded with ``record_change``."""

from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.contenttypes.models import ContentType
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import IllegalTransition

Table = Mapping[str, frozenset[str]]


def _label(table: Table, value: str) -> str:
    """A status as people read it: the table's keys are the model's
    TextChoices, whose labels are translated."""
    choices = type(next(iter(table), ""))
    try:
        return str(choices(value).label)
    except (ValueError, AttributeError):
        return str(value)


def check_move(table: Table, current: str, target: str) -> None:
    """Refuses a move the lifecycle table does not list, in words a person
    reads (a double click, a second tab, someone else acting first)."""
    if target not in table.get(current, frozenset()):
        raise IllegalTransition(
            _("This cannot be done now: its status is “%(current)s”. Reload the page to see what can be done.")
            % {"current": _label(table, current).lower()},
            code="illegal_transition",
        )


def _event(obj_or_model, pk, **fields):
    from audit.models import AuditEvent

    return AuditEvent(content_type=ContentType.objects.get_for_model(obj_or_model), object_id=pk, **fields)


def record_move(obj, to: str, *, table: Table, by=None, reason: str = "", field: str = "status", payload=None) -> str:
    """Checks the move of ``obj`` (a row the caller holds locked) to ``to``,
    sets it, and writes its audit event; the caller saves the row, with the
    fields that change along, in the same transaction. Returns the status it
    came from."""
    previous = getattr(obj, field)
    check_move(table, previous, to)
    setattr(obj, field, to)
    record_created(obj, to, by=by, reason=reason, previous=previous, payload=payload)
    return previous


_deferred: ContextVar[list | None] = ContextVar("deferred_rows", default=None)


@contextmanager
def inserts_deferred():
    """Rows given to ``insert`` inside this block are written as it ends
    without an error, one INSERT per model: a purchase's two audit events
    and two platform notices cost two statements, not four. Only for rows
    nothing reads back before the block ends. Nested, the outer one writes."""
    if _deferred.get() is not None:
        yield
        return
    rows: list = []
    token = _deferred.set(rows)
    try:
        yield
    finally:
        _deferred.reset(token)
    by_model: dict = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    for model, objs in by_model.items():
        model._default_manager.bulk_create(objs)


def insert(row) -> None:
    """Saves a new row now, or as the enclosing ``inserts_deferred`` ends."""
    rows = _deferred.get()
    if rows is None:
        row.save()
    else:
        rows.append(row)


def record_created(obj, status: str, *, by=None, reason: str = "", previous: str = "", payload=None) -> None:
    """The audit event of a row born in ``status`` (or moved, from
    ``record_move``)."""
    insert(
        _event(
            obj, obj.pk, from_status=previous, to_status=status, actor=by, reason=reason[:500], payload=payload or {}
        )
    )


def _events_many(model, ids: list[int], *, from_status: str, to_status: str, by, reason: str) -> None:
    """One status event per row id, in one INSERT whatever their number
    (the ids go as one array): a wave's draw records hundreds of thousands."""
    from audit.models import AuditEvent

    if not ids:
        return
    with connections[router.db_for_write(AuditEvent)].cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (created_at, actor_id, content_type_id, object_id, kind, name, "
            "from_status, to_status, reason, payload) "
            "SELECT %s, %s, %s, id, %s, '', %s, %s, %s, '{}'::jsonb FROM unnest(%s::bigint[]) AS id",
            [
                timezone.now(),
                getattr(by, "pk", None),
                ContentType.objects.get_for_model(model).pk,
                AuditEvent.Kind.STATUS,
                from_status,
                to_status,
                reason[:500],
                list(ids),
            ],
        )


def record_created_many(model, ids: Iterable[int], status: str, *, by=None, reason: str = "") -> None:
    """``record_created`` for many rows of ``model`` born together (a
    wave's cards): one INSERT of their events."""
    _events_many(model, list(ids), from_status="", to_status=status, by=by, reason=reason)


def transition(
    obj,
    to: str,
    *,
    table: Table,
    by=None,
    reason: str = "",
    field: str = "status",
    also: Iterable[str] = (),
    payload=None,
    after_commit: Callable[[], None] | None = None,
):
    """The whole move of one row: locks it, checks the move against the
    status it has now, saves it with ``also`` (fields the caller set),
    records it, and runs ``after_commit`` only once the move is committed."""
    model = type(obj)
    with transaction.atomic():
        setattr(obj, field, model._default_manager.select_for_update().values_list(field, flat=True).get(pk=obj.pk))
        record_move(obj, to, table=table, by=by, reason=reason, field=field, payload=payload)
        fields = [field, *also]
        if any(f.name == "updated_at" for f in model._meta.concrete_fields) and "updated_at" not in fields:
            fields.append("updated_at")
        obj.save(update_fields=fields)
        if after_commit is not None:
            transaction.on_commit(after_commit)
    return obj


def transition_many(
    model, ids: list[int], *, from_status: str, to: str, table: Table, by=None, reason: str = "", **also
):
    """A bulk move of rows of ``model`` that are in ``from_status`` (others
    are left alone), setting ``also`` fields with it: one check of the table,
    one UPDATE, one event per row moved. Returns the ids moved."""
    source = from_status
    check_move(table, source, to)
    with transaction.atomic():
        moved = list(
            model._default_manager.select_for_update()
            .filter(pk__any=ids, status=source)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not moved:
            return []
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            also.setdefault("updated_at", timezone.now())
        model._default_manager.filter(pk__any=moved).update(status=to, **also)
        _events_many(model, moved, from_status=source, to_status=to, by=by, reason=reason)
    return moved


def record_change(obj, name: str, *, by, before: dict, after: dict, reason: str = "", kind: str = "setting") -> None:
    """A staff change that is not a status move (a bank account, a payout
    route, a wave's rules, a list imported, a role granted), with what it
    was and what it became."""
    _event(
        obj, obj.pk, kind=kind, name=name, actor=by, reason=reason[:500], payload={"before": before, "after": after}
    ).save()


def _plain(value):
    """A field's value as JSON can hold it (dates and amounts as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def save_edit(obj, fields: Iterable[str], *, by, name: str, check: Callable | None = None) -> dict:
    """Saves a staff edit of ``fields`` of ``obj`` (a form's changed fields)
    under the row's lock and records what each was and became. ``check``
    sees the locked row as it is now and may refuse (raise a DomainError).
    Returns the changes recorded, ``{field: (before, after)}``."""
    model = type(obj)
    concrete = {f.name: f for f in model._meta.concrete_fields}
    names = [f for f in fields if f in concrete and f != model._meta.pk.name]
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=obj.pk)
        if check is not None:
            check(current)
        if not names:
            return {}
        before = {f: _plain(getattr(current, concrete[f].attname)) for f in names}
        obj.save(update_fields=names)
        after = {f: _plain(getattr(obj, concrete[f].attname)) for f in names}
        changed = {f: (before[f], after[f]) for f in names if before[f] != after[f]}
        if changed:
            record_change(
                obj,
                name,
                by=by,
                before={f: b for f, (b, _a) in changed.items()},
                after={f: a for f, (_b, a) in changed.items()},
            )
    return changed


def record_members(obj, name: str, *, by, before: set, after: set, kind: str = "role") -> None:
    """Who was given or lost a role on ``obj`` (staff of an institution or a
    platform, a user's groups), as sorted lists of names."""
    if before != after:
        added, removed = sorted(after - before), sorted(before - after)
        record_change(
            obj,
            name,
            by=by,
            kind=kind,
            before={"members": sorted(before)},
            after={"members": sorted(after)},
            reason="; ".join(
                filter(None, [f"+ {', '.join(added)}" if added else "", f"- {', '.join(removed)}" if removed else ""])
            ),
        )
