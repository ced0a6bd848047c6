"""Admin pieces shared by the apps."""

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent

from .lifecycle import _plain, record_change, record_members, save_edit


class EventsInline(GenericTabularInline):
    """An object's history from the audit trail, read-only: who, when, what
    (from, to), why, and the details of a changed setting."""

    model = AuditEvent
    fields = ["created_at", "what", "by", "reason", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("history event")
    verbose_name_plural = _("History")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever may see the object sees its history.
        return True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("what"))
    def what(self, event):
        if event.kind == AuditEvent.Kind.STATUS:
            return f"{event.from_label or '–'} → {event.to_label}"
        return f"{event.get_kind_display()}: {event.name}"

    @admin.display(description=_("by"))
    def by(self, event):
        return event.actor_text

    @admin.display(description=_("details"))
    def details(self, event):
        """Before and after of a changed setting, or a job's counts, as text."""
        payload = event.payload or {}
        if "before" in payload or "after" in payload:
            before, after = payload.get("before") or {}, payload.get("after") or {}
            keys = sorted(set(before) | set(after))
            return "; ".join(f"{k}: {before.get(k, '–')} → {after.get(k, '–')}" for k in keys)
        return "; ".join(f"{k}: {v}" for k, v in payload.items())


class EditHistoryMixin:
    """A ModelAdmin whose saves go through a service that records what each
    changed field was and became (``edit_service``), and who was given or
    lost a role through ``members_fields`` (many-to-many of users or groups),
    in the object's history."""

    members_fields: tuple[str, ...] = ()

    def edit_service(self, request, obj, fields):
        return save_edit(obj, fields, by=request.user, name="settings")

    def save_model(self, request, obj, form, change):
        if change:
            self.edit_service(request, obj, form.changed_data)
            return
        super().save_model(request, obj, form, change)
        concrete = {f.name for f in obj._meta.concrete_fields}
        created = {f: _plain(form.cleaned_data.get(f)) for f in form.changed_data if f in concrete}
        record_change(obj, "created", by=request.user, before={}, after=created)

    def _members(self, obj, name) -> set:
        return {str(member) for member in getattr(obj, name).all()} if obj.pk else set()

    def save_related(self, request, form, formsets, change):
        before = {name: self._members(form.instance, name) for name in self.members_fields}
        super().save_related(request, form, formsets, change)
        for name in self.members_fields:
            record_members(
                form.instance, name, by=request.user, before=before[name], after=self._members(form.instance, name)
            )


class GuardedFieldsMixin:
    """Fields only some staff may change (DESIGN.md's roles):
    ``admin_only_fields`` (who is an institution's or platform's staff: an
    administrator alone grants those powers) are read only to everyone else;
    ``money_fields`` (where the money goes) are read only to everyone,
    administrators included: they change through a request that a second
    finance officer approves (catalog.PayeeChange). Participants are never
    offered as staff."""

    admin_only_fields: tuple[str, ...] = ()
    money_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        fields += [f for f in self.money_fields if f not in fields]
        if not request.user.is_superuser:
            fields += [f for f in self.admin_only_fields if f not in fields]
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.admin_only_fields:
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(participant__isnull=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def rupiah(amount) -> str:
    """Whole rupiah as people write it: Rp 1.250.000."""
    return "–" if amount is None else "Rp " + f"{int(amount):,}".replace(",", ".")


def rupiah_column(name: str, description, *, sortable: bool = True):
    """A list or detail column showing the model's whole-rupiah field (or
    property) ``name`` as "Rp 1.250.000", sortable by the field."""

    @admin.display(description=description, ordering=name if sortable else None)
    def column(self, obj):
        return rupiah(getattr(obj, name))

    column.__name__ = f"{name}_rp"
    return column


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records staff may look at but never add, change or delete in admin:
    they change only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
