"""Simplified Chinese numbers as CLDR writes them (``12,345.5``).

Django's own zh_Hans formats group by four digits with no separator, which prints
``12345``; Chinese apps and CLDR group thousands with a comma. Everything else
(dates ``2026年12月4日``, times ``18:05``) comes from Django's zh_Hans formats.
"""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
DECIMAL_SEPARATOR = "."
