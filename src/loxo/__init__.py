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

from loxo.client import Client
from loxo.errors import LoxoError

__version__ = "0.1.0"
__all__ = ["Client", "LoxoError", "__version__"]
