"""The engine's shape: its modules import each other one way (no cycle), and none of
them imports Streamlit, so every part works from a notebook, the command line and
the tests. Computed from the source, lazy imports inside functions included;
imports only for type checkers (`if TYPE_CHECKING:`) are left out."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ENGINE = Path(__file__).resolve().parents[2] / "designer"


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement except those under `if TYPE_CHECKING:`."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> tuple[nx.DiGraph, list[str]]:
    """(designer module -> designer modules it imports, modules importing streamlit)."""
    modules = {module_name(p): p for p in ENGINE.rglob("*.py")}
    graph, streamlit = nx.DiGraph(), []
    for name, path in modules.items():
        graph.add_node(name)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in runtime_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    base = f"{base}.{node.module}" if node.module else base
                # `from designer import checkpoints`: the submodule, if there is one
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                if target.split(".")[0] == "streamlit":
                    streamlit.append(name)
                if target in modules and target != name:
                    graph.add_edge(name, target)
    return graph, streamlit


def test_the_engine_imports_no_streamlit_and_has_no_import_cycle():
    graph, streamlit = import_graph()
    assert len(graph) > 20 and graph.number_of_edges() > 20  # it did read the source
    assert streamlit == []
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c + c[:1]) for c in cycles)


def test_the_tasks_are_a_leaf():
    """The sample tasks know nothing of experiments, models or training; they speak
    the reader's language (designer.i18n, itself a leaf)."""
    graph, _ = import_graph()
    for name in graph:
        if name.startswith("designer.tasks"):
            outside = [
                t
                for t in graph.successors(name)
                if not t.startswith("designer.tasks") and t != "designer.i18n"
            ]
            assert outside == [], f"{name} imports {outside}"
    assert [t for t in graph.successors("designer.i18n") if t.startswith("designer")] == []


def test_a_lesson_is_a_document_not_code():
    """The built-in lessons are documents in designer/lessons/builtin/, read by the
    loader that reads a teacher's: the lessons' package holds only the framework (base,
    check, document, rules) and the exercises, no lesson."""
    from designer.lessons import BUILTIN, LESSONS

    documents = sorted(path.stem for path in BUILTIN.iterdir())
    assert documents == [f"{lesson.number:02d}-{lesson.name}" for lesson in LESSONS.values()]
    assert len(documents) == 9
    modules = {path.stem for path in (ENGINE / "lessons").glob("*.py")}
    assert modules == {"__init__", "base", "check", "document", "rules", "exercises"}


def test_folders_say_what_they_hold():
    """Where a thing goes is answered by a folder name: the engine's top holds only the
    command line and the languages beside its packages, and every component lives in
    the folder of the page (or, in shell/, of every page) it serves."""
    loose = {p.name for p in ENGINE.glob("*.py")}
    assert loose == {"__init__.py", "__main__.py", "i18n.py"}
    components = ENGINE.parent / "components"
    assert {p.name for p in components.glob("*.py")} == {"__init__.py"}
    pages = {p.stem for p in (ENGINE.parent / "app_pages").glob("*.py")}
    folders = {p.name for p in components.iterdir() if (p / "__init__.py").exists()}
    assert folders - pages == {"shell"}, "a component folder is named after its page"
