"""What an old copy is called wherever it is checked: the verify page, the wallet, the requester's pages.

A copy whose holder marked it INVALID in its status list (protocol code ``revoked``) was superseded:
the holder's data changed after it was made (blauweknop.holder.freshness). A copy past its ``exp``
has expired. Each surface adds what its reader can do next; these words are the same everywhere.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

SUPERSEDED = gettext_lazy("Vervangen door nieuwere gegevens")
SUPERSEDED_WHY = gettext_lazy("De organisatie heeft de gegevens veranderd nadat deze kopie werd gemaakt.")
EXPIRED = gettext_lazy("Verlopen")
