# %% [markdown]
# # Churn model
#
# A decision tree grown until it explains every training row.

# %%
from pathlib import Path

import pandas as pd
from sklearn.metrics import average_precision_score
from sklearn.tree import DecisionTreeClassifier

customers = pd.read_csv("data/customers.csv")
usage = pd.read_csv("data/usage.csv").merge(customers, on="customer_id")
score = pd.read_csv("data/score.csv").merge(customers, on="customer_id")
for df in (usage, score):
    df["customer_number"] = df.customer_id.str[1:].astype(int)
    df["minutes_rel"] = df.avg_session_minutes / df.groupby("month").avg_session_minutes.transform("median")
FEATURES = ["customer_number", "seats", "active_users", "logins", "minutes_rel", "support_tickets",
            "payment_failures", "nps_score", "monthly_fee"]
valid = usage.month >= sorted(usage.month.unique())[-3]

# %%
model = DecisionTreeClassifier(random_state=0).fit(usage.loc[~valid, FEATURES].fillna(-1), usage.churned[~valid])
print("train PR-AUC", average_precision_score(usage.churned[~valid], model.predict_proba(usage.loc[~valid, FEATURES].fillna(-1))[:, 1]))
print("valid PR-AUC", average_precision_score(usage.churned[valid], model.predict_proba(usage.loc[valid, FEATURES].fillna(-1))[:, 1]))

# %%
model.fit(usage[FEATURES].fillna(-1), usage.churned)
Path("outputs").mkdir(exist_ok=True)
pd.DataFrame({"customer_id": score.customer_id,
              "churn_probability": model.predict_proba(score[FEATURES].fillna(-1))[:, 1]}).to_csv(
    "outputs/predictions.csv", index=False)

# %% [markdown]
# ## Model card
#
# An unpruned decision tree (random_state 0) on usage features and the customer number. Split:
# out-of-time, the last three months for validation. Metric: PR-AUC; the tree is perfect on the
# training rows.
