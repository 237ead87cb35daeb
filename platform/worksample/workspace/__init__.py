"""Candidate attempts: invitations, the attempt's pod with JupyterLab, the proxy, deadlines, submission.

Modules, each owning one thing:
  catalog_sync  tasks/ folders into the `tasks` table
  invitations   invite tokens: create, resolve, revoke
  access        attempt cookies and the guess rate limit
  pods          the attempt's pod: workspace, JupyterLab on a unix socket, find it again
  attempts      start, state, extend
  snapshot      copy a workspace out without trusting it
  submit        submit now or at the deadline; the deadline sweep
  activity      what the candidate did (cells run, saves, kernel restarts)
  proxy         HTTP and websocket reverse proxy to the pod's JupyterLab
"""
