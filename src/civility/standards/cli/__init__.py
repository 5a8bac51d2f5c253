"""The engine's subcommands: ``civility moderate`` and ``civility evaluate``.

Each module exposes ``register(parser)`` and ``run(args)`` for the dispatcher in
:mod:`civility.cli`. Nothing here imports Django.
"""
