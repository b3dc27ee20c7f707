from rest_framework import serializers

from adplatform.accounts.models import User


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "company", "role", "is_staff"]
        read_only_fields = ["id", "username", "role", "is_staff"]
