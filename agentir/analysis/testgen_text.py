"""Line-pattern rules for adversarial test suggestions (JS/TS/Go/Java/Rust, and Python that
does not parse), the comparison-boundary case every rule set shares, and function finding.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_OPS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "js",
    ".jsx": "js",
    ".mjs": "js",
    ".cjs": "js",
    ".ts": "js",
    ".tsx": "js",
    ".go": "go",
    ".java": "java",
    ".kt": "java",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cc": "c",
    ".cpp": "c",
    ".cs": "java",
}


@dataclass(frozen=True)
class Hit:
    """What one rule found: category, why it matters, and the test that would expose it."""

    category: str
    rationale: str
    test: str
    subject: str = ""  # distinguishes two hits of one category on one line


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def neighbours(const: float) -> tuple[float, float, float]:
    """The value just below, the value itself and just above (1 for ints, 0.01 for floats)."""
    step = 1 if isinstance(const, int) else 0.01
    return (round(const - step, 6), const, round(const + step, 6))


def cmp_case(subject: str, op: str, const: float, is_len: bool = False) -> Hit:
    """Boundary test for `subject op const`: both neighbours, the constant, the type edges."""
    values = neighbours(const)
    holds = [v for v in values if _OPS[op](v, const)]
    shown = ", ".join(_fmt(v) for v in values[:2]) + f" and {_fmt(values[2])}"
    cond = f"`{subject} {op} {_fmt(const)}`"
    if op in ("==", "!="):
        rationale = f"{cond} singles out one value; the values next to it must behave the other way"
    else:
        rationale = (
            f"{cond} flips between {_fmt(values[0])} and {_fmt(values[2])}; agents often write "
            "`>` where `>=` was meant (or the reverse), and only the boundary shows it"
        )
    if is_len:
        edges = "an empty collection and a very large one"
    elif isinstance(const, int):
        edges = f"0, -1, a very large value (2**63), {_fmt(const)}.5 if floats can arrive, and None"
    else:
        edges = "0, a negative value, float('inf'), float('nan') and None"
    which = ", ".join(_fmt(v) for v in holds) or "none of them"
    test = (
        f"{subject} = {shown}: {cond} must hold for {which} only; then the type boundary: {edges}"
    )
    return Hit("boundary", rationale, test, subject=f"{subject}{op}{_fmt(const)}")


# ---------------------------------------------------------------------------- line patterns

_CMP = re.compile(
    r"(?P<lhs>[A-Za-z_$][\w$.]*(?:\([^()]*\))?(?:\[[^\]]*\])?)\s*"
    r"(?<![=!<>\-])(?P<op>===|!==|==|!=|>=|<=|>|<)(?![=<>])\s*"
    r"(?P<num>-?\d+(?:\.\d+)?)(?![\w.])"
)
_CMP_REV = re.compile(
    r"(?<![\w.])(?P<num>-?\d+(?:\.\d+)?)\s*(?P<op>===|!==|==|!=|>=|<=|>|<)(?![=<>])\s*"
    r"(?P<rhs>[A-Za-z_$][\w$.]*)"
)
_DROP_FIRST = re.compile(
    r"\.slice\(\s*1\s*\)|\.substring\(\s*1\s*\)|\.substr\(\s*1\s*\)|\[\s*1\s*:\s*\]"
    r"|\[\s*1\s*\.\.\s*\]|\.skip\(\s*1\s*\)|\.subList\(\s*1\s*,"
)
_DROP_LAST = re.compile(r"\.slice\(\s*0\s*,\s*-1\s*\)|\[\s*:\s*-1\s*\]")
_LEN_MINUS = re.compile(
    r"(?:\.length|\.len\(\)|\blen\([^()]*\)|\.size\(\)|\.count\(\)|\.Count)\s*-\s*1\b"
)
_NULL = re.compile(
    r"[!=]==?\s*(?:null|undefined|nil|None)\b|\bis\s+(?:not\s+)?None\b|\?\?|\.unwrap\(\)"
    r"|\.expect\(|\|\|\s*(?:''|\"\"|0|\[\]|\{\})"
)
_EMPTY_CATCH = re.compile(
    r"\bcatch\s*(?:\([^)]*\))?\s*\{\s*\}|\bexcept\s*:|\bexcept\s+(?:Base)?Exception\b[^:]*:\s*pass\b"
)
_CATCH = re.compile(r"\bcatch\b|\bexcept\b|\bif\s+err\s*!=\s*nil\b|\brecover\(\)")
_THROW = re.compile(
    r"\bthrow\s+\w|\braise\s+\w|\bpanic!?\(|\breturn\s+(?:[\w.]+\s*,\s*)*(?:fmt\.Errorf|errors\.New|Err\()"
)
_PARSE = re.compile(
    r"\bparseInt\(|\bparseFloat\(|\bNumber\(|JSON\.parse\(|strconv\.(?:Atoi|Parse\w+)\("
    r"|Integer\.parseInt\(|Long\.parseLong\(|\.parse::<|\.parse\(\)|\.split\(|strings\.Split\("
    r"|\bint\(|\bfloat\("
)
_DIV = re.compile(r"[\w)\]]\s*(?:/|%)\s*(?P<d>[A-Za-z_(][\w.]*)")
_BREAK = re.compile(r"\bbreak\b")
_STRINGS = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`[^`]*`")


def _strip(line: str, lang: str) -> str:
    """The line without string literals and comments (rules must not fire inside them)."""
    line = _STRINGS.sub('""', line)
    if lang == "python":
        return line.split("#", 1)[0]
    line = re.sub(r"/\*.*?\*/", "", line)
    return line.split("//", 1)[0]


def line_hits(raw: str, lang: str) -> Iterator[Hit]:
    """Every pattern rule that fires on one line of code."""
    line = _strip(raw, lang)
    if not line.strip():
        return
    for m in _CMP.finditer(line):
        op = {"===": "==", "!==": "!="}.get(m.group("op"), m.group("op"))
        if op == "<" and re.match(r"\s*\w+\s*>", line[m.end() :]):
            continue  # a generic type, not a comparison
        yield cmp_case(m.group("lhs"), op, _num(m.group("num")))
    for m in _CMP_REV.finditer(line):
        op = {"===": "==", "!==": "!=", ">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(
            m.group("op"), m.group("op")
        )
        yield cmp_case(m.group("rhs"), op, _num(m.group("num")))
    if _DROP_FIRST.search(line):
        yield Hit(
            "off-by-one",
            "the code drops the first element: right only if that is deliberate",
            "an empty input, one element and two: check the first element is meant to be "
            "skipped and that short inputs do not lose data silently",
            subject="drop-first",
        )
    if _DROP_LAST.search(line):
        yield Hit(
            "off-by-one",
            "the code drops the last element",
            "an empty input, one element and two: the last element must be meant to go",
            subject="drop-last",
        )
    if _LEN_MINUS.search(line):
        yield Hit(
            "off-by-one",
            "`length - 1` is the last index, or one short of the length",
            "an empty input (this gives -1), one element and two; the last element must be "
            "visited exactly as intended",
            subject="len-1",
        )
    go_err = re.search(r"\berr\s*!=\s*nil\b", line)  # Go's error check, not a missing value
    if _NULL.search(line) and not go_err:
        yield Hit(
            "none-input",
            "a null / missing value decides what happens here",
            "the value missing (null, undefined, nil, None), empty ('' or []) and present",
        )
    if _EMPTY_CATCH.search(line):
        yield Hit(
            "swallowed-error",
            "the handler swallows every error, bugs included",
            "make the guarded call fail unexpectedly: the error must surface or be logged",
        )
    elif _CATCH.search(line):
        yield Hit(
            "error-path",
            "an error handler that tests rarely reach",
            "make the guarded call fail (stub it to throw / return an error) and check the "
            "handler's result and the state left behind",
        )
    if _THROW.search(line):
        yield Hit(
            "error-path",
            "an error is raised here",
            "an input that triggers it (assert the error), and the input just on the other "
            "side of the condition, which must not",
            subject="raise",
        )
    if _PARSE.search(line):
        yield Hit(
            "malformed-input",
            "text is parsed or split here and may be malformed",
            "'', whitespace, a value without the separator, '4.2' where an integer is "
            "expected, and a non-number: each must give a clear error or a deliberate default",
        )
    div = _DIV.search(line)
    if div and not re.search(r"https?:|</", raw):
        yield Hit(
            "zero-division",
            f"a division by `{div.group('d')}`",
            f"a case where {div.group('d')} is 0: expect a deliberate result, not a crash, "
            "Infinity or NaN",
        )
    if _BREAK.search(line):
        yield Hit(
            "early-exit",
            "the loop exits early; what follows it runs when nothing matched",
            "the matching item first, last and absent, and an empty input",
        )


def _num(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


# ---------------------------------------------------------------------------- function names

_FUNC = {
    "python": [re.compile(r"^(?P<i>\s*)(?:async\s+)?def\s+(?P<n>\w+)\s*\(")],
    "js": [
        re.compile(
            r"^(?P<i>\s*)(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(?P<n>[\w$]+)\s*[(<]"
        ),
        re.compile(
            r"^(?P<i>\s*)(?:export\s+)?(?:const|let|var)\s+(?P<n>[\w$]+)\s*(?::[^=]+)?=\s*"
            r"(?:async\s*)?(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|[\w$]+\s*=>)"
        ),
        re.compile(
            r"^(?P<i>\s*)(?:(?:public|private|protected|static|async|readonly|override)\s+)*"
            r"(?!if\b|for\b|while\b|switch\b|catch\b|return\b)(?P<n>[\w$]+)\s*\([^)]*\)\s*(?::[^{]+)?\{\s*$"
        ),
    ],
    "go": [re.compile(r"^(?P<i>)func\s+(?:\([^)]*\)\s*)?(?P<n>\w+)\s*[(\[]")],
    "rust": [
        re.compile(
            r"^(?P<i>\s*)(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(?P<n>\w+)"
        )
    ],
    "java": [
        re.compile(
            r"^(?P<i>\s*)(?:(?:public|private|protected|static|final|synchronized|abstract|override|internal|suspend|fun)\s+)+"
            r"(?:[\w<>\[\],.?]+\s+)?(?P<n>\w+)\s*\("
        )
    ],
}
_FUNC["c"] = [
    re.compile(r"^(?P<i>)(?:[\w*]+\s+)+\**(?P<n>\w+)\s*\([^;]*$"),
]


def find_function(known: Mapping[int, str], line: int, lang: str, header: str = "") -> str | None:
    """The function a line belongs to, from the lines the diff shows above it, else the hunk
    header git printed; None when neither names one."""
    patterns = _FUNC.get(lang, [])
    target = known.get(line, "")
    indent = len(target) - len(target.lstrip())
    for n in range(line, 0, -1):
        text = known.get(n)
        if text is None:
            break  # a gap: the lines above it may belong to another function
        for rx in patterns:
            m = rx.match(text)
            if m and (n == line or len(m.group("i")) < indent or lang in ("go", "c")):
                return m.group("n")
    for rx in patterns:
        m = rx.match(header)
        if m:
            return m.group("n")
    return None
