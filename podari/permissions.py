"""What staff may do is decided by their permissions, not only by being staff."""

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied


def staff_with_any_permission(*perms):
    """Staff only (others go to the admin login), and only with one of these permissions."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not any(request.user.has_perm(perm) for perm in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return staff_member_required(checked)

    return decorator


# The Markdown editor (upload and preview) is for people who edit stories, projects or pages.
EDITOR_PERMISSIONS = ("stories.change_story", "donations.change_project", "charity.change_page")
