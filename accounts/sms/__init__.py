"""One-time code delivery by SMS or voice call (P2), behind one small interface.

``SMS_BACKEND`` picks the backend: ``console`` (development), ``locmem`` (tests),
``twilio`` (Twilio's REST API, SMS and voice) or ``http`` (a generic HTTP JSON
gateway, the shape most mainland-China aggregators offer).
"""
