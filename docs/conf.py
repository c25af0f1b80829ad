"""Sphinx configuration of the ridgerenorm documentation site.

Build it from the repository root (tests/test_docs.py does the same with warnings as errors):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The Markdown pages of docs/ and README.md are read by MyST (through myst-nb, which also renders the tutorial
notebook); the API reference is generated from the docstrings by autodoc.  The tutorial notebook is executed
during the build (myst-nb, once), so the site shows its current figures and numbers.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SRC = DOCS.parent / "src"
# This checkout's code, also where another copy of the package is installed: for autodoc here, and for the
# tutorial's kernel, a subprocess that inherits PYTHONPATH.
sys.path.insert(0, str(SRC))
os.environ["PYTHONPATH"] = os.pathsep.join([str(SRC)] + [p for p in [os.environ.get("PYTHONPATH")] if p])

import ridgerenorm  # noqa: E402  (after the path above)

project = "ridgerenorm"
author = "the ridgerenorm authors"
copyright = "the ridgerenorm authors (MIT licence)"
release = ridgerenorm.__version__
version = release

extensions = [
    "myst_nb",  # MyST Markdown pages and the executed tutorial notebook
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # numpydoc sections (Parameters, Returns, Examples) of the docstrings
]
# only numpydoc's underlined sections are read as such; a docstring's "name: text" lines stay as written
napoleon_google_docstring = False

# Pages are .md, .rst and .ipynb files (paper_parameters.yaml is data); _build and executed copies are output.
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

# A docstring's literal blocks are tables and formulas, not Python: shown plain (fenced code names its language).
highlight_language = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "signature"  # annotations stay with their argument (many arguments have none)
# Only numpydoc sections are parsed: a Google-style "Returns:" line in other docstrings stays plain text.
napoleon_google_docstring = False
napoleon_numpy_docstring = True

html_theme = "alabaster"
html_title = f"ridgerenorm {release}"
html_theme_options = {"page_width": "min(1500px, 96vw)", "body_max_width": "none", "sidebar_width": "240px",
                      "fixed_sidebar": True}
html_static_path = ["_static"]  # custom.css
