# %% [markdown]
# # Churn model
#
# Read `README.md` first. Deliverables: `outputs/predictions.csv` (`customer_id,churn_probability`
# for every customer in `data/score.csv`) and a short model card at the end of this notebook.

# %%
from pathlib import Path

import numpy as np
import pandas as pd

customers = pd.read_csv("data/customers.csv")
usage = pd.read_csv("data/usage.csv")
score = pd.read_csv("data/score.csv")
print(f"{len(customers)} customers, {len(usage)} usage rows ({usage.month.min()} to {usage.month.max()}), "
      f"{len(score)} customers to score ({score.month.iloc[0]})")
usage.head()

# %%
print("churn rate per month:")
usage.groupby("month").churned.mean().round(3)

# %% [markdown]
# ## Your model
#
# TODO: train a model and write `outputs/predictions.csv` with a churn probability for every
# customer in `data/score.csv`.

# %%
# TODO


# %% [markdown]
# ## Model card
#
# TODO: what the model predicts and from what; how you split the data to validate it and why;
# the metrics you used and the values you got; known limits and what to monitor.
