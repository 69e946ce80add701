"""The static gate: a cheap, explainable first filter over a candidate's source.

It is not the security boundary (the sandbox is). It turns away, with a reason a model can
act on, code that cannot be a fair kernel: no ModelNew, Triton kernels that are never
launched, imports of the reference or of Crucible itself, process/network/thread APIs,
dynamic code execution, file access, frame inspection, and monkey-patching of torch,
triton, time or the interpreter.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from evaluator.types import Status

FORBIDDEN_MODULES = {
    "subprocess": "starts processes",
    "multiprocessing": "starts processes",
    "concurrent": "starts threads or processes",
    "threading": "starts threads",
    "_thread": "starts threads",
    "asyncio": "runs an event loop",
    "socket": "opens network connections",
    "urllib": "opens network connections",
    "http": "opens network connections",
    "requests": "opens network connections",
    "ctypes": "calls native code directly",
    "cffi": "calls native code directly",
    "signal": "installs signal handlers",
    "gc": "walks live objects",
    "inspect": "walks interpreter frames",
    "importlib": "imports code dynamically",
    "pickle": "deserializes arbitrary objects",
    "shutil": "touches the file system",
    "pathlib": "touches the file system",
    "glob": "touches the file system",
    "io": "touches the file system",
    "builtins": "patches built-ins",
}
CRUCIBLE_PACKAGES = {"kernels", "evaluator", "agent", "store", "service", "dashboard", "reference"}
FORBIDDEN_CALLS = {
    "eval": "executes dynamic code",
    "exec": "executes dynamic code",
    "compile": "compiles dynamic code",
    "__import__": "imports code dynamically",
    "open": "touches the file system",
    "globals": "reaches into module state",
    "breakpoint": "starts a debugger",
}
FORBIDDEN_OS = {
    "system",
    "popen",
    "fork",
    "forkpty",
    "kill",
    "killpg",
    "listdir",
    "scandir",
    "walk",
    "remove",
    "unlink",
    "rename",
    "spawnl",
    "spawnv",
    "execv",
    "execve",
    "execl",
    "putenv",
    "environ",
    "getenv",
}
# Library calls that read or write files, rooted at the module alias that reaches them.
FILE_CALLS = {
    ("torch", "load"),
    ("torch", "save"),
    ("torch", "from_file"),
    ("np", "load"),
    ("np", "fromfile"),
    ("numpy", "load"),
    ("numpy", "fromfile"),
    ("np", "save"),
    ("numpy", "save"),
}
PATCH_ROOTS = {"torch", "triton", "time", "sys", "os", "builtins", "numpy", "np", "tl", "F"}


@dataclass(frozen=True)
class GateVerdict:
    status: Status | None
    reason: str

    @property
    def passed(self) -> bool:
        return self.status is None


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _jit_functions(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(target) in (
                    "triton.jit",
                    "jit",
                    "triton.autotune",
                    "triton.heuristics",
                    "autotune",
                ):
                    names.add(node.name)
    return names


def _launched(tree: ast.Module) -> set[str]:
    """Names used as ``kernel[grid](...)``, the Triton launch syntax."""
    return {
        node.func.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Subscript)
        and isinstance(node.func.value, ast.Name)
    }


def check_source(source: str, problem_stem: str) -> GateVerdict:
    """Pass, or the first rule the source breaks."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return GateVerdict(Status.COMPILE_ERROR, f"syntax error at line {exc.lineno}: {exc.msg}")
    if not any(isinstance(n, ast.ClassDef) and n.name == "ModelNew" for n in tree.body):
        return GateVerdict(Status.REJECTED, "the module does not define class ModelNew at top level")
    for node in ast.walk(tree):
        reason = _node_violation(node, problem_stem)
        if reason:
            line = getattr(node, "lineno", "?")
            return GateVerdict(Status.REJECTED, f"line {line}: {reason}")
    jit = _jit_functions(tree)
    if jit and not (jit & _launched(tree)):
        return GateVerdict(Status.REJECTED, f"defines Triton kernel(s) {sorted(jit)} but never launches one")
    return GateVerdict(None, "passed")


def _node_violation(node: ast.AST, problem_stem: str) -> str | None:
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        if isinstance(node, ast.ImportFrom) and node.level:
            return "uses a relative import; a candidate is a single self-contained file"
        for name in names:
            top = name.split(".")[0]
            if top in FORBIDDEN_MODULES:
                return f"imports {name}, which {FORBIDDEN_MODULES[top]}"
            if top in CRUCIBLE_PACKAGES or top == problem_stem:
                return f"imports {name}: a candidate may not import the reference or Crucible itself"
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            bad = [a.name for a in node.names if a.name in FORBIDDEN_OS]
            if bad:
                return f"imports os.{bad[0]}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
        return f"calls {node.func.id}(), which {FORBIDDEN_CALLS[node.func.id]}"
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        and node.attr in FORBIDDEN_OS
    ):
        return f"uses os.{node.attr}"
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if (node.value.id, node.attr) in FILE_CALLS:
            return f"uses {node.value.id}.{node.attr}, which touches the file system"
        if node.value.id == "sys" and node.attr == "modules":
            return "reaches into sys.modules to import code past this gate"
    if isinstance(node, ast.Attribute) and node.attr in (
        "_getframe",
        "f_back",
        "f_globals",
        "f_locals",
        "__globals__",
    ):
        return f"reaches into interpreter frames via .{node.attr}"
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and _root_name(target) in PATCH_ROOTS:
                return f"assigns to {ast.unparse(target)}: monkey-patching libraries is not allowed"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("setattr", "delattr")
        and node.args
        and _root_name(node.args[0]) in PATCH_ROOTS
    ):
        patched = ast.unparse(node.args[0])
        return f"calls {node.func.id} on {patched}: monkey-patching libraries is not allowed"
    return None
