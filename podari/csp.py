"""django-csp's middleware, minus the work for responses exempt from the policy."""

from csp.middleware import CSPMiddleware
from django.conf import settings


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp builds the whole policy for every response, then drops it for an exempt
    one. The exempt ones here are Stripe's webhook answers, which arrive by the thousand
    in a giving spike; with no report-only policy configured they need nothing at all."""

    def process_response(self, request, response):
        if getattr(response, "_csp_exempt", False) and not getattr(
            settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None
        ):
            return response
        return super().process_response(request, response)
