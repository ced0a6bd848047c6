"""For the migrations that moved each app's own ``*StatusChange`` table into
the one audit trail: copies the rows, keeping who, when, from, to and why."""


def copy_status_changes(app_label: str, old_model: str, owner_field: str, owner_model: str):
    def forwards(apps, schema_editor):
        db = schema_editor.connection.alias  # the database being migrated, not the router's choice
        Old = apps.get_model(app_label, old_model)
        AuditEvent = apps.get_model("audit", "AuditEvent")
        ContentType = apps.get_model("contenttypes", "ContentType")
        if not Old.objects.using(db).exists():
            return
        content_type, _created = ContentType.objects.db_manager(db).get_or_create(
            app_label=app_label, model=owner_model.lower()
        )
        has_actor = any(f.name == "changed_by" for f in Old._meta.get_fields())
        batch = []
        for row in Old.objects.using(db).order_by("pk").iterator(chunk_size=5000):
            batch.append(
                AuditEvent(
                    created_at=row.created_at,
                    actor_id=row.changed_by_id if has_actor else None,
                    content_type=content_type,
                    object_id=getattr(row, f"{owner_field}_id"),
                    kind="status",
                    from_status=row.from_status or "",
                    to_status=row.to_status,
                    reason=row.reason or "",
                )
            )
            if len(batch) >= 5000:
                AuditEvent.objects.using(db).bulk_create(batch)
                batch = []
        AuditEvent.objects.using(db).bulk_create(batch)

    return forwards
