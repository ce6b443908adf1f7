from functools import cached_property

from auditlog.middleware import AuditlogMiddleware
from django.urls import reverse


class AdminAuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (the signed-in user becomes the actor of audit-log
    entries), for admin requests only: money records are changed by staff only there,
    and reading request.user on every public page would load its session from the
    database and add `Vary: Cookie` to pages the page cache serves to everyone."""

    @cached_property
    def admin_prefix(self):
        return reverse("admin:index")

    def __call__(self, request):
        if not request.path_info.startswith(self.admin_prefix):
            return self.get_response(request)
        return super().__call__(request)
