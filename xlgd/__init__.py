"""xlgd: gradient descent in a spreadsheet, every number a formula you can click on."""

__version__ = "0.1.0"

_API = ("generate", "run", "sweep", "read")


def __getattr__(name):
    # The notebook API (xlgd.run, xlgd.sweep, xlgd.generate, xlgd.read) pulls in pandas, an import
    # command-line runs (verify of a big workbook aims at a few seconds) need not pay.
    if name in _API:
        from .errors import dependency_error

        try:
            from . import api
        except ImportError as e:
            raise (dependency_error(e, f"xlgd.{name}") or e) from e
        function = globals()[name] = _environment_errors(getattr(api, name))  # looked up once
        return function
    raise AttributeError(f"module 'xlgd' has no attribute {name!r}")


def _environment_errors(function):
    """`function`, raising MissingDependency (an XlgdError) where a dependency it imports is
    missing or broken; every other exception passes as it is."""
    import functools

    from .errors import dependency_error

    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ImportError as e:
            raise (dependency_error(e, f"xlgd.{function.__name__}") or e) from e

    return call
