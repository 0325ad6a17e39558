"""Error reports (the DEBUG page, error mails) that never show a secret.

Django's filter hides settings and request headers by name, but with DEBUG on it shows every local
variable of every frame as it is, and its name pattern misses vendor signature headers such as
X-Shopify-Hmac-Sha256. This filter applies one name pattern everywhere (settings, headers, cookies,
form fields, local variables and the keys of dictionaries inside them), also with DEBUG on, and
blanks the password of any URL (DATABASE_URL, REDIS_URL, …).
"""

import re
from collections.abc import Mapping

from django.views.debug import SafeExceptionReporterFilter

SENSITIVE_NAMES = re.compile(
    r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HMAC|CREDENTIAL|COOKIE|SESSION|CSRF|DSN|PRIVATE", re.IGNORECASE
)
URL_PASSWORD = re.compile(r"(?<=://)([^/@\s:]*):[^/@\s]+@")
DEEPEST = 20  # deeper structures are replaced whole rather than walked


class HubExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = SENSITIVE_NAMES

    def is_active(self, request):
        return True

    def cleanse_setting(self, key, value):
        if isinstance(key, str) and SENSITIVE_NAMES.search(key):
            return self.cleansed_substitute
        return super().cleanse_setting(key, self.cleanse_value(value))

    def cleanse_value(self, value, depth=0):
        if depth > DEEPEST:
            return self.cleansed_substitute
        if isinstance(value, str):
            return URL_PASSWORD.sub(rf"\1:{self.cleansed_substitute}@", str(value))
        if isinstance(value, Mapping):
            return {
                key: self.cleansed_substitute if isinstance(key, str) and SENSITIVE_NAMES.search(key)
                else self.cleanse_value(item, depth + 1)
                for key, item in value.items()
            }
        if type(value) in (list, tuple):
            return type(value)(self.cleanse_value(item, depth + 1) for item in value)
        return value

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if not any(SENSITIVE_NAMES.search(name) for name in parameters):
            return parameters
        cleansed = parameters.copy()
        for name in cleansed:
            if SENSITIVE_NAMES.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self.cleansed_substitute if SENSITIVE_NAMES.search(name) else self.cleanse_value(value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
