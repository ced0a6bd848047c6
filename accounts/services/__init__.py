"""Every write of the accounts app, one function per use case.

registration: participant_register(_offline), the profile's rules.
phone: verifying and changing the mobile number.
status: the participant's status moves (participant_move, participants_move).
eligibility: the exclusion lists' answer for a participant.
otp: one-time codes by SMS.
batches: offline registration by CSV.
exclusion: PMO exclusion lists.
operators: Dinas operators.
identity: showing NIK and KK to staff (masked, or in full and logged).
"""
