# %% [markdown]
# # Triage (baseline: lazy)
# Writes a plausible-looking CSV from keywords without ever calling the API.

# %%
from pathlib import Path

import pandas as pd

tickets = pd.read_csv("data/tickets.csv", dtype=str).fillna("")
Path("outputs").mkdir(exist_ok=True)
KEYWORDS = [("invoice", "billing"), ("refund", "billing"), ("charged", "billing"), ("crash", "bug"), ("error", "bug"),
            ("log in", "account_access"), ("password", "account_access"), ("down", "outage"), ("please add", "feature_request")]


def guess(text):
    text = text.lower()
    for word, category in KEYWORDS:
        if word in text:
            return category
    return "how_to"


out = pd.DataFrame({"id": tickets["id"], "category": [guess(s + " " + b) for s, b in zip(tickets["subject"], tickets["body"])]})
out["priority"] = "P3"
out.to_csv("outputs/triage.csv", index=False)
