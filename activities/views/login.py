"""The sign-in page: Django's, saying in words (and a 429) when sign-ins are throttled."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from activities import logins


class LoginForm(AuthenticationForm):
    throttled_s: int | None = None

    def clean(self):
        self.throttled_s = logins.wait_s(self.data.get("username", ""),
                                         logins.client_ip(self.request), now=timezone.now())
        if self.throttled_s:
            minutes = max(1, round(self.throttled_s / 60))
            raise ValidationError(f"Too many failed sign-ins. Try again in {minutes} "
                                  f"minute{'s' if minutes > 1 else ''}.", code="throttled")
        return super().clean()


class LoginView(auth_views.LoginView):
    form_class = LoginForm

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "signup_open": settings.CAIRN_SIGNUP == "open"}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled_s:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled_s)
        return response
