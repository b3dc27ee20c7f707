from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from adplatform.accounts import services
from adplatform.accounts.api.serializers import MeSerializer


class MeView(APIView):
    """The account behind the credentials: who a token belongs to."""

    @extend_schema(responses=MeSerializer, operation_id="me_read")
    def get(self, request, version=None):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer, operation_id="me_update")
    def patch(self, request, version=None):
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.user_update_profile(user=request.user, data=dict(serializer.validated_data))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
        return Response(MeSerializer(user).data)
