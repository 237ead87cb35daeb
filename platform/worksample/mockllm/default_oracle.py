"""The oracle used when a task ships none: plausible, deterministic, shape-correct.

Plain requests get a few sentences that echo the question; JSON mode gets a
JSON object; a JSON schema gets an instance of that schema; tools get a call
to one of them with arguments shaped by its parameter schema. Everything is
drawn from the request's seeded rng, so the same request gives the same answer.
"""

from __future__ import annotations

import json
import random

from worksample.mockllm.oracle import OracleAnswer, OracleContext, OracleRequest

_WORDS = (
    "the request was reviewed and the main issue appears to be related to billing the account "
    "settings were checked recently a refund may apply after verification the customer reports "
    "an error when logging in support should follow up within two business days priority is "
    "moderate and the next step is to confirm the details with the team"
).split()
_MAX_DEPTH = 6


def make_oracle(ctx: OracleContext):
    """The default oracle factory (same signature a task's oracle.py provides)."""

    def oracle(request: OracleRequest) -> OracleAnswer:
        return answer(request)

    return oracle


def answer(request: OracleRequest) -> OracleAnswer:
    """Decide the default answer for one request."""
    rng = request.rng
    tool = _pick_tool(request)
    if tool is not None:
        params = tool.get("function", {}).get("parameters") or {"type": "object", "properties": {}}
        args = instance(params, rng, params)
        return OracleAnswer(tool_calls=[{"name": tool["function"]["name"], "arguments": args if isinstance(args, dict) else {}}])
    fmt = request.response_format or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
        return OracleAnswer(content=json.dumps(instance(schema, rng, schema)))
    if fmt.get("type") == "json_object":
        return OracleAnswer(content=json.dumps({"answer": sentence(rng, 8), "confidence": round(rng.random(), 2)}))
    return OracleAnswer(content=_prose(request, rng))


def _pick_tool(request: OracleRequest) -> dict | None:
    tools = [t for t in request.tools or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    if not tools or request.tool_choice == "none":
        return None
    if request.messages and request.messages[-1].get("role") == "tool" and request.tool_choice in (None, "auto"):
        return None  # a tool result came back: answer in words now
    choice = request.tool_choice
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        for tool in tools:
            if tool["function"].get("name") == name:
                return tool
    return tools[request.rng.randrange(len(tools))]


def _prose(request: OracleRequest, rng: random.Random) -> str:
    last = next((m.get("content") or "" for m in reversed(request.messages) if m.get("role") == "user"), "")
    topic = " ".join(last.split()[:8])
    lead = f"Regarding \"{topic}\": " if topic else ""
    return lead + " ".join(sentence(rng, rng.randint(8, 16)) for _ in range(rng.randint(2, 5)))


def sentence(rng: random.Random, words: int) -> str:
    """A capitalised sentence of `words` words from a small vocabulary."""
    text = " ".join(rng.choices(_WORDS, k=max(words, 1)))
    return text[0].upper() + text[1:] + "."


def instance(schema: object, rng: random.Random, root: dict, depth: int = 0) -> object:
    """A value that validates against `schema` (the common JSON Schema subset)."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        return instance(_resolve(schema["$ref"], root), rng, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [s for s in schema[key] if not (isinstance(s, dict) and s.get("type") == "null")]
            return instance((options or schema[key])[0], rng, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {name: instance(sub, rng, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        low = int(schema.get("minItems", 1))
        high = max(low, min(int(schema.get("maxItems", 3)), low + 3))
        return [instance(schema.get("items") or {}, rng, root, depth + 1) for _ in range(rng.randint(low, high))]
    return _scalar(kind, schema, rng)


def _scalar(kind: object, schema: dict, rng: random.Random) -> object:
    if kind == "integer":
        low = int(schema.get("minimum", 0))
        return rng.randint(low, max(low, int(schema.get("maximum", low + 100))))
    if kind == "number":
        low = float(schema.get("minimum", 0.0))
        return round(rng.uniform(low, max(low, float(schema.get("maximum", low + 1.0)))), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    text = sentence(rng, rng.randint(2, 6))
    if "maxLength" in schema:
        text = text[: max(int(schema["maxLength"]), 0)]
    return text.ljust(int(schema.get("minLength", 0)), "x")


def _resolve(ref: object, root: dict) -> object:
    # Local references only (#/$defs/X, #/definitions/X): what pydantic and the SDK emit.
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return {}
    node: object = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict):
            return {}
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node if isinstance(node, dict) else {}
