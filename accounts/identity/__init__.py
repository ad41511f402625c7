"""Identity verification (P7): real name + resident ID number + a provider's liveness check.

Optional, behind its own consent for sensitive personal information (recorded by
``privacy`` through the hook in :mod:`accounts.identity.hooks`). Nothing sensitive is
kept: no face media, no full ID number, no full name; see ``docs/identity.md``.
"""
