"""The documentation site (docs/conf.py) builds with warnings as errors, holds the user guide (README.md and
the pages of docs/), the API reference and the tutorial, and the tutorial notebook, which the build executes
once (myst-nb, through nbclient), leaves numbers in which the theory and the simulation agree."""

import ast
import html
import inspect
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ridgerenorm import theory

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOK = DOCS / "tutorial.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site once into a temporary folder: (html folder, executed notebooks folder, seconds)."""
    out = tmp_path_factory.mktemp("docs")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(out / "doctrees"),
         str(DOCS), str(out / "html")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, f"sphinx-build -W failed ({seconds:.0f} s):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    print(f"docs built in {seconds:.1f} s")
    return out / "html", out / "jupyter_execute", seconds


def page(site, name: str) -> str:
    path = site[0] / name
    assert path.is_file(), f"{name} missing from the built site"
    return path.read_text(encoding="utf-8")


def text_of(page_html: str) -> str:
    """The page's words without tags or entities (headings carry a permalink sign, code is split in spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page_html))


def test_index_links_the_user_guide_the_tutorial_and_the_api(site):
    index = page(site, "index.html")
    for target in ["readme.html", "theory.html", "figures.html", "spectrum_kinds.html", "agreement.html",
                   "explorer.html", "changelog.html", "tutorial.html", "api.html"]:
        assert f'href="{target}' in index, f"index.html does not link {target}"


def test_user_guide_pages_hold_the_readme_and_every_page_of_docs(site):
    readme_words = text_of(page(site, "readme.html"))
    sections = re.findall(r"^## (.+)$", (ROOT / "README.md").read_text(), flags=re.M)
    assert len(sections) > 5
    for heading in sections:
        assert heading.replace("`", "") in readme_words, f"README section {heading!r} is not on readme.html"
    for md in sorted(DOCS.glob("*.md")):
        title = re.search(r"^# (.+)$", md.read_text(), flags=re.M).group(1).replace("`", "")
        assert title in text_of(page(site, md.with_suffix(".html").name)), f"{md.name}: title {title!r} missing"
    # the README's links to docs/*.md point at the site's pages, with their anchors
    assert 'href="figures.html#parameter-trace"' in page(site, "readme.html")


def test_api_page_documents_the_theory_from_its_docstrings(site):
    api = page(site, "api.html")
    for module in ["ridgerenorm.theory", "ridgerenorm.curve", "ridgerenorm.spectrum_kinds", "ridgerenorm.models"]:
        assert f'id="module-{module}"' in api, f"{module} has no section on api.html"
    for func in [theory.linear_ridge, theory.random_features, theory.solve_kappa]:
        assert f'id="ridgerenorm.theory.{func.__name__}"' in api
        first_line = inspect.getdoc(func).splitlines()[0]
        assert first_line in text_of(api), f"{func.__name__}'s docstring is not on api.html"


def test_the_committed_notebook_carries_no_outputs():
    """The site shows the outputs of the build's own run, so the file in git holds the code only."""
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 6
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)


def test_tutorial_runs_and_its_simulation_agrees_with_theory(site):
    nb = json.loads((site[1] / "tutorial.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "a cell was not executed"
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    result = "".join(code[-1]["outputs"][-1]["data"]["text/plain"])
    summary = ast.literal_eval(result)
    # part 1: the ridgeless learning curve of the notebook's power law follows the asymptotic rates of
    # docs/theory.md §6 over P = 100..3000 (still pre-asymptotic, so within 0.1, not exactly)
    assert abs(summary["slope_eg"] - summary["predicted_slope_eg"]) < 0.1, summary
    assert abs(summary["slope_kappa"] - summary["predicted_slope_kappa"]) < 0.15, summary
    assert summary["predicted_slope_eg"] < -0.5
    # part 2: b3_source at D = 600, 10 sample sizes x 12 draws: the simulated E_g within 3.5 standard errors
    # of the theory at every P, and chi^2 per point about 1 (not far above; far below would mean inflated SEs)
    assert (summary["n_points"], summary["n_draws"]) == (10, 12)
    assert summary["max_abs_z_eg"] < 3.5, summary
    assert 0.05 < summary["chi2_per_point_eg"] < 3.0, summary
    assert summary["median_rel_dev_eg"] < 0.2, summary
    # the page shows the run: both figures and the summary's numbers
    tutorial = page(site, "tutorial.html")
    images = re.findall(r'<img [^>]*src="(_images/[^"]+\.png)"', tutorial)
    assert len(images) == 2 and all((site[0] / src).is_file() for src in images), images
    assert f"{summary['max_abs_z_eg']!r}" in text_of(tutorial)


def test_a_docstring_warning_fails_the_build_under_this_configuration(tmp_path):
    """docs/conf.py's suppressed warnings (myst.header only) leave a reST error in a docstring fatal."""
    src = tmp_path / "src"
    (src / "badmod").mkdir(parents=True)
    (src / "badmod" / "__init__.py").write_text('"""Returns |x - y| unquoted, a reST substitution."""\n')
    (tmp_path / "conf.py").write_text((DOCS / "conf.py").read_text())
    (tmp_path / "index.md").write_text("# Bad\n\n```{eval-rst}\n.. automodule:: badmod\n```\n")
    env = {**os.environ, "PYTHONPATH": f"{src}:{ROOT / 'src'}"}
    argv = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(tmp_path), str(tmp_path / "out")]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode != 0
    assert "badmod" in proc.stderr and "substitution" in proc.stderr, proc.stderr
