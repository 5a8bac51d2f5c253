"""``civility`` subcommands owned by the news app."""
