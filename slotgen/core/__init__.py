"""The pure planning core: it turns rules, exceptions and existing slots into writes.

It sees plain values only, so every scheduling decision can be tested without a database.
"""
