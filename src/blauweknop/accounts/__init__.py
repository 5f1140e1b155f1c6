"""Citizens' accounts: a user per DigiD login, known by BSN only inside this app's table."""
