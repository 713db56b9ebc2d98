"""The DOT text: an id on every element, sorted statements, colours dot 2.43 accepts."""
import re

import networkx as nx
import pydot
import pytest

from cowviz.diagram import build_graph, dot_text
from cowviz.diagram.layout import assign_sizes, merge_into

from .conftest import run_commands_text


@pytest.fixture(scope="module")
def union():
    run = run_commands_text("""
        mmap P buf 4
        write P buf[0] A
        pin P buf[0] as nic write longterm
        gup P buf[1] as dev
        fork P C
        write C buf[1] X
    """, "6.x")
    u = nx.MultiDiGraph(legend=True)
    graphs = [build_graph(s.snapshot, s.events) for s in run.steps]
    for g in graphs:
        merge_into(u, g)
    assign_sizes(u)
    return u, graphs


@pytest.fixture(autouse=True)
def _quiet_pydot_parser(recwarn):
    """pydot's parser uses pyparsing names pyparsing deprecates; that is not ours to fix."""


def statements(text):
    """Every node and edge statement of the DOT, through pydot's parser."""
    (g,) = pydot.graph_from_dot_data(text)
    nodes, edges, stack = [], [], [g]
    while stack:
        sub = stack.pop()
        nodes += [n for n in sub.get_nodes() if n.get_name() not in ("node", "edge", "graph")]
        edges += sub.get_edges()
        stack += sub.get_subgraphs()
    return nodes, edges


@pytest.mark.parametrize("which", ["layout", "frame"])
def test_every_node_and_edge_has_an_id(union, which):
    u, graphs = union
    text = dot_text(u) if which == "layout" else dot_text(u, graphs[-1])
    nodes, edges = statements(text)
    assert nodes and edges
    assert all(n.get("id") for n in nodes), [n.get_name() for n in nodes if not n.get("id")]
    assert all(e.get("id") for e in edges)
    ids = [e.get("id") for e in edges]
    assert len(ids) == len(set(ids))
    (g,) = pydot.graph_from_dot_data(text)
    assert all(s.get("id") for s in g.get_subgraphs() if s.get_name().startswith("cluster"))


def test_dot_is_deterministic_and_sorted(union):
    u, graphs = union
    text = dot_text(u)
    shuffled = nx.MultiDiGraph(legend=True)
    for n in reversed(list(u.nodes)):
        shuffled.add_node(n, **u.nodes[n])
    for a, b, k, d in reversed(list(u.edges(keys=True, data=True))):
        shuffled.add_edge(a, b, key=k, **d)
    assert dot_text(shuffled) == text
    edge_ids = [m for m in re.findall(r'\bid="([^"~]*>[^"]*)"', text)]
    assert edge_ids == sorted(edge_ids)


def test_frame_dot_has_the_layout_statements_in_the_same_order(union):
    u, graphs = union
    names = lambda text: re.findall(r'^("[^"]+"(?: -> "[^"]+")?) \[', text, re.M)
    layout = names(dot_text(u))
    for g in graphs:
        assert names(dot_text(u, g)) == layout


def test_colours_are_six_digit_hex(union):
    u, graphs = union
    for text in [dot_text(u)] + [dot_text(u, g) for g in graphs]:
        colours = re.findall(r'#[0-9a-fA-F]+\b', text)
        assert colours and all(len(c) == 7 for c in colours), set(c for c in colours if len(c) != 7)


def test_absent_objects_are_invisible_in_a_frame(union):
    u, graphs = union
    first = dot_text(u, graphs[0])          # before fork: no child yet
    assert re.search(r'"task:C" \[[^\]]*style=invis', first)
    assert re.search(r'\[id="pte:C:buf:0>page:2"[^\]]*style=invis', first)
