"""Development: everything on embedded defaults (no server needed)."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = env.bool("DEBUG", default=True)
# A development-only key; production has no default (see production.py).
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-8c1f0d7e-do-not-use-in-production"  # noqa: S105
# Serve files straight from STATICFILES_DIRS and app folders, no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
