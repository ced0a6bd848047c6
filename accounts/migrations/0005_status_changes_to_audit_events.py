# The status history moves into the one audit trail (audit.AuditEvent).

from django.db import migrations

from audit.migrating import copy_status_changes


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_audit_event'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0004_incentive_account_code'),
    ]

    operations = [
        migrations.RunPython(copy_status_changes('accounts', 'ParticipantStatusChange', 'participant', 'Participant'), migrations.RunPython.noop),
        migrations.DeleteModel(
            name='ParticipantStatusChange',
        ),
    ]
