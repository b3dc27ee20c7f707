from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "adplatform.accounts"
    label = "accounts"
    verbose_name = "Accounts"
