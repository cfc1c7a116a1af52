"""How every command reads its arguments: values as users type them, errors in one line.

- ``PARSER_MODE`` reads values and config files as YAML, like jsonargparse's default, but first
  rewrites JSON's escape of a character beyond U+FFFF (a surrogate pair, which YAML refuses) as
  YAML's: ``'["the \\ud83d\\ude42 sat ."]'`` is one sentence holding the emoji, not the whole text.
- ``OneLineErrors.error`` prints the line of a parser error that names the key and what it
  accepts, instead of the usage text and every nested Union attempt; exit code 2.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from jsonargparse import ArgumentParser, get_loader, set_loader

PARSER_MODE = "yaml_with_json_escapes"


#: JSON's escape of a character beyond U+FFFF: a surrogate pair, which YAML refuses
_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


def _yaml_escape(pair: re.Match) -> str:
    high, low = int(pair.group(1), 16), int(pair.group(2), 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


def _load_yaml(text: str) -> Any:
    return get_loader("yaml")(_SURROGATE_PAIR.sub(_yaml_escape, text))


def install_loader() -> None:
    import yaml

    set_loader(PARSER_MODE, _load_yaml, exceptions=(yaml.YAMLError, ValueError))


#: lines of jsonargparse's messages that only say which Union attempt failed, never what is wrong
_NOISE = re.compile(
    r"^(Parser key |Does not validate against|Subtypes:|Errors:|Given value|Problem with given class_path|"
    r"Expected a <class 'NoneType'>|Not a valid subclass|Import path .* does not)"
)


def _unreadable_config(words: Sequence[str]) -> str | None:
    """The first ``--config`` file among ``words`` that is not valid YAML, if any."""
    import yaml

    for flag, value in zip(words, words[1:]):
        if flag in ("-c", "--config") and Path(value).is_file():
            try:
                yaml.safe_load(Path(value).read_text())
            except yaml.YAMLError:
                return value
    return None


def _class(class_path: str) -> type | None:
    module, _, name = class_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None


def accepted_arguments(class_path: str) -> list[str]:
    """The constructor arguments of ``class_path`` and its bases (what a config may set)."""
    klass = _class(class_path)
    if klass is None:
        return []
    names: list[str] = []
    for base in klass.__mro__:
        if "__init__" in vars(base):
            for parameter in inspect.signature(base.__init__).parameters.values():
                if (
                    parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
                    and parameter.name != "self"
                ):
                    names.append(parameter.name)
    return sorted(set(names))


def one_line(message: str, words: Sequence[str] = ()) -> str:
    """The one line of a (possibly nested, multi-line) jsonargparse error that names the key and what is wrong;
    ``words`` (what the parse was given) name the config file a YAML error comes from."""
    lines = [line.strip().lstrip("- ").strip() for line in str(message).splitlines() if line.strip()]
    keys = re.findall(r'Parser key "([^"]+)"', message)
    details = [line for line in lines if not _NOISE.match(line)]
    if not keys:
        detail = ": ".join(details or lines)
        if detail.startswith("Problems parsing config") and (broken := _unreadable_config(words)):
            detail = f"{broken}: not valid YAML ({detail.replace('<unicode string>', broken)})"
        return f"{detail} (see --help)" if detail.startswith("unrecognized arguments") else detail
    detail = details[0] if details else lines[-1]
    detail = re.sub(r"Expected a <class '(\w+)'>\. Got value: (.*)", r"expected \1, got \2", detail)
    detail = re.sub(r"Expected a (.*)\. Got value: (.*)", r"expected \1, got \2", detail)
    class_path = re.search(r"Problem with given class_path '([^']+)'", message)
    if "is not accepted" in detail and class_path:
        option = re.search(r"Option '([^']+)' is not accepted", detail)
        key = option.group(1).split(".")[0] if option else ""
        moved = getattr(_class(class_path.group(1)), "moved_settings", {}).get(key)
        accepted = accepted_arguments(class_path.group(1))
        if moved:  # a setting an older version took here: say where it lives now
            detail += f": {moved}"
        elif accepted:
            detail += f"; {class_path.group(1).rsplit('.', 1)[-1]} accepts: {', '.join(accepted)}"
    return f"{'.'.join(keys)}: {detail}"


class OneLineErrors:
    """Mix into a jsonargparse parser: errors end the run with ``error: <one line>``, exit 2."""

    #: the words this parser's last ``parse_args`` was given (for ``one_line``)
    _words: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        install_loader()
        kwargs.setdefault("parser_mode", PARSER_MODE)
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        self._words = tuple(str(word) for word in (sys.argv[1:] if args is None else args))
        return super().parse_args(args, *rest, **kwargs)

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:
            super().error(message, ex)
        sys.stderr.write(f"error: {one_line(message, self._words)}\n")
        self.exit(2)


class CommandParser(OneLineErrors, ArgumentParser):
    """The parser of the extra commands (``report``, ``tokenize``, ...)."""


def with_short_options(parser_class: type[ArgumentParser], short: dict[str, str]) -> type[ArgumentParser]:
    """``parser_class`` that also accepts ``short`` spellings (``-o`` for ``--output``) and shows them in help."""
    long_to_short = {long: s for s, long in short.items()}

    class WithShortOptions(parser_class):  # type: ignore[misc, valid-type]
        def add_argument(self, *names: str, **kwargs: Any):
            extra = [long_to_short[n] for n in names if n in long_to_short]
            return super().add_argument(*extra, *names, **kwargs)

    return WithShortOptions
