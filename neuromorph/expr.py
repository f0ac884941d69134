"""Safe arithmetic expressions for input signals, e.g. ``5*cos(t) + eta``.

A small grammar (parsed by Lark) admits numbers, names, ``+ - * / **``, parentheses and
calls of whitelisted functions. The parse tree becomes a tree of frozen dataclasses that
is evaluated with NumPy or rendered to a backend's expression syntax by walking the tree.
The user's text itself is never executed, by Python or by any generated code: renderers
emit only numbers, whitelisted function names and names bound by the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import numpy as np
from lark import Lark, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

MAX_LENGTH = 1000
MAX_DEPTH = 40

GRAMMAR = r"""
?start: sum
?sum: product
    | sum "+" product   -> add
    | sum "-" product   -> sub
?product: unary
    | product "*" unary -> mul
    | product "/" unary -> div
?unary: power
    | "-" unary         -> neg
    | "+" unary
?power: atom
    | atom "**" unary   -> pow
?atom: NUMBER           -> number
    | NAME              -> name
    | NAME "(" [sum ("," sum)*] ")" -> call
    | "(" sum ")"
NUMBER: /(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
NAME: /[A-Za-z_][A-Za-z_0-9]*/
%import common.WS
%ignore WS
"""

#: Whitelisted functions: name -> (number of arguments, NumPy implementation).
FUNCTIONS = {
    "sin": (1, np.sin),
    "cos": (1, np.cos),
    "tan": (1, np.tan),
    "exp": (1, np.exp),
    "log": (1, np.log),
    "sqrt": (1, np.sqrt),
    "abs": (1, np.abs),
    "tanh": (1, np.tanh),
    "floor": (1, np.floor),
    "ceil": (1, np.ceil),
    "sign": (1, np.sign),
    "min": (2, np.minimum),
    "max": (2, np.maximum),
    "clip": (3, np.clip),
}

#: Named constants.
CONSTANTS = {"pi": math.pi, "e": math.e}


class ExprError(ValueError):
    """An expression that cannot be parsed or uses names it may not use."""

    def __init__(self, message: str, column: int | None = None):
        self.column = column
        where = f" at column {column}" if column is not None else ""
        super().__init__(f"{message}{where}")


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Name:
    name: str
    column: int


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple
    column: int


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * / **
    left: object
    right: object


@dataclass(frozen=True)
class Neg:
    operand: object


@v_args(inline=True)
class _ToTree(Transformer):
    def number(self, tok):
        return Num(float(tok))

    def name(self, tok):
        return Name(str(tok), tok.column)

    def call(self, tok, *args):
        args = tuple(a for a in args if a is not None)
        fn = str(tok)
        if fn not in FUNCTIONS:
            raise ExprError(
                f"unknown function {fn!r}; allowed functions: {', '.join(FUNCTIONS)}", tok.column
            )
        n = FUNCTIONS[fn][0]
        if len(args) != n:
            raise ExprError(f"{fn}() takes {n} argument(s), got {len(args)}", tok.column)
        return Call(fn, args, tok.column)

    def add(self, a, b):
        return BinOp("+", a, b)

    def sub(self, a, b):
        return BinOp("-", a, b)

    def mul(self, a, b):
        return BinOp("*", a, b)

    def div(self, a, b):
        return BinOp("/", a, b)

    def pow(self, a, b):
        return BinOp("**", a, b)

    def neg(self, a):
        return Neg(a)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)


def _lark_depth(tree) -> int:
    best, stack = 0, [(tree, 1)]
    while stack:
        t, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in getattr(t, "children", ()))
    return best


def children(node) -> tuple:
    """Direct sub-expressions of a node."""
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, Neg):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


@lru_cache(maxsize=512)
def parse(text: str):
    """Parse ``text`` into an expression tree.

    Raises
    ------
    ExprError
        With the column of the problem, for syntax errors, unknown functions, wrong argument
        counts, over-long or over-deep expressions.
    """
    if not isinstance(text, str):
        raise ExprError(f"expected an expression string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is {len(text)} characters long; at most {MAX_LENGTH} allowed")
    if text.count("(") > MAX_DEPTH:
        raise ExprError(f"expression nests too deeply (more than {MAX_DEPTH} parentheses)")
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as e:
        raise ExprError(f"unexpected character {text[cast(int, e.pos_in_stream)]!r}", e.column) from None
    except UnexpectedEOF:
        raise ExprError("expression ends too early", len(text) + 1) from None
    except UnexpectedInput as e:
        tok = getattr(e, "token", None)
        found = f"unexpected {str(tok)!r}" if tok is not None and str(tok) else "expression ends too early"
        raise ExprError(found, getattr(e, "column", None)) from None
    if _lark_depth(tree) > MAX_DEPTH:
        raise ExprError(f"expression nests too deeply (more than {MAX_DEPTH} levels)")
    try:
        node = _ToTree().transform(tree)
    except LarkError as e:  # Lark wraps errors raised inside the transformer
        cause = e.__context__ if isinstance(e.__context__, ExprError) else None
        if cause is None:
            raise ExprError(f"cannot read expression: {e}") from None
        raise cause from None
    return node


def names(node) -> set[str]:
    """Free variable names used in an expression (constants excluded)."""
    found, stack = set(), [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Name) and n.name not in CONSTANTS:
            found.add(n.name)
        stack.extend(children(n))
    return found


def check_names(node, allowed) -> None:
    """Raise :class:`ExprError` at the first name not in ``allowed`` (or a constant)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Name) and n.name not in CONSTANTS and n.name not in allowed:
            known = sorted(set(allowed)) + list(CONSTANTS)
            raise ExprError(f"unknown name {n.name!r}; known names: {', '.join(known)}", n.column)
        stack.extend(children(n))


_NUMPY_OPS = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "**": np.power,
}


def evaluate(node, env: dict):
    """Evaluate an expression tree with NumPy.

    Parameters
    ----------
    node : expression tree from :func:`parse`
    env : dict
        Values for the free names (scalars or broadcastable arrays).

    Returns
    -------
    numpy.ndarray or float
        Floating-point overflow and invalid operations give ``inf``/``nan``, never an exception;
        callers check finiteness.
    """
    with np.errstate(all="ignore"):
        return _eval(node, env)


def _eval(node, env):
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Name):
        if node.name in CONSTANTS:
            return CONSTANTS[node.name]
        return env[node.name]
    if isinstance(node, Neg):
        return np.negative(_eval(node.operand, env))
    if isinstance(node, BinOp):
        left = np.asarray(_eval(node.left, env), dtype=float)
        return _NUMPY_OPS[node.op](left, _eval(node.right, env))
    if isinstance(node, Call):
        return FUNCTIONS[node.func][1](*(_eval(a, env) for a in node.args))
    raise TypeError(f"not an expression node: {node!r}")


def render(node, name_map=None, call_map=None) -> str:
    """Render the tree as fully parenthesized text for a code generator.

    Parameters
    ----------
    name_map : dict, optional
        Replacement text for names (e.g. ``{'t': 't/second'}``); unmapped names stay as they are.
        Only names that passed :func:`check_names` reach this point.
    call_map : dict, optional
        ``func -> callable(list_of_rendered_args) -> str`` for functions a target spells
        differently.
    """
    name_map = name_map or {}
    call_map = call_map or {}
    if isinstance(node, Num):
        return repr(float(node.value))
    if isinstance(node, Name):
        if node.name in CONSTANTS and node.name not in name_map:
            return repr(CONSTANTS[node.name])
        return name_map.get(node.name, node.name)
    if isinstance(node, Neg):
        return f"(-{render(node.operand, name_map, call_map)})"
    if isinstance(node, BinOp):
        left = render(node.left, name_map, call_map)
        right = render(node.right, name_map, call_map)
        return f"({left} {node.op} {right})"
    if isinstance(node, Call):
        args = [render(a, name_map, call_map) for a in node.args]
        if node.func in call_map:
            return call_map[node.func](args)
        return f"{node.func}({', '.join(args)})"
    raise TypeError(f"not an expression node: {node!r}")
