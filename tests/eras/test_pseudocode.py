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
                ("6.x", "gup_must_unshare", "exclusive"), ("5.7", "copy_one_pte", "wrprotect"),
                # anon_vma reuse at fork, the mprotect write upgrade, GUP's FOLL_WRITE test
                ("5.7", "anon_vma_clone", "reuse_anon_vma"), ("5.19", "anon_vma_clone", "reuse_anon_vma"),
                ("6.x", "anon_vma_clone", "reuse_anon_vma"), ("5.19", "change_protection", "private"),
                ("6.x", "can_change_pte_writable", "exclusive"), ("5.8", "can_follow_write_pte", "follow_write"),
                ("5.9", "can_follow_write_pte", "follow_write"), ("6.x", "can_follow_write_pte", "follow_write")]:
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


TAG = re.compile(r"^v\d+\.\d+(\.\d+)?(-rc\d+)?$")


def test_every_form_says_what_it_was_checked_against_in_every_era():
    """Each form names, for each of its eras, the kernel tree (tag) it was read against and the
    file:function definitions read there; the form's own function is among them."""
    forms = {id(f): f for f in pseudocode.load_all().values()}.values()
    assert len(forms) > 70
    for form in forms:
        where = f"{form.fn}.{form.form}.txt"
        eras = [c.era for c in form.checked]
        assert sorted(eras) == sorted(form.eras), f"{where}: checked for {eras}, eras {form.eras}"
        for c in form.checked:
            assert TAG.match(c.tag), (where, c.tag)
            assert c.refs and all("/" in f and f.endswith((".c", ".h")) for f, _ in c.refs), (where, c)
            names = {n for _, n in c.refs}
            assert form.fn in names, (where, c.era, names)
            if c.era == "5.9-rc":
                # No 5.9-rc tree: the record says what stood in for it.
                assert "no 5.9-rc tree" in c.note, (where, c)
    with pytest.raises(pseudocode.PseudocodeError, match="is not '<era> v<tag>"):
        pseudocode.parse("# f\neras: 5.7\nfile: mm/x.c\nchecked: 5.7 mm/x.c:f\n---\nx\n", "f.a.txt")


def _lit(scenario, era):
    """Every lit line of a scenario's steps under an era: [(step, fn, line id, seen, outcome)]."""
    run = run_scenario(load_scenario(os.path.join(ROOT, "scenarios", scenario)), era)
    out = []
    for s in run.steps:
        code = pseudocode.step_code(s.events, get_era(era))
        out += [(s.index, f["fn"], ln["id"], ln["seen"], ln["outcome"])
                for f in code["fns"] for ln in f["lines"] if ln["lit"]]
    return out


def test_anon_vma_reuse_is_a_decision_with_its_counters():
    # s14: the child of a child reuses an anon_vma by the 5.x degree although a VMA still uses it;
    # 6.x counts VMAs apart and does not.
    lit = {x[0]: x for x in _lit("reference/s14-anon-vma-double-reuse.yaml", "5.19") if x[1] == "anon_vma_clone"}
    lit6 = {x[0]: x for x in _lit("reference/s14-anon-vma-double-reuse.yaml", "6.x") if x[1] == "anon_vma_clone"}
    # The double reuse: the last fork's child takes anon_vma 3, which one VMA still uses, under 5.19 only.
    last = max(lit)
    assert lit[last][3:] == ("anon_vma 3: the parent VMA's own -> false, degree == 1", "the child reuses it")
    assert lit6[last][3:] == ("anon_vma 3: num_children == 0, num_active_vmas == 1", "not reused")


def test_the_mprotect_upgrade_is_a_decision_in_6x_only():
    lit6 = [x for x in _lit("reference/s15-mprotect-write-upgrade.yaml", "6.x") if x[1] == "can_change_pte_writable"]
    assert any("PageAnonExclusive(page) -> true" in seen and o == "writable now" for *_, seen, o in lit6), lit6
    lit5 = _lit("reference/s15-mprotect-write-upgrade.yaml", "5.19")
    assert not [x for x in lit5 if x[1] == "can_change_pte_writable"]
    assert any(fn == "change_protection" and lid == "private" and o.startswith("read-only")
               for _, fn, lid, _, o in lit5), lit5


def test_gup_reports_whether_the_pte_did_for_foll_write():
    # 5.8 forces FOLL_WRITE on a read-only GUP of a COW mapping: the first lookup finds a
    # read-only PTE, which does not do, so GUP faults for writing first.
    lit = [x for x in _lit("06-gup-breaks-cow.yaml", "5.8") if x[1] == "can_follow_write_pte"]
    assert any("pte_write(pte) -> false" in seen and o == "fault for writing first" for *_, seen, o in lit), lit
    # A step in which GUP faulted still anchors its breadcrumb on do_wp_page's decision.
    run = run_scenario(load_scenario(os.path.join(ROOT, "scenarios", "06-gup-breaks-cow.yaml")), "5.8")
    both = [pseudocode.step_code(s.events, get_era("5.8")) for s in run.steps]
    both = [c for c in both if {"can_follow_write_pte", "do_wp_page"} <= {f["fn"] for f in c["fns"] if f["decided"]}]
    assert both and all(c["decided"] == "do_wp_page" for c in both), [c["decided"] for c in both]
