# %% [markdown]
# # Churn model
#
# A random forest on the usage table, validated on a random 20 % of the rows.

# %%
from pathlib import Path

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split

customers = pd.read_csv("data/customers.csv")
usage = pd.read_csv("data/usage.csv").merge(customers, on="customer_id")
score = pd.read_csv("data/score.csv").merge(customers, on="customer_id")
FEATURES = ["seats", "active_users", "logins", "avg_session_minutes", "support_tickets", "payment_failures",
            "nps_score", "monthly_fee"]


def prepare(df):
    X = df[FEATURES].fillna(-1)
    return pd.concat([X, pd.get_dummies(df.plan, prefix="plan", dtype=int)], axis=1)


X, y = prepare(usage), usage.churned
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)

# %%
model = RandomForestClassifier(n_estimators=100, min_samples_leaf=5, n_jobs=1, random_state=0).fit(X_train, y_train)
print("valid PR-AUC", round(average_precision_score(y_valid, model.predict_proba(X_valid)[:, 1]), 3))

# %%
model.fit(X, y)
Path("outputs").mkdir(exist_ok=True)
pd.DataFrame({"customer_id": score.customer_id, "churn_probability": model.predict_proba(prepare(score))[:, 1]}).to_csv(
    "outputs/predictions.csv", index=False)

# %% [markdown]
# ## Model card
#
# Random forest (100 trees, 5 rows per leaf, random_state 0) on the usage features and the plan.
# Split: a random, stratified 80/20 split of the rows. Metric: PR-AUC (average precision) on the
# 20 % validation rows, because churn is rare. Trained on all rows at the end. Probabilities are the
# forest's vote shares.
