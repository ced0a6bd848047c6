# The status history moves into the one audit trail (audit.AuditEvent).

from django.db import migrations

from audit.migrating import copy_status_changes


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_audit_event'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('payouts', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(copy_status_changes('payouts', 'PayoutBatchStatusChange', 'batch', 'PayoutBatch'), migrations.RunPython.noop),
        migrations.RunPython(copy_status_changes('payouts', 'PayoutStatusChange', 'payout', 'Payout'), migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='payoutstatuschange',
            name='payout',
        ),
        migrations.DeleteModel(
            name='PayoutBatchStatusChange',
        ),
        migrations.DeleteModel(
            name='PayoutStatusChange',
        ),
    ]
