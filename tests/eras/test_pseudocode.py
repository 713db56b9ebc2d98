"""The code panel's pseudocode covers what the engine reports, in every era (issue 15)."""
import glob
import os
import re

import pytest

from cowviz import pseudocode
from cowviz.eras import ERA_IDS, get_era
from cowviz.eras.names import NOT_KERNEL
from cowviz.scenario.loader import load_scenario
from cowviz.scenario.runner import run_scenario

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SCENARIOS = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))
                   + glob.glob(os.path.join(ROOT, "scenarios", "reference", "*.yaml")))


@pytest.fixture(scope="module")
def emitted():
    """Every event and decision of every shipped scenario under every era: {(era, fn): where}."""
    fns, decisions = {}, {}
    for path in SCENARIOS:
        sc = load_scenario(path)
        for era in ERA_IDS:
            run = run_scenario(sc, era)
            for s in run.steps:
                where = f"{os.path.basename(path)} step {s.index} ({era})"
                for e in s.events:
                    fns.setdefault((era, e.fn), where)
                    for d in e.decisions:
                        decisions.setdefault((era, d.fn, d.line, tuple(k for k, _ in d.seen)), (where, d))
    return fns, decisions


def test_every_file_parses_and_names_known_eras():
    forms = pseudocode.load_all()
    assert len(forms) > 100
    for (fn, era), form in forms.items():
        assert era in ERA_IDS, (form.fn, form.form, era)
        assert form.lines and form.file
        if form.caller:
            # A caller named for the breadcrumb has pseudocode in that era too.
            assert pseudocode.form_for(form.caller, era), (fn, era, form.caller)


def test_every_event_function_has_pseudocode_in_every_era_that_emits_it(emitted):
    fns, _ = emitted
    assert len({fn for _, fn in fns}) > 30
    missing = [(era, fn, where) for (era, fn), where in sorted(fns.items())
               if fn not in NOT_KERNEL and pseudocode.form_for(fn, era) is None]
    assert not missing, missing


def test_every_decision_maps_to_a_line_whose_values_it_has(emitted):
    _, decisions = emitted
    seen_lines = {(era, fn, line) for era, fn, line, _ in decisions}
    # The deciding tests of the 2020 story are all reported somewhere.
    for key in [("5.7", "do_wp_page", "reuse_swap_page"), ("5.9-rc", "do_wp_page", "page_count"),
                ("5.9", "copy_present_page", "maybe_pinned"), ("5.9", "copy_present_page", "has_pinned"),
                ("6.x", "do_wp_page", "exclusive"), ("6.x", "folio_try_dup_anon_rmap_pte", "needs_cow_for_dma"),
                ("5.19", "page_try_dup_anon_rmap", "needs_cow_for_dma"), ("5.8", "__get_user_pages", "force_cow_break"),
                ("6.x", "gup_must_unshare", "exclusive"), ("5.7", "copy_one_pte", "wrprotect")]:
        assert key in seen_lines, key
    for (era, fn, line_id, keys), (where, d) in decisions.items():
        form = pseudocode.form_for(fn, era)
        assert form is not None, (era, fn, where)
        line = form.line(line_id)
        assert line is not None, f"{where}: {fn} ({form.form}) has no line @{line_id}"
        assert line.outcome, f"{fn} ({form.form}) @{line_id}: no '=> if true | if false'"
        if line.seen:
            wanted = set(re.findall(r"\{(\w+)", line.seen))
            assert wanted <= set(keys), (where, fn, line_id, wanted, keys)
            assert pseudocode.render_seen(line, d.seen)


def test_the_values_read_as_the_kernel_writes_them():
    run = run_scenario(load_scenario(os.path.join(ROOT, "scenarios", "08-rdma-regression.yaml")), "5.9")
    lit = []
    for s in run.steps:
        code = pseudocode.step_code(s.events, get_era("5.9"))
        lit += [ln["seen"] for f in code["fns"] for ln in f["lines"] if ln["lit"]]
    assert any("mm->has_pinned == 1" in t and "page_maybe_dma_pinned() -> true" in t for t in lit), lit
    run = run_scenario(load_scenario(os.path.join(ROOT, "scenarios", "08-rdma-regression.yaml")), "5.9-rc")
    lit = [ln["seen"] for s in run.steps
           for f in pseudocode.step_code(s.events, get_era("5.9-rc"))["fns"] for ln in f["lines"] if ln["lit"]]
    assert any(t.startswith("page_count(page) == 1025") for t in lit), lit


def test_breadcrumb_and_links():
    code = None
    run = run_scenario(load_scenario(os.path.join(ROOT, "scenarios", "10-has-pinned-early-copy.yaml")), "5.9")
    for s in run.steps:
        c = pseudocode.step_code(s.events, get_era("5.9"))
        if c["decided"] == "copy_present_page":
            code = c
    assert code is not None
    assert code["path"][-4:] == ["copy_page_range", "copy_pte_range", "copy_present_pte", "copy_present_page"]
    hrefs = {f["fn"]: f["href"] for f in code["fns"]}
    assert hrefs["copy_present_page"] == "https://elixir.bootlin.com/linux/v5.9/C/ident/copy_present_page"
    assert code["tag"] == "v5.9"


def test_bad_files_are_refused_with_the_file_named(tmp_path):
    (tmp_path / "f.a.txt").write_text("# f\neras: 5.7\nfile: mm/x.c\n")
    with pytest.raises(pseudocode.PseudocodeError, match="f.a.txt: no '---'"):
        pseudocode.load_all(str(tmp_path))
    (tmp_path / "f.a.txt").write_text("# f\neras: 5.7\nfile: mm/x.c\n---\nx  @a\ny  @a\n")
    with pytest.raises(pseudocode.PseudocodeError, match="used twice"):
        pseudocode.load_all(str(tmp_path))
    form = pseudocode.parse("# f\neras: 5.7\nfile: mm/x.c\n---\nif x:  @a  x == {x}  => yes | no\n", "f.a.txt")
    assert form.line("a").seen == "x == {x}" and form.line("a").outcome == ("yes", "no")
    assert pseudocode.render_seen(form.line("a"), (("x", True),)) == "x == true"
    (tmp_path / "f.a.txt").write_text("# f\neras: 5.7\nfile: mm/x.c\n---\nx\n")
    (tmp_path / "f.b.txt").write_text("# f\neras: 5.7\nfile: mm/x.c\n---\ny\n")
    with pytest.raises(pseudocode.PseudocodeError, match="already has a form for era 5.7"):
        pseudocode.load_all(str(tmp_path))
