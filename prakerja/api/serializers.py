"""What every request body of the partner API shares."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """A request body: a field the endpoint does not know is refused
    (``unknown_field``) rather than silently dropped, so a typo in a field's
    name is found at once."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                # Named back as sent, but at most 20 and 64 characters each.
                raise serializers.ValidationError(
                    {name[:64]: [_("This field is not part of this request.")] for name in unknown[:20]},
                    code="unknown_field",
                )
        return super().to_internal_value(data)
