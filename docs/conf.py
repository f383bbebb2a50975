"""Sphinx configuration of the flasc_cluster documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html``
from the repository root (``pip install ".[docs]"`` first). Figures are made
by the library itself while the pages build (matplotlib's plot directive).
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# the source tree, so the docs describe this checkout even if an older
# flasc_cluster is installed
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")

import flasc_cluster  # noqa: E402

project = "flasc_cluster"
author = "flasc_cluster developers"
copyright = "flasc_cluster developers"
version = release = flasc_cluster.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"

# -- autodoc / autosummary / numpydoc ---------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing setters."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)


intersphinx_mapping = {}

# -- figures made at build time ---------------------------------------------
# Example code reads the shared data sets from ../shared/data relative to the
# repository root, so it runs from there.
plot_working_directory = str(ROOT)
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 90)]
plot_rcparams = {
    "figure.dpi": 90,
    "savefig.bbox": "tight",
    "font.size": 9,
    "figure.constrained_layout.use": True,
}
plot_apply_rcparams = True
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"flasc_cluster {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False
