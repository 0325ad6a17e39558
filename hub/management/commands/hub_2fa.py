import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.services import staff_totp_enrol, staff_totp_remove


class Command(BaseCommand):
    help = "Two-factor authentication for the admin: enrol a TOTP authenticator for a user, list or remove them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        enrol = sub.add_parser("enrol", help="Create an authenticator and print its otpauth:// URI and a QR code to scan.")
        enrol.add_argument("username")
        enrol.add_argument("--name", default="authenticator", help="Label of the authenticator (e.g. 'phone').")
        sub.add_parser("list", help="Users with an authenticator.")
        remove = sub.add_parser("remove", help="Remove every authenticator of a user (e.g. a lost phone).")
        remove.add_argument("username")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _user(self, username):
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        return user

    def _enrol(self, *, username, name, **_):
        device = staff_totp_enrol(user=self._user(username), name=name)
        qr = qrcode.QRCode(border=1)
        qr.add_data(device.config_url)
        picture = io.StringIO()
        qr.print_ascii(out=picture, invert=True)
        self.stdout.write(picture.getvalue(), ending="")
        self.stdout.write(f"Scan the code above, or add this URI to the authenticator app:\n{device.config_url}")
        self.stdout.write("Keep it out of chat and e-mail: it is the authenticator's key.")

    def _list(self, **_):
        for device in TOTPDevice.objects.select_related("user").order_by("user__username", "name"):
            self.stdout.write(f"{device.user.get_username()}\t{device.name}\t{'confirmed' if device.confirmed else 'unconfirmed'}")

    def _remove(self, *, username, **_):
        removed = staff_totp_remove(user=self._user(username))
        self.stdout.write(f"{removed} authenticator(s) removed for {username}")
