"""Estimator flags of ``flasc-cluster``, generated from ``FLASC``'s parameters.

The flags come from ``FLASC().get_params()`` and ``FLASC._parameter_constraints``
(types, choices, ``none``) and their help from the estimator's numpydoc
Parameters section, so a new estimator parameter gets a flag without touching
this package.
"""

import argparse
import inspect
import json
import re
from numbers import Integral, Real
from typing import NamedTuple

from ._common import EXIT_USAGE_ERROR, CLIError, _one_line

#: Choice lists longer than this are named in the help text, not the metavar.
_MAX_INLINE_CHOICES = 8
#: Prefix of the argparse destinations of estimator flags.
_PARAM_DEST = "flasc_param__"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions and epilogs as written; never breaks a flag at a hyphen."""

    def _split_lines(self, text, width):
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class _ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line (no usage dump)."""

    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help')", EXIT_USAGE_ERROR)


class ParameterFlag(NamedTuple):
    """How one estimator parameter appears on the command line."""

    name: str
    flag: str
    kind: str  # "bool", "choice", "int", "float", "json", "literal"
    choices: tuple
    none_ok: bool
    default: object
    help: str


def _numpydoc_parameters(doc):
    """Map parameter name -> description from a numpydoc ``Parameters`` section."""
    lines = inspect.cleandoc(doc or "").splitlines()

    def is_header(i):
        return (
            i + 1 < len(lines)
            and lines[i].strip()
            and not lines[i][0].isspace()
            and set(lines[i + 1].strip()) == {"-"}
        )

    starts = [i for i in range(len(lines)) if is_header(i) and lines[i].strip() == "Parameters"]
    if not starts:
        return {}
    out, current = {}, []
    for i in range(starts[0] + 2, len(lines)):
        line = lines[i]
        if is_header(i):
            break
        if line.strip() and not line[0].isspace():
            names = line.split(":", 1)[0]
            current = [n.strip() for n in names.split(",") if n.strip()]
            for name in current:
                out[name] = []
        elif line.strip():
            for name in current:
                out[name].append(line.strip())
    return {name: " ".join(text) for name, text in out.items()}


def _clean_rst(text, flags):
    """Plain text from a numpydoc description; parameter names become flags."""
    text = re.sub(r"\s*\[\d+\]_", "", text)
    text = re.sub(r":\w+:`~?([^`]+)`", lambda m: m.group(1).rsplit(".", 1)[-1], text)
    text = re.sub(r"``([^`]+)``", lambda m: flags.get(m.group(1), m.group(1)), text)
    text = re.sub(r"(?<![\w`])\*(\w+)\*", r"\1", text)
    return _one_line(text)


def _kind_of(constraints):
    """(kind, choices, none_ok) for a list of sklearn parameter constraints."""
    from .._validation import Interval, StrOptions

    none_ok = any(c is None for c in constraints)
    if any(isinstance(c, str) and c == "boolean" for c in constraints):
        return "bool", (), none_ok
    options = [o for c in constraints if isinstance(c, StrOptions) for o in c.options]
    if options:
        return "choice", tuple(sorted(set(options))), none_ok
    intervals = [c for c in constraints if isinstance(c, Interval)]
    if intervals and all(issubclass(c.type, Integral) for c in intervals):
        return "int", (), none_ok
    if intervals and any(issubclass(c.type, Real) for c in intervals):
        return "float", (), none_ok
    if dict in constraints:
        return "json", (), none_ok
    return "literal", (), none_ok


def _default_text(kind, flag, default):
    if default is None:
        return "none"
    if kind == "bool":
        return flag if default else "--no-" + flag[2:]
    if kind == "json":
        return json.dumps(default)
    return str(default)


def parameter_flags(defaults=None):
    """One :class:`ParameterFlag` per ``FLASC`` parameter, in signature order.

    Parameters
    ----------
    defaults : dict, default=None
        Defaults that replace the estimator's in the help text (the ``demo``
        subcommand uses ``min_cluster_size=25``).
    """
    from .._estimator import FLASC

    params = FLASC().get_params()
    params.update(defaults or {})
    order = [n for n in inspect.signature(FLASC.__init__).parameters if n in params]
    names = [n for n in order + sorted(set(params) - set(order)) if n not in _OWN_FLAGS]
    constraints = getattr(FLASC, "_parameter_constraints", {})
    docs = _numpydoc_parameters(FLASC.__doc__)
    flag_of = {name: "--" + name.replace("_", "-") for name in names}
    out = []
    for name in names:
        flag = flag_of[name]
        kind, choices, none_ok = _kind_of(constraints.get(name, []))
        text = _clean_rst(docs.get(name, ""), flag_of)
        counterpart = name.replace("branch", "cluster")
        if "branch" in name and counterpart in params and (
            len(text) < 60 or "counterpart" in text
        ):
            lead = f"The branch-pass counterpart of {flag_of[counterpart]}."
            text = lead if "counterpart" in text else f"{lead} {text}".strip()
        if not text:
            text = f"The {name} parameter of FLASC."
        if kind == "choice" and len(choices) > _MAX_INLINE_CHOICES:
            text += " One of: " + ", ".join(choices) + "."
        if kind == "json":
            text += " Give a JSON object, e.g. '{\"V\": [[1, 0], [0, 1]]}'."
        if none_ok and kind != "bool":
            text += " 'none' means None."
        text += f" (default: {_default_text(kind, flag, params[name])})"
        out.append(ParameterFlag(name, flag, kind, choices, none_ok, params[name], text))
    return out


def _converter(kind, none_ok):
    """An argparse ``type`` for one kind of parameter value."""

    def convert(text):
        if none_ok and text.strip().lower() == "none":
            return None
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "json":
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise argparse.ArgumentTypeError(f"invalid JSON {text!r}: {exc}") from None
            if not isinstance(value, dict):
                raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
            return value
        if kind == "literal":
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return text
        return text

    convert.__name__ = {"int": "int", "float": "float"}.get(kind, "value")
    return convert


def add_parameter_flags(parser, defaults=None):
    """Add every ``FLASC`` parameter as a flag to ``parser``; returns the flags."""
    flags = parameter_flags(defaults)
    group = parser.add_argument_group(
        "FLASC parameters",
        "Every parameter of flasc_cluster.FLASC; see help(flasc_cluster.FLASC).",
    )
    for spec in flags:
        dest = _PARAM_DEST + spec.name
        help_text = spec.help.replace("%", "%%")
        if spec.kind == "bool":
            group.add_argument(
                spec.flag, dest=dest, action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS, help=help_text,
            )
            continue
        kwargs = {"type": _converter(spec.kind, spec.none_ok)}
        if spec.kind == "choice":
            kwargs["choices"] = spec.choices + ((None,) if spec.none_ok else ())
            if len(spec.choices) > _MAX_INLINE_CHOICES:
                kwargs["metavar"] = spec.name.upper()
        else:
            base = {"int": "INT", "float": "FLOAT", "json": "JSON"}.get(spec.kind, "VALUE")
            kwargs["metavar"] = base + ("|none" if spec.none_ok else "")
        group.add_argument(spec.flag, dest=dest, default=argparse.SUPPRESS, help=help_text,
                           **kwargs)
    return flags


#: estimator parameters served by the tool's own flags (--verbose shows the
#: estimator's stage timings too)
_OWN_FLAGS = frozenset({"verbose"})


def estimator_params(args, defaults=None):
    """The ``FLASC`` keyword arguments given on the command line (plus ``defaults``)."""
    params = dict(defaults or {})
    for key, value in vars(args).items():
        if key.startswith(_PARAM_DEST):
            params[key[len(_PARAM_DEST):]] = value
    if getattr(args, "verbose", False):
        params["verbose"] = True
    return params
