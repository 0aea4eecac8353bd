"""loxo: versioned data and data-driven, parallel, incremental pipelines.

Data lives in **repos** with Git-like **branches** and **commits**; every commit is an
immutable snapshot of a file tree, stored content-addressed and deduplicated. Start with::

    import loxo
    client = loxo.Client()            # the embedded store under $LOXO_HOME (~/.loxo)
    client.create_repo("images")
    client.put_file("images@master", "/a.png", open("a.png", "rb"))

The package is layered, each layer importing only those below it:
``storage`` (bytes by content) <- ``pfs`` (versioned files) <- ``service`` (the one façade)
<- ``client`` (Python SDK) and ``cli`` (the ``loxo`` command).
"""

from typing import TYPE_CHECKING, Any

from loxo.errors import LoxoError

if TYPE_CHECKING:
    from loxo.client import Client

__version__ = "0.1.0"
__all__ = ["Client", "LoxoError", "__version__"]


def __getattr__(name: str) -> Any:
    # ``Client`` is imported on first use: worker processes, which import ``loxo.execution``
    # and never a client, start without the service and its dependencies (~0.25 s)
    if name == "Client":
        from loxo.client import Client

        return Client
    raise AttributeError(f"module 'loxo' has no attribute {name!r}")
