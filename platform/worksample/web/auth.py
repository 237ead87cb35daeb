"""Deprecated: the staff dependency lives in `worksample.web.deps` (bearer token or session, CSRF).

Kept only so modules not yet moved keep importing; `require_staff` here is the
ready-made reviewer dependency (`Depends(require_staff)`), not the factory.
"""

from worksample.web.deps import Staff, require_admin  # noqa: F401
from worksample.web.deps import require_reviewer as require_staff  # noqa: F401
