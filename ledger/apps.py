from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger and reports"

    def ready(self):
        from auditlog.registry import auditlog

        from donations.models import Gift, GiftMove
        from ledger.models import FundUse, OfflineGift

        # Every change to a money record keeps who, when, and the values before and after.
        # A proxy model sends its own signals, so offline gifts are registered too.
        for model in (Gift, OfflineGift, GiftMove):
            auditlog.register(model)
        auditlog.register(FundUse, m2m_fields={"stories"})
