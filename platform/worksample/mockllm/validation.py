"""Request bodies checked the way the real API checks them, naming the bad param.

Hand-written rather than pydantic: it runs on every request, and the errors
must use the API's own wording and param paths (`messages[1].content`).
Unknown top-level parameters are accepted, since SDK versions add new ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from worksample.mockllm.wire import ApiError, bad_param

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


@dataclass
class ChatRequest:
    """A validated chat completion request."""

    model: str
    messages: list[dict]  # flattened: content is a str
    stream: bool
    include_usage: bool
    max_tokens: int | None
    response_format: dict | None
    tools: list[dict] | None
    tool_choice: object | None


@dataclass
class EmbeddingRequest:
    """A validated embeddings request."""

    model: str
    inputs: list[str]
    encoding_format: str
    dimensions: int | None


def _missing(param: str) -> ApiError:
    return bad_param(param, f"Missing required parameter: '{param}'.", "missing_required_parameter")


def _type(param: str, expected: str) -> ApiError:
    return bad_param(param, f"Invalid type for '{param}': expected {expected}.", "invalid_type")


def require_object(body: object) -> dict:
    """The body must be a JSON object."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", "invalid_request_error", None, None)
    return body


def model_of(body: dict) -> str:
    """The `model` param, which every POST endpoint requires."""
    model = body.get("model")
    if model is None:
        raise _missing("model")
    if not isinstance(model, str) or not model:
        raise _type("model", "a non-empty string")
    return model


def _flatten(content: object, param: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        parts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict) or "type" not in part:
                raise _type(f"{param}[{i}]", "an object with a type")
            if part["type"] in ("text", "input_text"):
                if not isinstance(part.get("text"), str):
                    raise _type(f"{param}[{i}].text", "a string")
                parts.append(part["text"])
        return "\n".join(parts)
    raise _type(param, "one of a string or array of objects")


def _messages(raw: object) -> list[dict]:
    if raw is None:
        raise _missing("messages")
    if not isinstance(raw, list):
        raise _type("messages", "an array")
    if not raw:
        raise bad_param("messages", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "empty_array")
    out = []
    for i, msg in enumerate(raw):
        if not isinstance(msg, dict):
            raise _type(f"messages[{i}]", "an object")
        role = msg.get("role")
        if role is None:
            raise _missing(f"messages[{i}].role")
        if role not in ROLES:
            raise bad_param(f"messages[{i}].role", f"Invalid value: '{str(role)[:40]}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.")
        if "content" not in msg and role != "assistant":
            raise _missing(f"messages[{i}].content")
        flat = dict(msg)
        flat["content"] = _flatten(msg.get("content"), f"messages[{i}].content")
        out.append(flat)
    return out


def _max_tokens(body: dict) -> int | None:
    for param in ("max_completion_tokens", "max_tokens"):
        value = body.get(param)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type(param, "an integer")
        if value < 1:
            raise bad_param(param, f"Invalid '{param}': integer below minimum value. Expected a value >= 1, but got {value} instead.", "integer_below_min_value")
        return value
    return None


def _number(body: dict, param: str, low: float, high: float) -> None:
    value = body.get(param)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type(param, "a number")
    if not low <= value <= high:
        raise bad_param(param, f"Invalid '{param}': expected a value between {low} and {high}, but got {value} instead.")


def _response_format(raw: object) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in ("text", "json_object", "json_schema"):
        raise bad_param("response_format.type", "Invalid value for 'response_format.type': expected one of 'text', 'json_object', 'json_schema'.")
    if raw["type"] == "json_schema":
        spec = raw.get("json_schema")
        if not isinstance(spec, dict):
            raise _missing("response_format.json_schema")
        if not isinstance(spec.get("name"), str):
            raise _missing("response_format.json_schema.name")
        if "schema" in spec and not isinstance(spec["schema"], dict):
            raise _type("response_format.json_schema.schema", "an object")
    return None if raw["type"] == "text" else raw


def _tools(raw: object) -> list[dict] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _type("tools", "an array")
    for i, tool in enumerate(raw):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict):
            raise _missing(f"tools[{i}].function")
        if not isinstance(fn.get("name"), str) or not fn["name"]:
            raise _missing(f"tools[{i}].function.name")
        if "parameters" in fn and not isinstance(fn["parameters"], dict):
            raise _type(f"tools[{i}].function.parameters", "an object")
    return raw or None


def chat_request(body: object) -> ChatRequest:
    """Validate a chat completion body; raises ApiError (400) naming the param."""
    body = require_object(body)
    model = model_of(body)
    messages = _messages(body.get("messages"))
    max_tokens = _max_tokens(body)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    n = body.get("n")
    if n is not None and n != 1:
        raise bad_param("n", "Invalid 'n': this API supports only n=1.")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _type("stream", "a boolean")
    opts = body.get("stream_options")
    if opts is not None and (not isinstance(opts, dict) or not stream):
        raise bad_param("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
    return ChatRequest(
        model=model, messages=messages, stream=bool(stream),
        include_usage=bool(opts and opts.get("include_usage")), max_tokens=max_tokens,
        response_format=_response_format(body.get("response_format")), tools=_tools(body.get("tools")),
        tool_choice=body.get("tool_choice"),
    )


def embedding_request(body: object) -> EmbeddingRequest:
    """Validate an embeddings body; raises ApiError (400) naming the param."""
    body = require_object(body)
    model = model_of(body)
    raw = body.get("input")
    if raw is None:
        raise _missing("input")
    if isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        inputs = [" ".join(map(str, raw))]  # one pre-tokenised input
    elif isinstance(raw, list) and raw and len(raw) <= 2048:
        inputs = []
        for i, item in enumerate(raw):
            if isinstance(item, str):
                inputs.append(item)
            elif isinstance(item, list) and all(isinstance(x, int) for x in item):
                inputs.append(" ".join(map(str, item)))
            else:
                raise _type(f"input[{i}]", "a string or an array of integers")
    else:
        raise bad_param("input", "Invalid 'input': expected a non-empty string or array of at most 2048 items.")
    if any(not s for s in inputs):
        raise bad_param("input", "'$.input' is invalid: inputs must not be empty strings.")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise bad_param("encoding_format", "Invalid value for 'encoding_format': expected 'float' or 'base64'.")
    dims = body.get("dimensions")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims < 1):
        raise bad_param("dimensions", "Invalid 'dimensions': expected a positive integer.")
    return EmbeddingRequest(model, inputs, fmt, dims)
