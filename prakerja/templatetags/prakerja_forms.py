"""Template helpers of the shared form include."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def hidden_errors(form) -> list[str]:
    """The errors of a form's hidden fields, which have no place of their
    own on the page: a service's refusal of the revision the page showed, or
    a page that was altered or is out of date. They are shown with the
    form's own errors, never dropped."""
    errors = []
    for field in form.hidden_fields():
        for error in field.errors.as_data():
            if error.code in ("required", "invalid", "max_length", "min_value", "max_value"):
                message = _("This page is out of date or incomplete. Reload it and try again.")
            else:
                message = " ".join(error.messages)
            if message not in errors:
                errors.append(message)
    return errors
