"""The scheme operator's app: participants, certification, the data catalogue, the scheme document."""
