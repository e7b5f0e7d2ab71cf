"""bolo: be on the lookout."""

# The one place the version is written: pyproject.toml reads it (setuptools' dynamic
# version), `bolo --version`, the OpenAPI document and the metrics report it.
__version__ = "0.1.0"
