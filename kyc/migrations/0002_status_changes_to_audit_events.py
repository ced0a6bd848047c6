# The status history moves into the one audit trail (audit.AuditEvent).

from django.db import migrations

from audit.migrating import copy_status_changes


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_audit_event'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('kyc', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(copy_status_changes('kyc', 'KycStatusChange', 'submission', 'KycSubmission'), migrations.RunPython.noop),
        migrations.DeleteModel(
            name='KycStatusChange',
        ),
    ]
