"""Curation: pure rounds over records, each returning what it kept and what it dropped and why."""
