"""``civility`` subcommands owned by the accounts app."""
