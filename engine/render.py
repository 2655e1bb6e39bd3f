"""Guidance templates: a sandboxed Jinja2 environment per language, with user overrides.

Templates are looked up on a search path, the user's folders first and the bundled
`guidance/<lang>/` last, so a municipality can override any single template by putting a file
with the same name in its own folder (`--guidance DIR`, which holds `da/` and `en/`). Templates
run in Jinja's sandbox with `StrictUndefined`: a misspelt variable is an error, and every
template error names the template file and line.

Rendering is bounded, so that a template cannot take the process down: a value or an output
larger than `MAX_OUTPUT` characters (string or list multiplication, `**`, padding and `format`
widths, `join` and `replace` that would build one) is refused before it is built (`T007`), and a
render that runs longer than `MAX_SECONDS` (loops) is stopped (`T006`); both name the template's
file and line. `limit_problems` finds what it can of this without rendering, for `bip rules validate`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import os
import re
import textwrap
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import jinja2
import jinja2.runtime
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import messages
from .errors import Problem, RulebookError, problem
from .paths import default_guidance

#: The most characters (or list items) one template render, or one value inside it, may have.
MAX_OUTPUT = 1_000_000
#: How many rendered texts `Guidance.render(..., memo=True)` keeps (per language).
MEMO_SIZE = 4096
#: The longest one template render may run, in seconds.
MAX_SECONDS = 2.0
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(\d{7,}|\*)|\d{7,}|\{[^{}]*\{")  # %9999999d, {:>9999999}, nested width


class RenderLimit(Exception):
    """A template would build a value larger than `MAX_OUTPUT`."""


class RenderTimeout(Exception):
    """A template ran longer than `MAX_SECONDS` (raised into the rendering thread by the watchdog)."""


_SIZED = (str, bytes, list, tuple, dict, range)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, _SIZED) else 0


def _check_format(value: Any) -> None:
    if isinstance(value, str) and _WIDE_FORMAT.search(value):
        raise RenderLimit(f"a format with a field width of a million or more: {value[:40]!r}")


def _check_arguments(owner: Any, args: tuple, kwargs: dict) -> None:
    """Refuse a call whose arguments would make a result larger than `MAX_OUTPUT`."""
    widest = 0
    for value in (*args, *kwargs.values()) if kwargs else args:  # runs on every call in a template: kept lean
        if isinstance(value, int):
            if (value > MAX_OUTPUT or value < -MAX_OUTPUT) and not isinstance(value, bool):
                raise RenderLimit(f"a number argument of {value} is larger than {MAX_OUTPUT:,}")
        elif isinstance(value, _SIZED) and len(value) > widest:
            widest = len(value)
    if widest > 1 and _size(owner) * (widest + 1) > 10 * MAX_OUTPUT:
        raise RenderLimit(f"the result could be larger than {MAX_OUTPUT:,} characters")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**`, `+` and `%` whose result would be larger than `MAX_OUTPUT`."""
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if _size(seq) and isinstance(count, int) and _size(seq) * count > MAX_OUTPUT:
                raise RenderLimit(f"multiplying gives more than {MAX_OUTPUT:,} characters or items")
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 64 * 1024:
            raise RenderLimit("multiplying gives a number too large")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 4096:
            raise RenderLimit(f"a power with exponent {right} is too large")
    elif operator == "+":
        if _size(left) + _size(right) > MAX_OUTPUT:
            raise RenderLimit(f"adding gives more than {MAX_OUTPUT:,} characters or items")
    elif operator == "%":
        _check_format(left)


def _bounded_concat(join: Any) -> Any:
    """Jinja's `~` (string concatenation), refusing a result larger than `MAX_OUTPUT`."""

    def bounded(seq: Iterable[Any]) -> str:
        parts = list(seq)
        if sum(len(part) if isinstance(part, str) else 0 for part in parts) > MAX_OUTPUT:
            raise RenderLimit(f"joining with ~ gives more than {MAX_OUTPUT:,} characters")
        return join(parts)

    return bounded


class _BoundedTemplate(jinja2.Template):
    """A template whose `~` is bounded like the intercepted operators."""

    @classmethod
    def from_code(cls, environment: Any, code: Any, globals: Any, uptodate: Any = None) -> Any:
        template = super().from_code(environment, code, globals, uptodate)
        namespace = template.root_render_func.__globals__  # shared by the template's block functions
        namespace["str_join"] = _bounded_concat(jinja2.runtime.str_join)
        namespace["markup_join"] = _bounded_concat(jinja2.runtime.markup_join)
        return template


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (lists and dicts read-only) with size limits on operators, calls and filters."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    template_class = _BoundedTemplate

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # Jinja's signature
        method = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(method, "__self__", None)
        name = getattr(method, "__name__", "")
        if name in ("format", "format_map"):
            _check_format(owner)
        if name == "join" and isinstance(owner, str) and args:
            args = (_joinable(owner, args[0]), *args[1:])
        _check_arguments(owner, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def _joinable(separator: Any, items: Any) -> Any:
    """The items to join as a list, refused when joining them would pass `MAX_OUTPUT`."""
    if isinstance(items, (str, dict)):
        return items
    items = list(items)
    if _size(separator) * len(items) + sum(_size(item) for item in items) > MAX_OUTPUT:
        raise RenderLimit(f"joining gives more than {MAX_OUTPUT:,} characters")
    return items


def _bounded_filter(name: str, function: Any) -> Any:
    """A filter that refuses arguments that would build a value larger than `MAX_OUTPUT`."""
    pass_arg = getattr(function, "jinja_pass_arg", None)

    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = args[1:] if pass_arg is not None else args
        if values:
            if name == "format":
                _check_format(values[0])
            if name == "join" and not isinstance(values[0], (str, dict)):
                values = (_joinable(values[1] if len(values) > 1 else kwargs.get("d", ""), values[0]), *values[1:])
                args = (*args[: len(args) - len(values)], *values)
            _check_arguments(values[0], tuple(values[1:]), kwargs)
        return function(*args, **kwargs)

    if pass_arg is not None:
        bounded.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    return bounded


class _Watchdog:
    """One background thread that stops renders running past their deadline.

    The stop is an exception (`RenderTimeout`) raised asynchronously in the rendering thread, so a
    loop in a template ends even when it calls nothing the sandbox sees. Watching is cheap (a
    plain lock and a dict entry; the thread is only woken when it sleeps with nothing to watch),
    since a report renders dozens of template blocks; a watch inside a watch of the same thread
    keeps the outer deadline.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._deadlines: dict[int, float] = {}
        self._fired: set[int] = set()
        self._planned = math.inf  # when the thread looks next (inf: it sleeps until woken)
        self._pid: int | None = None

    def watch(self, seconds: float) -> _Watch:
        """A context in which `RenderTimeout` is raised in this thread once it has run `seconds`."""
        return _Watch(self, seconds)

    def _enter(self, seconds: float) -> bool:
        ident = threading.get_ident()
        with self._lock:
            if ident in self._deadlines:  # nested: the outer deadline stands
                return False
            if self._pid != os.getpid():  # first use, or a forked child without the thread
                self._pid, self._planned = os.getpid(), math.inf
                threading.Thread(target=self._run, name="bip-render-watchdog", daemon=True).start()
            deadline = self._deadlines[ident] = time.monotonic() + seconds
            if deadline < self._planned:
                self._planned = deadline
                self._wake.set()
        return True

    def _exit(self) -> None:
        ident = threading.get_ident()
        with self._lock:
            self._deadlines.pop(ident, None)
            if ident in self._fired:  # a stop sent after the block ended must not hit later code
                import ctypes

                self._fired.discard(ident)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                for ident, deadline in list(self._deadlines.items()):
                    if deadline <= now:
                        import ctypes  # only when a render is stopped: loading it costs a cold check time

                        del self._deadlines[ident]
                        self._fired.add(ident)
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(ident), ctypes.py_object(RenderTimeout)
                        )
                wait = max(min(self._deadlines.values()) - now, 0.01) if self._deadlines else None
                self._planned = now + wait if wait is not None else math.inf
                self._wake.clear()
            self._wake.wait(wait)  # until the earliest deadline, or an earlier one is set


class _Watch:
    """The context of one `_Watchdog.watch`."""

    __slots__ = ("_owner", "_seconds", "_watchdog")

    def __init__(self, watchdog: _Watchdog, seconds: float):
        self._watchdog, self._seconds, self._owner = watchdog, seconds, False

    def __enter__(self) -> None:
        self._owner = self._watchdog._enter(self._seconds)

    def __exit__(self, *exc: object) -> None:
        if self._owner:
            self._watchdog._exit()


_WATCHDOG = _Watchdog()


def _joined(chunks: Iterator[str]) -> str:
    """The rendered chunks joined, refusing more than `MAX_OUTPUT` characters (located at the writing line)."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            error = RenderLimit(f"the template writes more than {MAX_OUTPUT:,} characters")
            error.where = _suspended_at(chunks)  # type: ignore[attr-defined]
            raise error
        parts.append(chunk)
    return "".join(parts)


def _suspended_at(generator: Any) -> tuple[str, int] | None:
    """The template file and line where a paused render generator stands."""
    while getattr(generator, "gi_yieldfrom", None) is not None:
        generator = generator.gi_yieldfrom
    frame = getattr(generator, "gi_frame", None)
    if frame is None:
        return None
    owner = frame.f_globals.get("__jinja_template__")
    if owner is None:
        return None
    return owner.filename or owner.name, owner.get_corresponding_lineno(frame.f_lineno)


def limit_problems(tree: nodes.Template, path: str) -> list[Problem]:
    """What a template's source shows, without rendering, that would pass the render limits (T007)."""
    problems = []
    for node in tree.find_all((nodes.Mul, nodes.Pow, nodes.Add, nodes.Mod)):
        left, right = node.left, node.right
        if isinstance(left, nodes.Const) and isinstance(right, nodes.Const):
            operator = {nodes.Mul: "*", nodes.Pow: "**", nodes.Add: "+", nodes.Mod: "%"}[type(node)]
            try:
                check_binop(operator, left.value, right.value)
            except RenderLimit as exc:
                problems.append(problem("T007", path, node.lineno, detail=str(exc)))
    calls = cast("Iterator[nodes.Call | nodes.Filter]", tree.find_all((nodes.Call, nodes.Filter)))  # typed as Expr
    for call in calls:
        if isinstance(call, nodes.Call) and not (isinstance(call.node, nodes.Name) and call.node.name == "range"):
            continue
        for arg in call.args:
            if isinstance(arg, nodes.Const) and isinstance(arg.value, int) and abs(arg.value) > MAX_OUTPUT:
                problems.append(problem("T007.argument", path, call.lineno, value=arg.value, limit=f"{MAX_OUTPUT:,}"))
    return problems


COLOURS = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def format_number(value: Any, lang: str) -> str:
    """A value as a reader of `lang` writes it: decimal comma in Danish, lists joined, none as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return messages.text("word.yes" if value else "word.no", lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_number(item, lang) for item in value) if value else "–"
    if isinstance(value, float):
        text = f"{round(value, 2):g}"
        return text.replace(".", ",") if lang == "da" else text
    return str(value)


def fact_name(name: str, lang: str, report: Mapping[str, Any] | None = None) -> str:
    """A fact by its short name in words in `lang` (the message `fact.NAME`), else by its id.

    A `score_<indicator>` fact is named after the indicator, whose name `report` (a report as a dict)
    gives in its trajectory."""
    names = messages.texts("fact", lang)
    if name in names:
        return names[name]
    trajectory = (report or {}).get("trajectory") or {}
    indicators = {series["id"]: series["label"] for series in trajectory.get("indicators", [])}
    if name.startswith("score_") and name[len("score_") :] in indicators:
        return messages.text("fact_score", lang, label=indicators[name[len("score_") :]])
    return name


def format_date(value: str | dt.date, lang: str) -> str:
    """An ISO date as words: '22. november 2026' or '22 November 2026'."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    month = messages.text(f"month.{day.month}", lang)
    return f"{day.day}. {month} {day.year}" if lang == "da" else f"{day.day} {month} {day.year}"


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """A cache of compiled templates on disk (keyed by each template's source), so later runs start fast.

    `BIP_CACHE_DIR` chooses the folder (empty: no cache); the default is ~/.cache/bip-engine.
    """
    folder = os.environ.get("BIP_CACHE_DIR", str(Path.home() / ".cache" / "bip-engine"))
    if not folder:
        return None
    try:
        path = Path(folder) / f"jinja-{jinja2.__version__}"
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(path))


#: Jinja names and filters whose result is not a function of the context (random text, a random pick).
_IMPURE_NAMES = frozenset({"lipsum"})
_IMPURE_FILTERS = frozenset({"random", "shuffle"})
#: Tests whose answer the key holds for any value: none and a dict differ in it, a missing name is left out.
_KIND_TESTS = frozenset({"none", "defined", "undefined"})
_WHOLE = object()  # a context value read in a way not followed: the whole value goes into the key


class _ReadPlan:
    """What of its context one template reads, found once from its source (for `Guidance.blocks`).

    For every context name the template mentions: the keys it reads of it as `x.key`, `x["key"]` or
    `x.get("key")`, or, when it uses the value any other way (passes it on, loops over it, a key
    worked out while rendering), the whole value. A template whose text can differ for the same
    context (`lipsum`, the `random` filter, an include, extends or import with context, which bring
    in a template not analysed here) is not `pure`.
    """

    PENDING: _ReadPlan  # set below: a template used once, not analysed yet

    def __init__(self, pure: bool, reads: dict[str, Any]):
        self.pure, self.reads = pure, reads

    @classmethod
    def of(cls, env: jinja2.Environment, name: str) -> _ReadPlan:
        """The plan of template `name` (not pure when its source cannot be read or parsed)."""
        try:
            source, filename, _ = cast("jinja2.BaseLoader", env.loader).get_source(env, name)
            tree = env.parse(source, name, filename)
        except Exception:  # noqa: BLE001 - the render reports the error; nothing is kept
            return cls(False, {})
        if any(True for _ in tree.find_all((nodes.Extends, nodes.Include))) or any(
            cast("nodes.Import | nodes.FromImport", node).with_context
            for node in tree.find_all((nodes.Import, nodes.FromImport))
        ):
            return cls(False, {})
        if any(node.name in _IMPURE_FILTERS for node in tree.find_all(nodes.Filter)):
            return cls(False, {})
        reads: dict[str, Any] = {}
        used: set[int] = set()  # Name nodes whose use was followed
        for test in tree.find_all(nodes.Test):  # `x is none`, `x is defined`: told apart by the key
            if isinstance(test, nodes.Test) and isinstance(test.node, nodes.Name) and test.name in _KIND_TESTS:
                used.add(id(test.node))
        found = cast(
            "Iterator[nodes.Call | nodes.Getattr | nodes.Getitem]",
            tree.find_all((nodes.Call, nodes.Getattr, nodes.Getitem)),
        )
        for node in found:  # a parent before its children
            inner = node.node
            if isinstance(node, nodes.Call):
                if (
                    isinstance(inner, nodes.Getattr)
                    and inner.attr == "get"
                    and isinstance(inner.node, nodes.Name)
                    and len(node.args) == 1
                    and isinstance(node.args[0], nodes.Const)
                    and not (node.kwargs or node.dyn_args or node.dyn_kwargs)
                ):
                    cls._read(reads, inner.node.name, node.args[0].value)
                    used.add(id(inner.node))
                continue
            if not isinstance(inner, nodes.Name) or id(inner) in used:
                continue
            if isinstance(node, nodes.Getattr):
                if not hasattr(dict, node.attr):  # x.key reads the key of a dict (x.get, x.items: methods)
                    cls._read(reads, inner.name, node.attr)
                    used.add(id(inner))
            elif isinstance(node.arg, nodes.Const):
                cls._read(reads, inner.name, node.arg.value)
                used.add(id(inner))
        for name_node in tree.find_all(nodes.Name):
            if name_node.ctx != "load":
                continue
            if name_node.name in _IMPURE_NAMES:
                return cls(False, {})
            if id(name_node) not in used:
                reads[name_node.name] = _WHOLE
        return cls(True, reads)

    @staticmethod
    def _read(reads: dict[str, Any], name: str, key: Any) -> None:
        keys = reads.setdefault(name, set())
        if keys is not _WHOLE:
            keys.add(key)

    def key(self, context: dict) -> tuple:
        """What of `context` the template reads, in a form equal for contexts that render alike.

        Values are compared by `repr`, which tells apart 1, 1.0 and True, lists and tuples, and the
        order of a dict's keys; a key read of a dict is (whether it is there, its value).
        """
        parts = []
        for name, keys in self.reads.items():
            if name not in context:
                continue  # a global or a name the template sets itself
            value = context[name]
            if keys is _WHOLE or not isinstance(value, dict):
                parts.append((name, repr(value)))
            else:
                parts.append((name, repr([(key, key in value, value.get(key)) for key in sorted(keys, key=repr)])))
        return tuple(parts)


_ReadPlan.PENDING = _ReadPlan(False, {})


class Guidance:
    """The guidance templates of one language, ready to render."""

    def __init__(
        self, lang: str, overrides: Iterable[str | Path] = (), colour: bool = False, bundled: Path | None = None
    ):
        self.lang = lang
        self._memo: OrderedDict[bytes, Any] = OrderedDict()
        self._plans: dict[str, _ReadPlan] = {}
        self._memo_lock = threading.Lock()
        bundled = bundled or default_guidance()
        self.search_path = [Path(folder) / lang for folder in overrides] + [bundled / lang]
        self.env = _BoundedSandbox(
            loader=jinja2.FileSystemLoader([str(path) for path in self.search_path]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
            bytecode_cache=_bytecode_cache(),
            auto_reload=False,  # templates are read once per Guidance: no stat() of every file on each render
        )
        self.env.filters.update(
            num=lambda value: format_number(value, lang),
            date=lambda value: format_date(value, lang),
            fact=lambda name, report=None: fact_name(name, lang, report),
            style=self._styler(colour),
            wrap=lambda text, width=78, indent="": textwrap.fill(
                " ".join(str(text).split()),
                width=width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_on_hyphens=False,
                break_long_words=False,
            ),
            tojson=lambda value: json.dumps(value, ensure_ascii=False),
        )
        self.env.filters = {name: _bounded_filter(name, function) for name, function in self.env.filters.items()}

    @functools.cached_property
    def templates_hash(self) -> str:
        """A SHA-256 of the templates this search path renders with: each file's name and bytes, as found.

        Every folder's files are taken in search order, and a name found in an earlier folder hides the
        same name further on (as the loader finds it), so the hash is of the templates actually used:
        a release's bundled copy hashes as the bundled folder does. Made as the rulebook's hash is
        (`layers.content_hash`: names below the folder, not where it is installed, then the bytes). A
        changed, added or removed template changes it; so does a reload that reads changed templates
        (a new `Guidance`).
        """
        found: dict[str, Path] = {}
        for folder in self.search_path:
            for path in folder.rglob("*"):
                if path.is_file():
                    found.setdefault(path.relative_to(folder).as_posix(), path)
        digest = hashlib.sha256()
        for name, path in sorted(found.items()):
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    @staticmethod
    def _styler(colour: bool) -> Callable[[Any, str], str]:
        def style(text: Any, name: str) -> str:
            if not colour or name not in COLOURS:
                return str(text)
            return f"\033[{COLOURS[name]}m{text}\033[0m"

        return style

    def _template(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateNotFound:
            places = ", ".join(str(path) for path in self.search_path)
            raise RulebookError(problem("T002", str(self.search_path[-1] / name), name=name, places=places)) from None
        except jinja2.TemplateSyntaxError as exc:
            raise RulebookError(problem("T001.syntax", exc.filename or name, exc.lineno, detail=exc.message)) from None

    def block(self, name: str, block: str, context: dict) -> str:
        """One named block of a template, rendered and stripped."""
        return self.blocks(name, (block,), context)[block]

    def blocks(self, name: str, blocks: tuple[str, ...], context: dict) -> dict[str, str]:
        """Named blocks of one template, each rendered and stripped, with one context between them
        (as a whole render of the template would share it) and one time limit for them together.

        From a template's second use on, the texts are kept (`MEMO_SIZE` entries, shared with
        `render_kept`) under the parts of the context the template reads (`_ReadPlan`), so an equal
        context is not rendered again; a template that is not pure is always rendered.
        """
        plan = self._plans.get(name)
        if plan is None:  # first use: render only (a single check does not pay for the analysis)
            self._plans[name] = _ReadPlan.PENDING
            return self._blocks(name, blocks, context)
        if plan is _ReadPlan.PENDING:
            plan = self._plans[name] = _ReadPlan.of(self.env, name)
        if not plan.pure:
            return self._blocks(name, blocks, context)
        key = hashlib.blake2b(
            repr((name, blocks, plan.key(context))).encode("utf-8", "surrogatepass"), digest_size=20
        ).digest()
        with self._memo_lock:
            kept = self._memo.get(key)
            if kept is not None:
                self._memo.move_to_end(key)
                return dict(kept)
        texts = self._blocks(name, blocks, context)
        with self._memo_lock:
            self._memo[key] = texts
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return dict(texts)

    def _blocks(self, name: str, blocks: tuple[str, ...], context: dict) -> dict[str, str]:
        template = self._template(name)
        for block in blocks:
            if block not in template.blocks:
                raise RulebookError(problem("T003.block", template.filename or name, block=block))
        try:
            with _WATCHDOG.watch(MAX_SECONDS):
                shared = template.new_context(context)
                return {block: _joined(template.blocks[block](shared)).strip() for block in blocks}
        except Exception as exc:  # noqa: BLE001 - any template failure becomes a located error
            raise self._located(exc, template) from None

    def render(self, name: str, context: dict, memo: bool = False) -> str:
        """A whole template, rendered.

        With `memo`, the text is kept for a later render of the same template with an equal
        context (compared by a 160-bit BLAKE2 hash of its canonical JSON), up to `MEMO_SIZE`
        texts, least recently used first out. Templates are pure (no clock, no randomness reaches
        the sandbox but `lipsum`), so a kept text is the text a render would give. The report's
        margins use it: across a caseload most of them repeat (the same thresholds, and values on
        a 1-5 scale; 646 different margins among 8,711 in 2,000 simulated citizens).
        """
        if not memo:
            return self._render(name, context)
        canonical = json.dumps(context, ensure_ascii=False, sort_keys=True, default=repr)
        return self.render_kept(name, canonical, lambda: context)

    def render_kept(self, name: str, canonical: str, context: Callable[[], dict]) -> str:
        """`render(name, context(), memo=True)`, where the caller gives the context's canonical form.

        `canonical` must tell apart every two contexts that could render differently (`render` uses
        the context's sorted JSON); `context` is called only when no text is kept for it.
        """
        digest = hashlib.blake2b((name + "\x00" + canonical).encode("utf-8", "surrogatepass"), digest_size=20)
        key = digest.digest()
        with self._memo_lock:
            text = self._memo.get(key)
            if text is not None:
                self._memo.move_to_end(key)
                return str(text)
        text = self._render(name, context())
        with self._memo_lock:
            self._memo[key] = text
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return text

    def _render(self, name: str, context: dict) -> str:
        template = self._template(name)
        try:
            with _WATCHDOG.watch(MAX_SECONDS):
                return _joined(template.root_render_func(template.new_context(context)))
        except RulebookError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._located(exc, template) from None

    def _located(self, exc: Exception, template: jinja2.Template) -> RulebookError:
        if isinstance(exc, RulebookError):
            return exc
        path, line = template.filename or template.name, None
        tb = exc.__traceback__
        while tb is not None:  # the innermost template frame, mapped back to its template line
            owner = tb.tb_frame.f_globals.get("__jinja_template__")
            if owner is not None:
                path, line = owner.filename or owner.name, owner.get_corresponding_lineno(tb.tb_lineno)
            tb = tb.tb_next
        if isinstance(exc, RenderTimeout):
            return RulebookError(problem("T006", path, line, seconds=f"{MAX_SECONDS:g}"))
        path, line = getattr(exc, "where", None) or (path, line)
        if isinstance(exc, (RenderLimit, MemoryError, OverflowError)):
            return RulebookError(problem("T007" if str(exc) else "T007.memory", path, line, detail=str(exc)))
        kind = "T001.undefined" if isinstance(exc, jinja2.UndefinedError) else "T001.error"
        return RulebookError(problem(kind, path, line, detail=getattr(exc, "message", None) or str(exc)))
