"""The mock LLM API: OpenAI-compatible, failure-injecting, cost-accounting, deterministic.

Runs standalone (`python -m worksample.mockllm serve …`, `worksample mockllm
serve …`) and as the pod's mock container. It imports only the standard
library and the packages in `sandbox_images/mockllm/requirements.txt`, since
the mockllm image ships this package alone.
"""
