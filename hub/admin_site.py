"""The admin site: login with a second factor (django-otp TOTP) and a clear page when throttled (django-axes).

HUB_ADMIN_2FA: `required` — every staff user gives a code from an enrolled authenticator;
`optional` (default) — staff who enrolled one give its code, the others their password alone;
`off` — passwords only.
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


def second_factor_expected(user) -> bool:
    mode = settings.HUB_ADMIN_2FA
    if mode == "off":
        return False
    if mode == "required":
        return True
    return user_has_device(user)


class HubAdminLoginForm(OTPAdminAuthenticationForm):
    otp_token = forms.CharField(
        required=False, label=_("Authentication code"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_device = forms.CharField(required=False, label=_("Authenticator"), widget=forms.Select)
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": _("Enter the code your authenticator app shows for this account."),
        "invalid_token": _("That code is wrong or was already used; enter the code your authenticator app shows now."),
    }

    def clean_otp(self, user):
        if user is None or not second_factor_expected(user):
            return
        if not user_has_device(user):
            raise forms.ValidationError(
                _("The admin requires two-factor authentication and no authenticator is enrolled for this account; "
                  "an administrator can enrol one with: manage.py hub_2fa enrol %(username)s"),
                code="not_enrolled", params={"username": user.get_username()},
            )
        super().clean_otp(user)

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            # With a single authenticator there is nothing to choose: verify against it.
            devices = list(devices_for_user(user, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device


# Third-party apps whose names French readers would otherwise see in English or as a code.
APP_NAMES = {"django_q": _("Background tasks"), "otp_totp": _("Two-factor authentication"), "axes": _("Login security")}
MODEL_NAMES = {
    ("django_q", "failure"): _("Failed tasks"), ("django_q", "success"): _("Successful tasks"),
    ("django_q", "schedule"): _("Scheduled tasks"), ("django_q", "ormq"): _("Queued tasks"),
    ("otp_totp", "totpdevice"): _("Authenticator apps (TOTP)"),
}


class HubAdminSite(OTPAdminSite):
    site_header = "ERP Hub"
    site_title = "ERP Hub"
    index_title = _("Operations")
    index_template = "admin/hub_index.html"
    login_form = HubAdminLoginForm
    login_template = "admin/hub_login.html"

    def __init__(self, name="admin"):
        super().__init__(name)

    def has_permission(self, request):
        return AdminSite.has_permission(self, request) and (
            request.user.is_verified() or not second_factor_expected(request.user)
        )

    def index(self, request, extra_context=None):
        from hub.overview import overview_panels

        return super().index(request, {"overview_panels": overview_panels(request), **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            app["name"] = APP_NAMES.get(app["app_label"], app["name"])
            for model in app["models"]:
                model["name"] = MODEL_NAMES.get((app["app_label"], model["object_name"].lower()), model["name"])
            app["models"].sort(key=lambda model: str(model["name"]).lower())
        return sorted(apps, key=lambda app: str(app["name"]).lower())

    def each_context(self, request):
        return {**super().each_context(request), "two_factor": settings.HUB_ADMIN_2FA}


def client_address(request) -> str:
    """The browser's address for login throttling: REMOTE_ADDR, or with HUB_TRUSTED_PROXIES=N the N-th
    address from the right of X-Forwarded-For (each trusted proxy appends the address it received
    from; entries further left are whatever the client sent)."""
    proxies = settings.HUB_TRUSTED_PROXIES
    if proxies:
        forwarded = [address.strip() for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if address.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def login_locked(request, original_response=None, credentials=None):
    """django-axes' answer once a username has failed too often from one address."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(request, "admin/login_locked.html", {**admin.site.each_context(request), "minutes": minutes}, status=429)
