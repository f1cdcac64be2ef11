"""revlens: a self-hostable Stripe Connect extension for subscription analytics."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("revlens")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
