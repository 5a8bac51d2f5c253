"""Rebuild the shipped models: ``civility train`` (see cli.py) and export_minilm.py (torch)."""
