"""The personal-data registry is complete: every model that references the user is declared."""

from __future__ import annotations

from pathlib import Path

from privacy.registry import Strategy, get_registry, models_referencing_user
from privacy.retention import retention_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


def test_every_model_referencing_the_user_is_declared() -> None:
    """Walks every installed model (auto-created many-to-many tables too) that reaches the
    user model through foreign keys; a new model must be declared in its app's personal_data.py."""
    registry = get_registry()
    reaching = models_referencing_user()
    assert "chat.Message" in reaching  # the walk sees the apps
    assert "chat.MessageVersion" in reaching  # and chains (version -> message -> user)
    missing = {label: " -> ".join(path) for label, path in reaching.items()}
    for label in registry.declarations:
        missing.pop(label, None)
    assert not missing, (
        "Undeclared models hold data about users; declare export, erase and retention "
        f"for each in its app's personal_data.py: {missing}"
    )


def test_declarations_are_for_real_models_and_complete() -> None:
    from django.apps import apps

    registry = get_registry()
    rules = {rule.key for rule in retention_table()}
    for label, declaration in registry.declarations.items():
        apps.get_model(label)  # raises for a stale declaration
        assert declaration.erase in Strategy
        assert declaration.retention in rules, f"{label}: unknown retention rule"
        if not declaration.export:
            assert declaration.note, f"{label}: say why it is not exported"
        if declaration.erase is Strategy.KEEP:
            assert declaration.note, f"{label}: say why it is kept"
    assert "accounts.User" in registry.declarations


def test_erase_steps_cover_every_erased_model() -> None:
    registry = get_registry()
    stepped = {step.model for step in registry.erase_steps}
    cascaded = {"account.EmailConfirmation", "socialaccount.SocialToken"}  # with their parent
    for label, declaration in registry.declarations.items():
        if declaration.erase is Strategy.KEEP or label in cascaded:
            continue
        assert label in stepped, f"{label} has no erasure step"
    assert registry.erase_steps[-1].key == "accounts.User:delete"
    from privacy.models import ErasureStep

    width = ErasureStep._meta.get_field("action").max_length or 0
    assert all(len(step.action) <= width for step in registry.erase_steps)


def test_export_sections_named_by_declarations_exist() -> None:
    registry = get_registry()
    files = {section.filename for section in registry.export_sections}
    for label, declaration in registry.declarations.items():
        for name in declaration.export.replace("+", " ").split():
            if name.endswith(".json"):
                assert name in files, f"{label} exports to {name}, which no section writes"


def test_docs_show_the_registry_and_the_retention_table() -> None:
    text = DOCS.read_text()
    for label in get_registry().declarations:
        assert f"`{label}`" in text, f"docs/privacy.md does not list {label}"
    for rule in retention_table():
        assert f"`{rule.key}`" in text, f"docs/privacy.md does not show retention {rule.key}"


def test_erase_steps_run_from_the_top_layer_down() -> None:
    """Rows of a higher app that point at a lower app's rows go first: the apps'
    ``personal_data`` modules run in the order of the import-linter layers."""
    import tomllib

    from privacy.registry import personal_data_modules

    config = tomllib.loads((DOCS.parents[1] / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    layer_of = {
        name.strip(): index
        for index, layer in enumerate(contract["layers"])
        for name in layer.split("|")
    }
    # The wiring app's own models (the task outbox) sit at the bottom with meetnow.lib.
    layer_of["meetnow"] = layer_of["meetnow.lib"]
    apps_top_down = [label for label, _ in reversed(personal_data_modules())]
    assert {"privacy", "chat", "accounts", "media"} <= set(apps_top_down)
    positions = [layer_of[label] for label in apps_top_down]
    assert positions == sorted(positions), apps_top_down
    registry = get_registry()
    apps_of_steps = [step.model.split(".")[0] for step in registry.erase_steps]
    assert apps_of_steps.index("privacy") < apps_of_steps.index("chat")
    assert apps_of_steps.index("chat") < apps_of_steps.index("media")
