"""Sphinx configuration of the ridgerenorm documentation site.

Build it from the repository root (tests/test_docs.py does the same with warnings as errors):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The Markdown pages of docs/ and README.md are read by MyST (through myst-nb, which also renders the tutorial
notebook); the API reference is generated from the docstrings by autodoc.  The tutorial notebook is executed
during the build (myst-nb, once), so the site shows its current figures and numbers.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SRC = DOCS.parent / "src"
if str(SRC) not in sys.path:  # a source checkout that was not installed still documents its own code
    sys.path.insert(0, str(SRC))

import ridgerenorm  # noqa: E402  (after the path above)

project = "ridgerenorm"
author = "the ridgerenorm authors"
copyright = "the ridgerenorm authors (MIT licence)"
release = ridgerenorm.__version__
version = release

extensions = [
    "myst_nb",  # MyST Markdown pages and the executed tutorial notebook
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the few NumPy-style "Parameters" sections
]

# Only the site's own sources: paper_parameters.yaml is data (the figures page links it), _build is output.
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# MyST: heading anchors so that README links such as docs/figures.md#parameter-trace resolve.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
# docs/figures.md's generated parameter trace (tests/test_paper_parameters.py --write) puts its per-figure
# tables under H4 headings right below an H2; that jump is deliberate there, not a broken page.
suppress_warnings = ["myst.header"]

# The tutorial runs once per build, in docs/ (it reads ../config), and a failing cell fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"
napoleon_google_docstring = False

html_theme = "alabaster"
html_title = f"ridgerenorm {release}"
html_theme_options = {"page_width": "1180px", "sidebar_width": "240px", "fixed_sidebar": True}
html_static_path = []
