"""The hiring team's side (DESIGN §11): who may see what, the candidate tables, reviews and decisions.

- `viewer`: who is looking (role, blind review) and the stable pseudonyms and queue order;
- `rows`: one row per invitation (stage, score, reviews, decision, time, cost) in a constant number of queries;
- `reviews`: rubric reviews (validated, one per reviewer) and admin decisions;
- `detail`: everything the review page of one submission shows;
- `timeline`: the attempt's activity as inline SVG;
- `export`: the CSV export.

Routes live in `web/routes/review_pages.py` (HTML) and `web/routes/reviews.py` (JSON).
"""
