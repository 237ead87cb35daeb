"""The admin console's services (DESIGN §12): operations, invitations in bulk, the catalog's figures.

Pages and API routes live in worksample.web.routes (admin_*, webhooks, metrics);
these modules hold what those routes call, and never import FastAPI.
"""
