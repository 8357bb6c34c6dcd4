"""Where the company's data lives: the SQLCipher engine, key slots and the OS
keychain, migrations, and backup/restore. Nothing here knows business rules."""
