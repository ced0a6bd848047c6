"""Every write of the accounts app, one function per use case.

registration: participant_register(_offline) and the phone and status moves after it.
otp: one-time codes by SMS.
batches: offline registration by CSV.
exclusion: PMO exclusion lists.
operators: Dinas operators.
identity: showing NIK and KK to staff (masked, or in full and logged).
"""
