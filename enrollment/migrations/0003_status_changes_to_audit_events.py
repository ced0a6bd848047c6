# The status history moves into the one audit trail (audit.AuditEvent).

from django.db import migrations

from audit.migrating import copy_status_changes


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_audit_event'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('enrollment', '0002_lottery_digest'),
    ]

    operations = [
        migrations.RunPython(copy_status_changes('enrollment', 'CardStatusChange', 'card', 'Card'), migrations.RunPython.noop),
        migrations.RunPython(copy_status_changes('enrollment', 'EnrollmentStatusChange', 'enrollment', 'Enrollment'), migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='enrollmentstatuschange',
            name='changed_by',
        ),
        migrations.RemoveField(
            model_name='enrollmentstatuschange',
            name='enrollment',
        ),
        migrations.DeleteModel(
            name='CardStatusChange',
        ),
        migrations.DeleteModel(
            name='EnrollmentStatusChange',
        ),
    ]
