"""An old copy made old the way a registry does it: a change straight in the source table, then one worker run.

No portal and no issuing in between: the holder learns of the change from its source's change feed
(database triggers), supersedes the copies that no longer match, and publishes its status lists.
"""

import json

from django.db import connection

from blauweknop.holder.models import SourceRecord
from blauweknop.holder.tasks import publish_status_lists

INCOME_FIELD = "toetsingsinkomenInCenten"


def change_at_source(holder_oin: str, bsn: str, type_id: str = "inkomen", field: str = INCOME_FIELD) -> None:
    """Change ``field`` of the citizen's document with a raw SQL UPDATE (a number goes up by one; a list loses its
    last item), then run the holder's publish task."""
    data = SourceRecord.objects.get(holder_oin=holder_oin, document_type=type_id, bsn=bsn).data
    value = data[field]
    changed = json.dumps({**data, field: value[:-1] if isinstance(value, list) else value + 1})
    value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE holder_bronregistratie SET data = {value} "  # noqa: S608 (a constant, not input)
            "WHERE holder_oin = %s AND document_type = %s AND bsn = %s",
            [changed, holder_oin, type_id, bsn],
        )
        assert cursor.rowcount == 1
    publish_status_lists.call()
