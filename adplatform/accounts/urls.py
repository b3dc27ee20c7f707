from django.contrib.auth import views as auth_views
from django.urls import path

from adplatform.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("account/", views.account, name="account"),
    path("account/notifications/", views.notifications, name="notifications"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
