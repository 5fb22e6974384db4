"""Files the user names, read within limits: one reader for every kind of file costmodel takes.

Scenario files, price files and job mappings (and any small YAML file added later) are read
with :func:`read_yaml` or :func:`read_text` plus :func:`compose_yaml`; results files, which
may be gigabytes, are only checked with :func:`check_regular_file` before DuckDB reads them.
The rules are the same for every kind, so a hostile file fails the same way wherever it is
named (a scenario's ``prices:``, ``--prices``, ``--jobs``, ``usage import``):

- **Regular files only.** The path is checked with ``stat`` before it is opened, and the
  opened file again with ``fstat`` (it could have been swapped in between), so a FIFO, a
  device such as ``/dev/zero``, a socket or a folder is refused before a byte is read; the
  file is opened non-blocking, so not even a FIFO swapped in can hang the open. A symlink is
  judged by what it points at. A pseudo-file that says it is empty but is not (``/proc/...``)
  is refused too: nothing the user wrote lives there.
- **At most** :data:`MAX_FILE_BYTES` (1 MB, the dashboard's upload limit), read in one bounded
  read, so a file that grows while it is read cannot run on.
- **UTF-8 text**, the line of a bad byte named.
- **Bounded YAML.** Only YAML's plain tags (PyYAML's safe set); nesting at most
  :data:`MAX_DEPTH` levels; aliases that stand for at most :data:`MAX_ALIAS_VALUES` values in
  all, counted as the document is composed, so a "billion laughs" file is refused at the alias
  that crosses the limit, in milliseconds, before anything is expanded; no alias inside the
  value it names; and in data from :func:`load_yaml`, no key given twice (the second would
  silently replace the first).
- **Errors name the file, the line and what was expected, never the file's content**: a
  problem is one line whatever the file holds. :func:`shown_key` and :func:`shown_value` are
  how loaders quote a key or a value from the file in their own messages.

Each function takes ``error``, the :class:`~costmodel.errors.CostModelError` subclass to raise,
so every loader keeps its own error kind (:class:`~costmodel.errors.ScenarioError`, ...).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Hashable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import yaml
import yaml.composer
import yaml.constructor
import yaml.resolver

from costmodel.errors import CostModelError, located

__all__ = [
    "MAX_ALIAS_VALUES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_FILE_LABEL",
    "BoundedLoader",
    "YamlMapping",
    "check_regular_file",
    "compose_yaml",
    "line_of",
    "load_yaml",
    "read_bytes",
    "read_text",
    "read_yaml",
    "shown_key",
    "shown_value",
]

# 1 MB as a browser's file picker counts one (1,000,000 bytes): the dashboard's upload limit
# is this same figure, so a file the CLI reads is a file the dashboard accepts.
MAX_FILE_BYTES: Final = 1_000_000
MAX_FILE_LABEL: Final = "1 MB"
# A scenario nests about six levels (workloads, a workload, its requests); a price file about
# seven. 64 leaves room and stays far below Python's recursion limit in the walkers.
MAX_DEPTH: Final = 64
# Merge keys (<<: *defaults) are the one use of aliases in costmodel's files: a few values per
# workload. 100,000 is generous for that and cheap to walk; a billion laughs is 10^9.
MAX_ALIAS_VALUES: Final = 100_000

_ErrorKind = type[CostModelError]
_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_SHOWN_CHARS: Final = 40
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_UNSAFE_CHARS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _a(kind: str) -> str:
    # Not "u": a usage store, a user file.
    return f"{'an' if kind[:1].lower() in 'aeio' else 'a'} {kind}"


# -- what may be quoted from a file ------------------------------------------------------------
def shown_key(key: object, *, quoted: bool = True) -> str | None:
    """``'name'`` quoted for a message if ``key`` reads as a key name, else ``None``.

    A key that is not a short name (a line of ``/etc/shadow`` parsed as a key, a token) is
    file content, not a typo: say where it is, never what it is.
    """
    if isinstance(key, str) and _KEY_NAME.fullmatch(key):
        return repr(key) if quoted else key
    return None


def shown_value(value: object, limit: int = _SHOWN_CHARS) -> str:
    """A value quoted for a one-line message: escaped, at most ``limit`` characters of it."""
    if isinstance(value, str):  # repr escapes control and bidi characters itself
        return repr(value[:limit]) + ("..." if len(value) > limit else "")
    return _clipped(str(value), limit)


def _clipped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with control and bidi characters escaped."""
    cut = text[:limit] + ("..." if len(text) > limit else "")
    return _UNSAFE_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", cut)


# -- regular files, bounded reads --------------------------------------------------------------
def _node_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; ``None`` for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse_kind(mode: int, name: str, kind: str, error: _ErrorKind) -> None:
    what = _node_kind(mode)
    if what is not None:
        raise error(
            located(
                f"is {what}, not a regular file; expected the path of {_a(kind)}",
                file=name,
            )
        )


def _open_regular(
    path: str | Path, kind: str, error: _ErrorKind, name: str | None = None
) -> tuple[int, os.stat_result]:
    """A read-only descriptor on ``path`` once it is known to be a regular file."""
    name = name or str(path)
    expected = f"expected the path of {_a(kind)}"
    try:
        # stat first: opening a device or a FIFO can block or have effects of its own.
        _refuse_kind(os.stat(path).st_mode, name, kind, error)
        flags = (
            os.O_RDONLY
            | getattr(os, "O_NONBLOCK", 0)
            | getattr(os, "O_NOCTTY", 0)
            | getattr(os, "O_CLOEXEC", 0)
        )
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise error(located(f"no such file; {expected}", file=name)) from exc
    except IsADirectoryError as exc:
        raise error(located(f"is a folder, not a regular file; {expected}", file=name)) from exc
    except NotADirectoryError as exc:
        raise error(
            located(f"no such file (a part of the path is a file); {expected}", file=name)
        ) from exc
    except OSError as exc:
        raise error(
            located(f"cannot open ({exc.strerror or type(exc).__name__}); {expected}", file=name)
        ) from exc
    try:
        info = os.fstat(fd)
        _refuse_kind(info.st_mode, name, kind, error)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _pseudo_file(name: str, kind: str, error: _ErrorKind) -> CostModelError:
    return error(
        located(
            f"is a pseudo-file (its size reads 0 but it has content, as in /proc), not a "
            f"regular file; expected the path of {_a(kind)}",
            file=name,
        )
    )


def check_regular_file(
    path: str | Path, *, kind: str, error: _ErrorKind = CostModelError, name: str | None = None
) -> None:
    """Raise ``error`` unless ``path`` is a regular file that can be opened for reading.

    For files another reader opens by path (DuckDB reads results files itself). ``name`` is
    how messages call the file (default: its path).
    """
    fd, info = _open_regular(path, kind, error, name)
    try:
        if info.st_size == 0 and os.read(fd, 1):
            raise _pseudo_file(name or str(path), kind, error)
    finally:
        os.close(fd)


def _too_big(name: str, size: int | None, kind: str, error: _ErrorKind) -> CostModelError:
    said = f"is {size / MAX_FILE_BYTES:.1f} MB" if size is not None else "is over 1 MB"
    return error(located(f"{said}; expected {_a(kind)} of at most {MAX_FILE_LABEL}", file=name))


def read_bytes(
    path: str | Path,
    *,
    kind: str,
    error: _ErrorKind = CostModelError,
    limit: int = MAX_FILE_BYTES,
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see the module docstring)."""
    name = str(path)
    fd, info = _open_regular(path, kind, error)
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > limit:
            raise _too_big(name, info.st_size, kind, error)
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(
                located(f"cannot read ({exc.strerror}); expected a readable {kind}", file=name)
            ) from exc
    if info.st_size == 0 and data:
        raise _pseudo_file(name, kind, error)
    if len(data) > limit:  # it grew while it was read
        raise _too_big(name, None, kind, error)
    return data


def read_text(
    path: str | Path,
    *,
    kind: str,
    error: _ErrorKind = CostModelError,
    limit: int = MAX_FILE_BYTES,
) -> str:
    """A regular file of at most ``limit`` bytes as UTF-8 text; a bad byte names its line."""
    data = read_bytes(path, kind=kind, error=error, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            located(
                f"cannot read as UTF-8 ({exc.reason}); expected {_a(kind)} in UTF-8 text",
                file=str(path),
                line=data.count(b"\n", 0, exc.start) + 1,
            )
        ) from exc


# -- bounded YAML --------------------------------------------------------------------------------
class _Refused(yaml.YAMLError):
    """A limit this module sets, at a place in the document."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _BoundedComposer(yaml.composer.Composer):
    """PyYAML's composer, measuring as it goes: nesting depth and what aliases stand for.

    Each finished node's expanded size and height are recorded (from its children's, so the
    whole measure is linear in the document); an alias adds its target's size to a running
    total, which is refused past :data:`MAX_ALIAS_VALUES`. Nothing is ever expanded.
    """

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._alias_values = 0
        self._measure: dict[int, tuple[int, int]] = {}  # id(node) -> (size, height)

    # yaml.parser.Parser's, which BoundedLoader mixes in beside this class (the stubs' Composer
    # does not declare it). An annotation only: the method is still the parser's.
    peek_event: Callable[[], yaml.Event]

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            # A collection still being composed has no end mark yet: the alias is inside it.
            if target is not None and target.end_mark is None:
                raise _Refused(
                    "an alias refers to the value that contains it; expected plain nested values",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
            assert node is not None  # PyYAML always composes a node; the stubs allow None
            size, height = self._measure[id(node)]
            self._alias_values += size
            if self._alias_values > MAX_ALIAS_VALUES:
                raise _Refused(
                    f"aliases here stand for more than {MAX_ALIAS_VALUES:,} values (an alias "
                    "bomb?); expected aliases only for a few shared values",
                    event.start_mark,
                )
            if self._depth + height > MAX_DEPTH:
                raise _Refused(
                    f"this alias nests values more than {MAX_DEPTH} levels deep; expected "
                    "plainer nesting",
                    event.start_mark,
                )
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nested more than {MAX_DEPTH} levels deep; expected plainer nesting",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
            assert node is not None
        finally:
            self._depth -= 1
        self._measure[id(node)] = self._measure_of(node)
        return node

    def _measure_of(self, node: yaml.Node) -> tuple[int, int]:
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            return 1, 1
        measured = [self._measure[id(child)] for child in children]
        return (
            1 + sum(size for size, _ in measured),
            1 + max((height for _, height in measured), default=0),
        )


class YamlMapping(dict[Any, Any]):
    """A mapping from :func:`load_yaml`: a dict that knows the line each key was written on."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


def line_of(mapping: Mapping[Any, Any], key: Any = None) -> int | None:
    """The line ``key`` was written on in a mapping from :func:`load_yaml` (or the mapping's
    own line without ``key``); ``None`` for any other mapping."""
    if not isinstance(mapping, YamlMapping):
        return None
    if key is None:
        return mapping.line
    return mapping.key_lines.get(key, mapping.line)


def _construct_mapping(
    loader: yaml.constructor.SafeConstructor, node: yaml.MappingNode
) -> Iterator[YamlMapping]:
    data = YamlMapping(node.start_mark.line + 1)
    yield data
    first: dict[tuple[str, Any], int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
            continue
        written = (key_node.tag, key_node.value)
        if written in first:
            raise _Refused(
                f"{shown_key(key_node.value) or 'a key'} is given twice (first on line "
                f"{first[written]}); expected each key once",
                key_node.start_mark,
            )
        first[written] = key_node.start_mark.line + 1
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, Hashable):
            raise _Refused("a list or a mapping as a key; expected a key name", key_node.start_mark)
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = key_node.start_mark.line + 1


try:  # libyaml's event parser when PyYAML has it: about 6x faster than the pure-Python one
    from yaml._yaml import CParser as _Events  # what yaml.cyaml re-exports

    _LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _LIBYAML = False


if _LIBYAML:

    class BoundedLoader(
        _BoundedComposer, _Events, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    ):
        """A safe loader whose composer enforces this module's limits."""

        def __init__(self, text: str) -> None:
            _Events.__init__(self, text)
            _BoundedComposer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

else:  # pragma: no cover

    class BoundedLoader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        _BoundedComposer,
        yaml.constructor.SafeConstructor,
        yaml.resolver.Resolver,
    ):
        """A safe loader whose composer enforces this module's limits."""

        def __init__(self, text: str) -> None:
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            _BoundedComposer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


# The stubs bound a constructor's loader to PyYAML's own loader classes; BoundedLoader is
# assembled from the same parts (a parser, a composer, SafeConstructor, Resolver).
BoundedLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)  # type: ignore[type-var]


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _problem(exc: BaseException, text: str, source: str, error: _ErrorKind) -> CostModelError:
    """The one-line error for a YAML failure, located, quoting nothing but PyYAML's words."""
    if isinstance(exc, _Refused):
        return error(located(exc.message, file=source, line=_line(exc.mark)))
    if isinstance(exc, yaml.reader.ReaderError):
        # Raised before any mark exists: the line from the position (libyaml's is in bytes).
        before = (
            text.encode("utf-8", "replace")[: exc.position] if _LIBYAML else text[: exc.position]
        )
        line = before.count(b"\n" if _LIBYAML else "\n") + 1  # type: ignore[arg-type]
        character = (
            exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        )
        return error(
            located(
                f"invalid YAML: character #x{character:04x} is not allowed; expected printable "
                "text",
                file=source,
                line=line,
            )
        )
    if isinstance(exc, UnicodeError):  # a lone surrogate in text handed over as a string
        return error(
            located("invalid text: not encodable as UTF-8; expected printable text", file=source)
        )
    if isinstance(exc, RecursionError):
        return error(located("nested too deeply; expected plainer nesting", file=source))
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    said = getattr(exc, "problem", None) or "not valid YAML"
    context = getattr(exc, "context", None)
    if said == "second occurrence" and context:  # PyYAML's words for an anchor given twice
        said = context.split(";")[0]
    if isinstance(exc, yaml.constructor.ConstructorError):
        return error(
            located(
                f"cannot read this value ({_clipped(said, 80)}); expected plain YAML values "
                "(no tags such as !!python/object)",
                file=source,
                line=_line(mark),
            )
        )
    return error(
        located(
            f"invalid YAML: {_clipped(said, 80)}; expected valid YAML "
            "(check the indentation and quoting on this line and the one before)",
            file=source,
            line=_line(mark),
        )
    )


def compose_yaml(
    text: str, source: str, *, error: _ErrorKind = CostModelError
) -> tuple[yaml.Node | None, BoundedLoader]:
    """The node tree of one YAML document (``None`` when empty), with its marks, and the loader
    to construct values from it (``loader.construct_object(node)``); ``loader.dispose()`` after.

    For loaders that walk nodes to report every problem with its line (scenarios).
    """
    try:
        loader = BoundedLoader(text)
    except UnicodeError as exc:  # libyaml encodes the text first
        raise _problem(exc, text, source, error) from exc
    try:
        return loader.get_single_node(), loader
    except (yaml.YAMLError, UnicodeError, RecursionError) as exc:
        loader.dispose()
        raise _problem(exc, text, source, error) from exc


def load_yaml(text: str, source: str, *, error: _ErrorKind = CostModelError) -> Any:
    """The data of one YAML document (``None`` when empty) within this module's limits.

    Every mapping in it is a :class:`YamlMapping`, which knows its keys' lines
    (:func:`line_of`); a key given twice is an error.
    """
    node, loader = compose_yaml(text, source, error=error)
    try:
        return None if node is None else loader.construct_document(node)
    except (yaml.YAMLError, UnicodeError, RecursionError) as exc:
        raise _problem(exc, text, source, error) from exc
    finally:
        loader.dispose()


def read_yaml(path: str | Path, *, kind: str, error: _ErrorKind = CostModelError) -> Any:
    """:func:`read_text` then :func:`load_yaml`: a small YAML file the user named, as data.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    ...     _ = f.write("name: Acme\\ndiscounts:\\n  - {model: '*', percent: 5}\\n")
    >>> data = read_yaml(f.name, kind="price file")
    >>> data["name"], line_of(data, "discounts")
    ('Acme', 2)
    >>> os.unlink(f.name)
    """
    return load_yaml(read_text(path, kind=kind, error=error), str(path), error=error)
