"""Check an optimizer's ``params`` before any run: names against what it accepts, values
against simple type annotations.

The YAML ``params`` of an optimizer reach its constructor (or the library class an
adapter forwards them to) only inside a worker, once per run. A typo there would
crash every run of a study; these helpers let the planner refuse it up front.
Only annotations that a YAML value can be checked against are checked (``int``,
``float``, ``bool``, ``str``, ``None``, ``Literal``, unions, lists/tuples/sequences,
dicts/mappings); anything else (a class, a callable) accepts every value.

Example:
    >>> from typing import Literal
    >>> def make(eta: int = 3, mode: Literal["a", "b"] = "a", low: float | None = None) -> None: ...
    >>> accepted, takes_kwargs = signature_params(make)
    >>> sorted(accepted), takes_kwargs
    (['eta', 'low', 'mode'], False)
    >>> params_problem({"eta": 2, "low": None}, accepted, "Thing") is None
    True
    >>> params_problem({"etta": 2}, accepted, "Thing")
    "Thing has no parameter 'etta': did you mean 'eta'? (valid: eta, low, mode)"
    >>> params_problem({"low": "abc"}, accepted, "Thing")
    "Thing parameter low='abc' is invalid: expected a number or null"
"""

from __future__ import annotations

import collections.abc
import difflib
import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

#: Parameter kinds a YAML mapping can fill by name.
_BY_NAME = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_SEQUENCES = (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence)
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def _globals_of(obj: Any) -> dict[str, Any]:
    """The module namespace string annotations of ``obj`` are written in."""
    if isinstance(obj, type):
        # The __init__ the class uses (its own or inherited; object's at the latest).
        target: Any = next(vars(k)["__init__"] for k in obj.__mro__ if "__init__" in vars(k))
    elif inspect.isfunction(inspect.unwrap(obj)) or inspect.ismethod(obj):
        target = obj
    else:  # a callable instance (e.g. a configured library optimizer): its __call__
        target = type(obj).__call__
    target = inspect.unwrap(getattr(target, "__func__", target))
    return dict(getattr(target, "__globals__", {}))


def _annotation(raw: Any, namespace: dict[str, Any]) -> Any:
    """``raw`` evaluated when it is a string; ``Any`` when it cannot be (a name imported only
    for type checkers), so that an unknown annotation never refuses a value."""
    if raw is inspect.Parameter.empty:
        return Any
    if isinstance(raw, str):
        try:
            return eval(raw, {**vars(typing), **namespace})  # annotation text of trusted code
        except Exception:
            return Any
    return raw


def signature_params(obj: Callable[..., Any], skip: Iterable[str] = ()) -> tuple[dict[str, Any], bool]:
    """Parameters of ``obj`` that can be given by name (name → annotation, ``Any`` if none),
    and whether it also takes ``**kwargs``.

    Example:
        >>> def f(self, problem, seed, eta: int = 3, **params): ...
        >>> signature_params(f, skip=("self", "problem", "seed"))
        ({'eta': <class 'int'>}, True)
    """
    try:
        names, takes_kwargs = _signature_params(obj, tuple(skip))
    except TypeError:  # an unhashable callable: not cached
        names, takes_kwargs = _signature_params.__wrapped__(obj, tuple(skip))
    return dict(names), takes_kwargs  # a copy: the cached dict must not be changed by callers


@functools.lru_cache(maxsize=1024)
def _signature_params(obj: Callable[..., Any], skip: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
    # Cached: every optimizer construction checks its params against its own signature, and
    # inspect.signature with the annotation lookup costs ~0.1 ms, a sizeable share of a short
    # run of a cheap library (code does not change while the process runs).
    signature = inspect.signature(obj)
    namespace = _globals_of(obj)
    skipped = set(skip)
    names = {
        p.name: _annotation(p.annotation, namespace)
        for p in signature.parameters.values()
        if p.kind in _BY_NAME and p.name not in skipped
    }
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    return names, takes_kwargs


def fits(value: Any, annotation: Any) -> bool | None:
    """Whether a YAML value fits ``annotation``; ``None`` when the annotation cannot be checked.

    Example:
        >>> fits(3, int), fits(True, int), fits(3, float), fits("x", int | None), fits("x", object)
        (True, False, True, False, None)
    """
    if annotation is Any or annotation is inspect.Parameter.empty:
        return None
    if annotation is None or annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:  # YAML writes 1 for 1.0
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return any(type(value) is type(a) and value == a for a in args)
    if origin is Union or origin is types.UnionType:
        results = [fits(value, a) for a in args]
        return True if True in results else None if None in results else False
    if origin is typing.Annotated:
        return fits(value, args[0])
    if annotation in _SEQUENCES or origin in _SEQUENCES:
        if not isinstance(value, list | tuple):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                return False
            items = [fits(v, a) for v, a in zip(value, args, strict=True)]
        else:
            items = [fits(v, args[0]) for v in value] if args else []
        return False if False in items else None if None in items else True
    if annotation in _MAPPINGS or origin in _MAPPINGS:
        return isinstance(value, dict | Mapping)
    return None  # a class, a callable, a protocol: not something a YAML value can be checked against


def describe(annotation: Any) -> str:
    """What a value of ``annotation`` looks like, in words.

    Example:
        >>> describe(float | None), describe(Literal["random", "clip"])
        ('a number or null', "one of 'random', 'clip'")
    """
    simple = {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        None: "null",
        type(None): "null",
    }
    if annotation in simple:
        return simple[annotation]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is Union or origin is types.UnionType:
        return " or ".join(describe(a) for a in args)
    if origin is typing.Annotated:
        return describe(args[0])
    if annotation in _SEQUENCES or origin in _SEQUENCES:
        return "a list"
    if annotation in _MAPPINGS or origin in _MAPPINGS:
        return "a mapping"
    return getattr(annotation, "__name__", str(annotation))


def params_problem(
    params: Mapping[str, Any],
    accepted: Mapping[str, Any],
    owner: str,
    reserved: Mapping[str, str] | None = None,
) -> str | None:
    """Why ``params`` cannot configure ``owner`` (an unknown name, a wrong type, a name the
    adapter sets itself), or ``None`` when they can. ``accepted`` maps names to annotations.

    Example:
        >>> params_problem({"seed": 1}, {"n": int}, "Sampler", reserved={"seed": "from the run seed"})
        "Sampler sets 'seed' itself (from the run seed): remove it from params"
    """
    for name, value in params.items():
        if reserved and name in reserved:
            return f"{owner} sets {name!r} itself ({reserved[name]}): remove it from params"
        if name not in accepted:
            valid = sorted(accepted)
            shown = ", ".join(valid[:8]) + (f", … ({len(valid)} in all)" if len(valid) > 8 else "")
            close = difflib.get_close_matches(name, valid, n=2, cutoff=0.6)
            hint = ("did you mean " + " or ".join(repr(c) for c in close) + "? ") if close else ""
            return (
                f"{owner} has no parameter {name!r}: {hint}(valid: {shown})"
                if valid
                else f"{owner} takes no parameters, got {name!r}: remove it"
            )
        if fits(value, accepted[name]) is False:
            return f"{owner} parameter {name}={value!r} is invalid: expected {describe(accepted[name])}"
    return None
