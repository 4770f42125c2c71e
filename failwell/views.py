"""Signing in and out. Every other page needs a signed-in user."""

from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse


class SignInForm(AuthenticationForm):
    """Django's sign-in form with GOV.UK-style error messages and no autofocus.

    Autofocus is dropped because after a failed attempt focus belongs on the
    error summary, and because it moves screen-reader users past the page's
    heading on arrival.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Enter the username and password of a failwell account. Both are case-sensitive."
        ),
    }

    def __init__(self, request: HttpRequest | None = None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"


class SignInView(LoginView):
    form_class = SignInForm


class SignOutView(LogoutView):
    """Sign out (POST only), then go to LOGOUT_REDIRECT_URL saying so."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        # The session is gone by now; the message travels in the messages cookie.
        if was_signed_in:
            messages.success(request, "You have signed out.")
        return response
