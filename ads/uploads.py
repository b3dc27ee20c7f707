"""Artwork an advertiser hands in, on its way to Roblox: send it, poll the operation, make the creative.

:func:`ads.compliance.creative_upload_create` accepts the file and queues the upload; the task
(``ads.tasks.creative_upload_process_task``) advances it with :func:`creative_upload_process`, which ends
in :func:`ads.services.creative_create`. It lives above both, so neither imports the other in a circle.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from ads import services
from ads.compliance import game_creator
from ads.models import CreativeUpload, UploadState
from integrations.roblox.errors import RobloxError, RobloxForbidden, RobloxNotFound, RobloxUnavailable
from integrations.services import roblox_cloud_asset_create, roblox_cloud_operation

logger = logging.getLogger(__name__)

MAX_POLLS = 120  # about an hour at 30 s


def _fail(upload: CreativeUpload, message: str) -> CreativeUpload:
    upload.state = UploadState.FAILED
    upload.error = message[:300]
    upload.save(update_fields=["state", "error", "updated_at"])
    logger.warning("creative upload failed", extra={"upload_id": upload.pk, "error": upload.error})
    return upload


@transaction.atomic
def creative_upload_process(*, upload_id: int) -> tuple[CreativeUpload | None, bool]:
    """Advance one upload: send it to Roblox, or poll its operation; ``(upload, poll_again)``.

    Raises ``RobloxUnavailable`` when Roblox is down (the task retries with backoff); every other
    outcome is recorded on the upload. A finished upload becomes a creative, checked like a typed one.
    """
    upload = (
        CreativeUpload.objects.select_for_update(of=("self",))
        .select_related("campaign", "game")
        .filter(pk=upload_id)
        .first()
    )
    if upload is None or upload.state in (UploadState.DONE, UploadState.FAILED):
        return upload, False
    key = upload.game.open_cloud_api_key
    if not key:
        return _fail(upload, "The game's owner has no Open Cloud key any more."), False
    try:
        if upload.state == UploadState.PENDING:
            creator_type, creator_id = game_creator(upload.game)
            operation = roblox_cloud_asset_create(
                api_key=key,
                asset_type="Image",
                display_name=upload.name,
                description=f"Ad creative, campaign {upload.campaign.roblox_campaign_id or upload.campaign_id}",
                creator_type=creator_type,
                creator_id=creator_id,
                filename=upload.filename,
                content=bytes(upload.content),
                content_type=upload.content_type,
            )
            upload.operation_id = operation.id
            upload.state = UploadState.PROCESSING
        else:
            operation = roblox_cloud_operation(operation_id=upload.operation_id, api_key=key)
            upload.polls += 1
    except RobloxUnavailable:
        raise
    except RobloxForbidden:
        return _fail(upload, "The owner's Open Cloud key may not upload assets (asset:write) for this creator."), False
    except RobloxNotFound as exc:
        return _fail(upload, str(exc)), False
    except RobloxError as exc:
        return _fail(upload, f"Roblox refused the upload: {exc}"), False

    if not operation.done or operation.asset is None:
        if upload.polls >= MAX_POLLS:
            return _fail(upload, "Roblox did not finish processing the upload."), False
        upload.save(update_fields=["operation_id", "state", "polls", "updated_at"])
        return upload, True

    upload.roblox_asset_id = operation.asset.id
    try:
        creative = services.creative_create(
            campaign=upload.campaign,
            data={"name": upload.name, "kind": "DISPLAY", "roblox_asset_id": operation.asset.id},
        )
    except ValidationError as exc:
        return _fail(upload, " ".join(m for ms in exc.message_dict.values() for m in ms)), False
    upload.creative = creative
    upload.state = UploadState.DONE
    upload.content = b""  # on Roblox now; keeping the bytes would only cost space
    upload.error = ""
    upload.save()
    logger.info("creative uploaded", extra={"upload_id": upload.pk, "creative_id": creative.pk})
    return upload, False
