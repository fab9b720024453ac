"""Tables shipped with the package (built by ``python -m tasks.collections.sklearn_built build``)."""
