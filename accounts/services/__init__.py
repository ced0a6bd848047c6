"""Every write of the accounts app, one function per use case.

registration: participant_register and the phone/status moves after it.
otp: one-time codes by SMS.
exclusion: PMO exclusion lists.
batches: offline registration by CSV.
"""
