"""The pure scheduling core: rules, exceptions, dates and stored slots in; slots and writes out.

It sees plain values only (`now` and zone names are arguments), so every scheduling
decision, DST edges included, is tested without a database. May import the standard
library, python-dateutil, `slotgen.vocabulary` and `slotgen.errors`; nothing else
(`ruff.toml` fences it).
"""
