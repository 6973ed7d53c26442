"""The donations app's URLs, mounted at the site root by fund.urls: Stripe's webhook, the donor's
pages under /f/<fund>/give/ and /give/, and the treasurer's under /staff/gifts/."""

from django.urls import path

from donations.views import demo_checkout, give, reconciliation, staff, webhook

urlpatterns = [
    path("stripe/webhook/", webhook.stripe_webhook, name="stripe_webhook"),
    # The donor's pages (public, no account).
    path("f/<slug:slug>/give/", give.give, name="donations_give"),
    path("f/<slug:slug>/give/thanks/", give.give_thanks, name="donations_give_thanks"),
    path("give/monthly/<str:token>/", give.manage_monthly, name="donations_manage_monthly"),
    # Demo mode only (a 404 otherwise): the local stand-in for Stripe's hosted Checkout.
    path(
        "give/demo-checkout/<str:session>/",
        demo_checkout.demo_checkout,
        name="donations_demo_checkout",
    ),
    # The treasurer's screens (GIFT_READERS; recording: GIFT_RECORDERS).
    path("staff/gifts/", staff.gift_list, name="donations_gifts"),
    path("staff/gifts/gifts.csv", staff.gift_export, name="donations_gifts_csv"),
    path("staff/gifts/new/", staff.gift_new, name="donations_gift_new"),
    path("staff/gifts/<int:pk>/", staff.gift_detail, name="donations_gift"),
    path("staff/gifts/<int:pk>/return/", staff.gift_return, name="donations_gift_return"),
    path("staff/gifts/deposits/", staff.deposit_list, name="donations_deposits"),
    path("staff/gifts/deposits/new/", staff.deposit_new, name="donations_deposit_new"),
    path(
        "staff/gifts/deposits/new/<slug:slug>/",
        staff.deposit_new,
        name="donations_deposit_new_for",
    ),
    path("staff/gifts/deposits/<int:pk>/", staff.deposit_detail, name="donations_deposit"),
    path("staff/gifts/deposits/<int:pk>/void/", staff.deposit_void, name="donations_deposit_void"),
    path("staff/gifts/pledges/", staff.pledge_list, name="donations_pledges"),
    path("staff/gifts/pledges/new/", staff.pledge_new, name="donations_pledge_new"),
    path("staff/gifts/pledges/<int:pk>/", staff.pledge_detail, name="donations_pledge"),
    path("staff/gifts/donors/", staff.donor_list, name="donations_donors"),
    path("staff/gifts/donors/find/", staff.donor_find, name="donations_donor_find"),
    path("staff/gifts/donors/<int:pk>/", staff.donor_detail, name="donations_donor"),
    path("staff/gifts/donors/<int:pk>/edit/", staff.donor_edit, name="donations_donor_edit"),
    path("staff/gifts/payouts/", reconciliation.payouts, name="donations_payouts"),
    path("staff/gifts/payouts/<int:pk>/", reconciliation.payout_detail, name="donations_payout"),
    path(
        "staff/gifts/payouts/<int:pk>/check/",
        reconciliation.payout_recheck,
        name="donations_payout_recheck",
    ),
]
