"""The citizen's portal (app manager): DigiD login, the Blauwe Knop, downloads, verify page."""
