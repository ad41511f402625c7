"""Cursor pagination for every list endpoint (stable under inserts, nothing enumerable)."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 100
    ordering = "-id"
