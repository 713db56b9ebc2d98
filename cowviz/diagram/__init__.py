"""Diagrams: snapshots as kernel-object graphs, laid out by Graphviz so they hold still (docs/diagram.md).

    snapshot + events -> build_graph() -> networkx MultiDiGraph -> dot_text() (pydot)
                      -> Graphviz dot (cached) -> Frame -> JSON | SVG | PNG | DOT
"""
from .dot import dot_text
from .frame import BoxRect, EdgePath, Frame, NodeBox
from .graph import SideMap, build_graph
from .graphviz import GraphvizError, GraphvizMissing, find_dot
from .layout import RunLayout, SandboxLayouter, layout_run
from .style import legend

__all__ = ["BoxRect", "EdgePath", "Frame", "GraphvizError", "GraphvizMissing", "NodeBox", "RunLayout",
           "SandboxLayouter", "SideMap", "build_graph", "dot_text", "find_dot", "layout_run", "legend"]
