"""The project's own format overrides (settings.FORMAT_MODULE_PATH; docs/i18n.md)."""
