"""Signing in and out. Every other page needs a signed-in user."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """The sign-in page saying the account is locked, with 429 Too Many Requests.

    django-axes calls this (AXES_LOCKOUT_CALLABLE) instead of its plain-text
    response once a username has failed too often from one address, so a locked-out
    person sees the usual page, in the usual error summary, and what to do next.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # An unbound form keeps the username typed; binding it would validate it, and
    # validating tries the password again.
    form = SignInForm(request, initial={"username": request.POST.get("username", "")})
    form.cleaned_data = {}
    form.add_error(
        None,
        ValidationError(
            f"There have been too many failed attempts to sign in to this account. "
            f"Wait {minutes} minutes and try again, or ask a failwell administrator "
            f"to unlock it."
        ),
    )
    context = {"form": form, "next": request.POST.get("next", request.GET.get("next", ""))}
    return render(request, "registration/login.html", context, status=429)


class SignOutView(LogoutView):
    """Sign out (POST only), then go to LOGOUT_REDIRECT_URL saying so."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        # The session is gone by now; the message travels in the messages cookie.
        if was_signed_in:
            messages.success(request, "You have signed out.")
        return response
