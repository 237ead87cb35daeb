# %% [markdown]
# # Refund agent
#
# Read `README.md` first. Customers write in asking for refunds; build the agent that
# handles them: a loop in which the model (OpenAI tool calling, `OPENAI_BASE_URL` is set)
# picks tools and your code runs them against the company API at http://127.0.0.1:8081.
# Write one line per conversation to `outputs/resolutions.jsonl`.
#
# This starter runs as it is: it shows one model turn and one API call. Everything else is yours.

# %%
import json
from pathlib import Path

import httpx
from openai import OpenAI

client = OpenAI()
api = httpx.Client(base_url="http://127.0.0.1:8081", timeout=10.0)
conversations = [json.loads(line) for line in open("data/conversations.jsonl")]
Path("outputs").mkdir(exist_ok=True)
print(len(conversations), "conversations; the first:")
print(conversations[0]["message"])

# %%
TOOLS = [
    {"type": "function", "function": {"name": "get_order", "description": "Look up an order by id",
     "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}},
    {"type": "function", "function": {"name": "issue_refund", "description": "Refund an order",
     "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"},
                                                      "reason": {"type": "string"}}, "required": ["order_id", "amount"]}}},
    {"type": "function", "function": {"name": "escalate", "description": "Hand the conversation to a human",
     "parameters": {"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}}},
]
messages = [{"role": "system", "content": "You are a refund agent for an online shop."},
            {"role": "user", "content": conversations[0]["message"]}]
reply = client.chat.completions.create(model="atlas-mini", messages=messages, tools=TOOLS)
call = (reply.choices[0].message.tool_calls or [None])[0]
print("the model asks for:", call.function.name if call else None, call.function.arguments if call else reply.choices[0].message.content)

# %%
# One read-only call to the company API (see README.md for every endpoint).
order_id = json.loads(call.function.arguments).get("order_id", "") if call else ""
r = api.get(f"/orders/{order_id}")
print(r.status_code, r.text[:300])

# %%
# TODO: the agent loop. For now every conversation is left unresolved.
with open("outputs/resolutions.jsonl", "w") as out:
    for conv in conversations:
        out.write(json.dumps({"conversation_id": conv["id"], "action": "unresolved"}) + "\n")
