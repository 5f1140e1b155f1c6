"""The requester role (gegevensvrager, variant Plus): asks a citizen for data, receives it certified."""
