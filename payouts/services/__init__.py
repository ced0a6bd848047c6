"""Every write of the payouts app: batches (batches.py), sending through the
gateway and recording its answers (disbursement.py), reconciliation
(reconciliation.py) and participants' incentives (incentives.py)."""
