"""Staff side of MeetNow (issue 7): the admin site, two-factor login, roles, dashboard, audit.

Wiring layer: may import every app. See docs/admin.md.
"""
