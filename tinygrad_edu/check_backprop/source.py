"""Reading the learner's source: the statement at each line, and the names a statement reads.

``Source`` parses a file or notebook cell (through ``linecache``) once; ``reads_of`` lists the
names a statement reads (``delta2 = np.dot(delta3, W2.T)`` reads ``np``, ``delta3``, ``W2``),
``element_reads`` only those of one entry of a returned dict or tuple. Code without source
(``<stdin>``) is read from its bytecode instead. ``short_path`` shows a file name the way the
report prints it.
"""

import ast
import dis
import functools
import linecache
import os
import textwrap

_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers")


class Source:
    """The statements of one file or notebook cell (through ``linecache``), by line."""

    def __init__(self, filename):
        self.filename = filename
        self.lines = linecache.getlines(filename)
        self.at_line = {}
        try:
            tree = ast.parse("".join(self.lines)) if self.lines else None
        except SyntaxError:   # e.g. a notebook cell with %magic lines
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.stmt):
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    inner = self.at_line.get(line)
                    if inner is None or node.lineno >= inner.lineno:
                        self.at_line[line] = node   # the innermost statement wins

    def statement(self, line):
        return self.at_line.get(line)

    def text(self, statement_or_line):
        if isinstance(statement_or_line, ast.stmt):
            node = statement_or_line
            header = _header(node)
            end = max(getattr(n, "end_lineno", node.lineno) or node.lineno for n in header)
            return textwrap.dedent("".join(self.lines[node.lineno - 1:end])).rstrip()
        if 0 < statement_or_line <= len(self.lines):
            return self.lines[statement_or_line - 1].strip()
        return ""


def _header(statement):
    """The parts of a statement that run at its own line (not the body of an ``if``/``for``)."""
    if not any(hasattr(statement, f) for f in _BODY_FIELDS):
        return [statement]
    parts = []
    for field, value in ast.iter_fields(statement):
        if field in _BODY_FIELDS:
            continue
        parts.extend(v for v in (value if isinstance(value, list) else [value])
                     if isinstance(v, ast.AST))
    return parts


def _texts(nodes):
    """Names and ``name.attribute`` pairs read by ``nodes``, in order, each once."""
    found = []
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if not isinstance(node.ctx, ast.Store):
                    found.append(f"{node.value.id}.{node.attr}")
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                found.append(node.id)
        if isinstance(root, ast.AugAssign):   # ``delta *= mask`` reads delta too
            found.extend(_texts([ast.Expression(root.target)]) or [ast.unparse(root.target)])
    return list(dict.fromkeys(found))


def reads_of(statement):
    return _texts(_header(statement))


def element_node(statement, key):
    """The expression for entry ``key`` of a dict/tuple literal returned or assigned."""
    value = getattr(statement, "value", None)
    if isinstance(value, ast.Dict):
        for k, v in zip(value.keys, value.values):
            if isinstance(k, ast.Constant) and (k.value == key or repr(k.value) == key):
                return v
    if isinstance(value, (ast.Tuple, ast.List)) and isinstance(key, int):
        if 0 <= key < len(value.elts):
            return value.elts[key]
    return None


def element_reads(statement, key):
    node = element_node(statement, key)
    return None if node is None else set(_texts([node]))


def _instruction_lines(code):
    """(line, instruction) for each instruction of ``code``."""
    line = code.co_firstlineno
    for instruction in dis.get_instructions(code):
        positions = getattr(instruction, "positions", None)
        if positions is not None and positions.lineno is not None:
            line = positions.lineno
        elif isinstance(instruction.starts_line, int) and instruction.starts_line > 1:
            line = instruction.starts_line
        yield line, instruction


@functools.lru_cache(maxsize=256)
def bytecode_compares(code):
    """The lines of ``code`` that compare (``h >= 0``), for code without source."""
    return {line for line, instruction in _instruction_lines(code)
            if instruction.opname == "COMPARE_OP"}


@functools.lru_cache(maxsize=256)
def bytecode_reads(code):
    """{line: names read} from the bytecode, for code whose source cannot be read
    (``<stdin>``): the names loaded, and ``self.attr`` for an attribute of a loaded name."""
    lines, previous = {}, None
    for line, instruction in _instruction_lines(code):
        name = instruction.argval
        if instruction.opname.startswith("LOAD_") and instruction.opname not in (
                "LOAD_ATTR", "LOAD_METHOD", "LOAD_CONST"):
            names = name if isinstance(name, tuple) else (name,)
            lines.setdefault(line, []).extend(n for n in names if isinstance(n, str))
            previous = names[-1] if isinstance(names[-1], str) else None
            continue
        if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and previous is not None:
            lines.setdefault(line, []).append(f"{previous}.{name}")
        previous = None
    return {k: tuple(dict.fromkeys(v)) for k, v in lines.items()}


def short_path(filename):
    """The file name relative to the working directory, when it lies below it."""
    if filename.startswith("<"):
        return filename
    try:
        relative = os.path.relpath(filename)
    except ValueError:   # another drive, on Windows
        return filename
    return filename if relative.startswith("..") else relative
