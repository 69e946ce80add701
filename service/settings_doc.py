"""``docs/configuration.md``, generated from ``Settings``: every variable, its default and meaning.

Run ``python -m service.settings_doc > docs/configuration.md`` after changing a setting; a test
fails while the page is out of date.
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from evaluator.limits import EvalLimits
from service.settings import Settings

HEADER = """# Configuration

Every setting comes from the environment; `service/settings.py` reads it, nowhere else does.
The evaluator's limits are the fields of `evaluator.limits.EvalLimits`, which `Settings`
inherits, so the CLI, the benchmarks and the tests share one set of defaults. A run stores the
limits it was started with and is judged by them when it is resumed or picked up by another
worker, whatever that process's environment says; `crucible show RUN` prints them.

This page is generated: `python -m service.settings_doc > docs/configuration.md`.
"""


def variable(name: str, info: FieldInfo) -> str:
    alias = info.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    return f"CRUCIBLE_{name.upper()}"


def default_text(name: str, info: FieldInfo) -> str:
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "required"
    else:
        value = info.default
    if value is None or value == []:
        return "unset"
    if name.endswith("_bytes") and isinstance(value, int) and value % 1024**3 == 0:
        return f"`{value // 1024**3} GiB`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def table(names: list[str]) -> list[str]:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name in names:
        info = Settings.model_fields[name]
        rows.append(f"| `{variable(name, info)}` | {default_text(name, info)} | {info.description or ''} |")
    return rows


def render() -> str:
    limits = [n for n in Settings.model_fields if n in EvalLimits.field_names()]
    service = [n for n in Settings.model_fields if n not in EvalLimits.field_names()]
    lines = [HEADER, "## The service", "", *table(service), ""]
    lines += ["## The evaluator's limits", "", *table(limits)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
