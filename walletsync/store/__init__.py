"""Local state: the device's secrets (OS keyring or a passphrase file) and the SQLite store they seal."""
