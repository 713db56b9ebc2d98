"""A graph made of parts (graph.graph_parts) is the graph build_graph makes, and a union grown from
only the parts that changed (layout.merge_parts) is the union merge_into grows from whole graphs."""
import networkx as nx
import pytest

from cowviz.diagram.graph import PartCache, SideMap, assemble, build_graph, graph_parts
from cowviz.diagram.layout import assign_sizes, grow_sizes, merge_into, merge_parts
from cowviz.scenario import load_scenario, run_scenario

from .conftest import OWN, SHARED, run_commands_text, scenario_eras


def same_graph(a, b) -> bool:
    """Equal node and edge data, in the same order (the order Graphviz gets them in)."""
    return (list(a.nodes(data=True)) == list(b.nodes(data=True))
            and list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))
            and a.graph == b.graph)


class Rec:
    def __init__(self):
        self.nodes, self.edges, self.grown = [], [], {}


def grow_both(states):
    """The union grown both ways over the states; yields them after each state with both records."""
    whole, parts = nx.MultiDiGraph(), nx.MultiDiGraph()
    sides_a, sides_b, cache = SideMap(), SideMap(), PartCache()
    widths = None
    for snap, events in states:
        ra, rb = Rec(), Rec()
        g = build_graph(snap, events, (), sides_a)
        merge_into(whole, g, ra)
        made = graph_parts(snap, (), sides_b, cache=cache)
        assert same_graph(assemble(snap, made, events), g)
        merge_parts(parts, cache.new, rb)
        want = assign_sizes(whole)
        widths = assign_sizes(parts) if widths is None else grow_sizes(parts, widths, rb.nodes + list(rb.grown))
        assert widths == want
        yield whole, parts, ra, rb


@pytest.mark.parametrize("path, era", scenario_eras(SHARED + OWN))
def test_parts_make_the_same_graphs_and_unions(path, era):
    run = run_scenario(load_scenario(path), era)
    states = [(run.initial, ())] + [(s.snapshot, s.events) for s in run.steps]
    for whole, parts, ra, rb in grow_both(states):
        assert list(parts.nodes(data=True)) == list(whole.nodes(data=True))
        assert set(parts.edges(keys=True)) == set(whole.edges(keys=True))
        assert all(parts.edges[e] == whole.edges[e] for e in whole.edges(keys=True))
        assert (rb.nodes, set(rb.edges), rb.grown) == (ra.nodes, set(ra.edges), ra.grown)


def test_an_unchanged_object_keeps_its_part_and_a_changed_one_gets_a_new_one():
    run = run_commands_text("""
        mmap P buf 4
        mmap P other 2
        write P buf[0] A
        write P buf[0] B
        read P other[1]
    """, "5.9")
    cache = PartCache()
    graph_parts(run.steps[2].snapshot, cache=cache)
    before = dict(cache.parts)
    graph_parts(run.steps[3].snapshot, cache=cache)      # only page 1's data changed
    changed = {pid for pid, p in cache.parts.items() if before.get(pid) is not p}
    assert changed == {"page:1"} and cache.new == [cache.parts["page:1"]]
    graph_parts(run.steps[4].snapshot, cache=cache)      # a page, its PTE (the VMA's table), an mm's counters
    assert {pid for pid, p in cache.parts.items() if p in cache.new} >= {"vma:P:other"}
    assert cache.parts["vma:P:buf"] is not None and cache.parts["vma:P:buf"] not in cache.new
