"""De Blauwe Knop: citizens see, download and share the data organisations hold about them."""
