"""The data holder's app: source adapters, issuing certified copies, status lists."""
