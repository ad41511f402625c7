"""WeChat login from the native app (P3): the SDK's code, exchanged on the server."""
