"""What the accounts app announces to whoever listens (an app that hands
work on registers a handler instead of being imported back)."""

from django.dispatch import Signal

# An exclusion list finished importing and now refuses its NIKs:
# ``exclusion_list_id``. The integrity app re-screens active cards.
exclusion_list_ready = Signal()
