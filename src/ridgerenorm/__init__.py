"""ridgerenorm: theory and simulation for 'Scaling and renormalization in high-dimensional regression'."""

try:  # written from git by setuptools-scm when the package is built or installed (git-ignored)
    from ._version import __version__
except ImportError:  # a source tree on sys.path that was never installed: ask the installed metadata
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("ridgerenorm")
    except PackageNotFoundError:
        __version__ = "0+unknown"
