"""Voice and video calls (issue 8, docs/calls.md): ``services`` (writes and reads),
``signalling`` (the WebSocket frames), ``apis`` (REST), ``push`` and ``tasks`` (the
ring push and the ring timeout). The model ``Call`` is in ``chat/models.py``.
"""
