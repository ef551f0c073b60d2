"""Python rules for adversarial test suggestions: walk the AST of the new code, changed lines only.

Each rule looks for a construct agents often get subtly wrong (a comparison boundary, a slice,
a missing value, an error path) and proposes the inputs that would expose the mistake.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from agentir.analysis.testgen_text import Hit, cmp_case

_ORDER = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
_PARSERS = {"int", "float", "Decimal", "complex", "bool"}
_PARSE_CALLS = {"loads", "strptime", "fromisoformat", "fromtimestamp", "literal_eval", "urlparse"}
_SPLITS = {"split", "rsplit", "partition", "rpartition", "splitlines"}
_MATCH = {"match", "search", "fullmatch"}
_BROAD = {"Exception", "BaseException"}


@dataclass(frozen=True)
class FuncSpan:
    """A function in the new code: its qualified name and line range."""

    name: str
    start: int
    end: int


def functions(tree: ast.AST, shift: int = 0) -> list[FuncSpan]:
    """Every function and method with its qualified name (Class.method, outer.inner)."""
    found: list[FuncSpan] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                found.append(FuncSpan(name, start + shift, end + shift))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _number(node: ast.AST) -> float | int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return None if isinstance(node.value, bool) else node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return -inner if inner is not None else None
    return None


def _src(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # unparse of a partial tree: name the node type instead
        text = type(node).__name__
    return text if len(text) <= 60 else text[:59] + "…"


def _is_len(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"


def _plus_minus_one(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, (ast.Add, ast.Sub))
        and _number(node.right) == 1
    )


def _compare(node: ast.Compare) -> Iterator[Hit]:
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        sym = _ORDER.get(type(op))
        if isinstance(op, (ast.Is, ast.IsNot)) and _is_none(right):
            yield Hit(
                "none-input",
                f"`{_src(left)} {'is' if isinstance(op, ast.Is) else 'is not'} None` "
                "decides a branch; agents often test only the value that is present",
                f"call it once with {_src(left)} = None and once with a real value (and a falsy "
                "one such as 0 or ''): each must take the branch meant for it",
            )
        elif sym is not None:
            lnum, rnum = _number(left), _number(right)
            if rnum is not None or lnum is not None:
                subject, const = (left, rnum) if rnum is not None else (right, lnum)
                sym_n = sym if rnum is not None else _FLIP[sym]
                assert const is not None
                yield cmp_case(_src(subject), sym_n, const, _is_len(subject))
            elif sym not in ("==", "!="):
                a, b = _src(left), _src(right)
                yield Hit(
                    "boundary",
                    f"`{a} {sym} {b}` compares two values; the case where they are equal "
                    "is where `<` and `<=` differ",
                    f"cases with {a} one below {b}, equal to {b} and one above {b}; "
                    f"the equal case must behave as `{sym}` says",
                )
        left = right


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _subscript(node: ast.Subscript) -> Iterator[Hit]:
    target = _src(node.value)
    sl = node.slice
    if isinstance(sl, ast.Slice):
        lo = _number(sl.lower) if sl.lower is not None else None
        hi = _number(sl.upper) if sl.upper is not None else None
        text = _src(node)
        if lo is not None and lo > 0 and sl.upper is None:
            k = int(lo)
            dropped = "first element" if k == 1 else f"first {k} elements"
            short = "[a]" if k == 1 else f"exactly {k} elements"
            longer = "[a, b]" if k == 1 else f"{k + 1} elements"
            yield Hit(
                "off-by-one",
                f"`{text}` drops the {dropped}: right only if that is deliberate",
                f"{target} = [], {short} and {longer}: check the {dropped} is meant to be "
                f"skipped (a header?) and that [] and {short} do not lose data silently",
            )
        elif hi is not None and hi < 0:
            yield Hit(
                "off-by-one",
                f"`{text}` drops the last {-int(hi)} element(s)",
                f"call with {target} = [], one element and two; check the last element is "
                "meant to be dropped",
            )
        else:
            yield Hit(
                "off-by-one",
                f"`{text}` slices at computed bounds",
                f"cases where the slice is empty, covers exactly one element, reaches the end "
                f"of {target}, and where a bound is past len({target})",
            )
        return
    if isinstance(node.ctx, ast.Load):
        index = _number(sl)
        if index is not None:
            yield Hit(
                "indexing",
                f"`{_src(node)}` assumes {target} has at least {abs(int(index)) + (index >= 0)} "
                "element(s)",
                f"call with {target} empty (and one element short): it should fail with a "
                "clear error or handle it, not raise a bare IndexError",
            )
        elif _plus_minus_one(sl) or (
            isinstance(sl, ast.BinOp) and isinstance(sl.op, ast.Sub) and _is_len(sl.left)
        ):
            yield Hit(
                "off-by-one",
                f"`{_src(node)}` indexes at a neighbour of a computed position",
                f"cases at the first and last valid index of {target}, and {target} empty",
            )
        elif isinstance(sl, ast.Constant) and isinstance(sl.value, str):
            yield Hit(
                "missing-key",
                f"`{_src(node)}` raises KeyError when {sl.value!r} is absent",
                f"input without the {sl.value!r} key (and with it set to None): expect a clear "
                "error or a default, not a bare KeyError",
            )


def _call(node: ast.Call, parent: ast.AST | None) -> Iterator[Hit]:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else None
    attr = func.attr if isinstance(func, ast.Attribute) else None
    if name == "range":
        yield Hit(
            "off-by-one",
            f"`{_src(node)}`: range bounds are the classic off-by-one",
            "cases with an empty input, one element and two; check the first and the last "
            "element are each visited (or skipped) exactly as intended",
        )
    elif name in _PARSERS and node.args and _number(node.args[0]) is None:
        arg = _src(node.args[0])
        yield Hit(
            "malformed-input",
            f"`{_src(node)}` raises ValueError/TypeError on bad input",
            f"{arg} = '', ' 42 ', '4.2', 'abc', '-0' and None: each must give a clear error "
            "or a deliberate default",
        )
    elif attr in _PARSE_CALLS:
        yield Hit(
            "malformed-input",
            f"`{_src(node)}` parses text that may be malformed",
            "empty input, truncated input and a value of the wrong type: expect a clear error",
        )
    elif attr in _SPLITS:
        unpacked = isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Tuple)
        extra = " (the unpacking raises ValueError when the count differs)" if unpacked else ""
        yield Hit(
            "malformed-input",
            f"`{_src(node)}` assumes a shape of the text{extra}",
            "'' , a string without the separator, the separator at both ends, and repeated "
            "separators",
        )
    elif attr == "get" and node.args:
        default = _src(node.args[1]) if len(node.args) > 1 else "None"
        yield Hit(
            "none-input",
            f"`{_src(node)}` gives {default} when the key is missing",
            f"input without the key (expect the {default} path to be handled) and with the key "
            "set to a falsy value such as 0 or ''",
        )


def _handler(node: ast.ExceptHandler) -> Hit:
    caught = _src(node.type) if node.type is not None else None
    quiet = all(
        isinstance(s, (ast.Pass, ast.Continue))
        or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in node.body
    )
    broad = caught is None or caught in _BROAD
    if caught is None or (broad and quiet):
        what = "a bare `except:`" if caught is None else f"`except {caught}:` with no handling"
        return Hit(
            "swallowed-error",
            f"{what} swallows every error, bugs included",
            "make the guarded call raise an unexpected error (e.g. monkeypatch it to raise "
            "RuntimeError): it must surface or be logged, not vanish; catch only what is expected",
        )
    return Hit(
        "error-path",
        f"`except {caught}:` is an error path that tests rarely reach",
        f"make the code in the try raise {caught} (monkeypatch the call) and check the "
        "handler's result: returned value, logged message, state left behind",
    )


def _loop_exit(node: ast.For | ast.While | ast.AsyncFor) -> bool:
    for child in ast.walk(node):
        if child is not node and isinstance(child, (ast.Return, ast.Break)):
            return True
    return False


def analyze_tree(tree: ast.AST, changed: Callable[[int], bool]) -> Iterator[tuple[int, Hit]]:
    """(source line, hit) for every rule that fires on a changed line of `tree`."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or not changed(line):
            continue
        parent = parents.get(node)
        if isinstance(node, ast.Compare):
            for hit in _compare(node):
                yield line, hit
        elif isinstance(node, ast.Subscript):
            for hit in _subscript(node):
                yield line, hit
        elif isinstance(node, ast.Call):
            for hit in _call(node, parent):
                yield line, hit
        elif isinstance(node, ast.BinOp):
            if not (isinstance(parent, ast.Call) and _src(parent.func) == "range"):
                yield from ((line, h) for h in _binop(node))
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            test = node.test
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                subject = _src(test.operand)
                yield (
                    line,
                    Hit(
                        "empty-input",
                        f"`not {subject}` treats None, '', 0, [] and {{}} alike",
                        f"{subject} = None, '', 0, [] and a non-empty value: check 0 and '' are "
                        "meant to count as missing",
                    ),
                )
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            if not isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert, ast.BoolOp)):
                subject = _src(node.values[0])
                yield (
                    line,
                    Hit(
                        "empty-input",
                        f"`{_src(node)}` replaces every falsy {subject}, not only None",
                        f"{subject} = None, 0, '' and []: a legitimate 0 or '' must not be replaced "
                        "by the default",
                    ),
                )
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from ((line, h) for h in _defaults(node))
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            yield (
                line,
                Hit(
                    "error-path",
                    f"`raise {_src(exc)}` is an error path",
                    f"an input that triggers it, asserted with pytest.raises({_src(exc)}); and the "
                    "input just on the other side of the condition, which must not raise",
                ),
            )
        elif isinstance(node, ast.ExceptHandler):
            yield line, _handler(node)
        elif isinstance(node, (ast.For, ast.While, ast.AsyncFor)) and _loop_exit(node):
            yield (
                line,
                Hit(
                    "early-exit",
                    "the loop returns or breaks early; the fall-through after it runs only when "
                    "nothing matched",
                    "the matching item first, last, and absent (and an empty input): all three "
                    "paths must give the right result",
                ),
            )
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call):
            inner = node.value.func
            if isinstance(inner, ast.Attribute) and inner.attr in _MATCH:
                yield (
                    line,
                    Hit(
                        "none-input",
                        f"`{_src(node)}` fails with AttributeError when nothing matches "
                        f"(`{inner.attr}` returns None)",
                        "an input the pattern does not match: expect a clear error or a default",
                    ),
                )


def _binop(node: ast.BinOp) -> Iterator[Hit]:
    if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)):
        if isinstance(node.op, ast.Mod) and isinstance(node.left, (ast.Constant, ast.JoinedStr)):
            return  # "%" formatting of a string
        divisor = _number(node.right)
        if divisor is None:
            yield Hit(
                "zero-division",
                f"`{_src(node)}` divides by {_src(node.right)}",
                f"a case where {_src(node.right)} is 0 (an empty list's length, a zero "
                "count): expect a deliberate result, not ZeroDivisionError",
            )
    elif isinstance(node.op, ast.Sub) and _is_len(node.left) and _number(node.right) == 1:
        yield Hit(
            "off-by-one",
            f"`{_src(node)}` is the last index, or one short of the length",
            f"an empty {_src(node.left.args[0]) if isinstance(node.left, ast.Call) and node.left.args else 'input'}"
            " (this gives -1), one element and two",
        )


def _defaults(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[Hit]:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    pairs = list(
        zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
    )
    pairs += [
        (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
    ]
    for arg, default in pairs:
        if isinstance(default, (ast.List, ast.Dict, ast.Set)):
            yield Hit(
                "mutable-default",
                f"`{arg.arg}={_src(default)}` is one object shared by every call",
                f"call {node.name}() twice without {arg.arg}: the second call must not see what "
                "the first one stored",
            )
        elif _is_none(default):
            yield Hit(
                "none-input",
                f"`{arg.arg}=None`: the default path is easy to leave untested",
                f"call {node.name}() without {arg.arg}, and with {arg.arg} set to an empty value",
            )
