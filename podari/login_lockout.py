"""Admin login lockout: django-axes' database handler plus a limit per address.

Axes counts failures per (user name, address) pair, so someone guessing four passwords
each for many user names is never locked out. This handler also counts every failure
from the address, whatever the user name, and locks the address out once there are
AXES_ADDRESS_FAILURE_LIMIT of them within AXES_COOLOFF_TIME. The limit is higher than
the per-pair one, so colleagues behind one office address who mistype now and then are
not locked out together.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None):
        failures = super().get_failures(request, credentials)
        if self._address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            # Axes compares this number with AXES_FAILURE_LIMIT: report the address as locked.
            return max(failures, get_failure_limit(request, credentials))
        return failures

    def _address_failures(self, request):
        attempts = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,
            attempt_time__gte=get_cool_off_threshold(request),
        )
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
