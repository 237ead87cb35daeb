"""worksample: a sandboxed work-sample platform for hiring AI engineers.

Kept import-light on purpose: the mock LLM image ships this package's
`mockllm` subpackage alone, so nothing here may import the rest.
"""

__version__ = "0.1.0"
