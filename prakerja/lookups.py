"""``field__any=ids``: ``field = ANY(%s)`` with the list sent as one array
parameter. ``field__in`` sends one parameter per value, which costs the
driver and the planner more with every value: a wave's draw moves hundreds
of thousands of rows by id. Registered on every field (prakerja/apps.py)."""

from django.db.models import Field, Lookup


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [list(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)
