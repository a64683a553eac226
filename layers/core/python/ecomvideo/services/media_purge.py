"""Deleting stored files in the background: the ``media.purge`` job.

Enqueued in the transaction of the change that makes the files obsolete (outbox: the job exists
exactly when the change commits; a rolled-back deletion leaves none):

* account deletion (``accounts.delete_account``): the videos bucket's ``users/<user>/`` (every
  video's final file, extra formats, thumbnails, scene segments and work files), the uploads
  bucket's ``users/<user>/`` (the user's uploaded images) and each ``public/<key>/`` copy a
  share link served (``public_media``);
* a video deleted or cancelled by its owner (``videos.delete``, ``videos.cancel``): everything
  under the video's prefix and, once shared, its ``public/<key>/`` copies;
* a video failed by the stuck-video reaper (``maintenance.reap_stuck_videos``): that attempt's
  work files (``work/a<attempt>-``), what MarkFailed removes for a failed attempt (a retry
  writes under a new attempt number, so it is never touched).

The jobs worker runs it. Deleting is idempotent (listing returns only what is still there; a
key deleted meanwhile is fine), so a retry simply continues. Any S3 failure, also a per-key
error in a 200 answer, raises: the job is retried with backoff (``MAX_ATTEMPTS``) and ends
Failed, visible to admins, only when S3 keeps refusing. One run lists and deletes page by page
and stops after ``MAX_OBJECTS_PER_RUN`` objects: the rest is enqueued as a new job in the same
transaction, so an account with any number of objects never outlasts the worker's time budget.
Prefixes are checked before anything is deleted: only ``users/<uuid>/...`` and
``public/<hex>/`` (never an empty prefix: that would be the whole bucket).
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ecomvideo.observability import logger
from ecomvideo.services import jobs, media_store, public_media
from ecomvideo.settings import Settings, get_settings

if TYPE_CHECKING:
    from ecomvideo.models.videos import Video

JOB_TYPE = "media.purge"
MAX_ATTEMPTS = 10  # backoff 30 s .. 1 h: about five hours of S3 refusing before Failed
MAX_OBJECTS_PER_RUN = 10_000
PAGE_SIZE = 1000  # objects per listing page and per DeleteObjects request (S3's maximum)
_BUCKETS = {"videos": "videos_bucket", "uploads": "uploads_bucket"}
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SAFE_PREFIX = re.compile(rf"^(users/{_UUID}/[^.]*|{public_media.PUBLIC_PREFIX}[0-9a-f]{{16,}}/)$")

Target = tuple[str, str]  # (bucket role: "videos" | "uploads", key prefix)


def account_targets(session: Session, user_id: uuid.UUID) -> list[Target]:
    """Everything stored for ``user_id`` (read before the user's rows are deleted)."""
    user_prefix = f"users/{user_id}/"
    targets: list[Target] = [("videos", user_prefix), ("uploads", user_prefix)]
    keys = public_media.public_keys_of_user(session, user_id)
    return targets + [("videos", public_media.public_prefix(key)) for key in keys]


def enqueue(session: Session, targets: list[Target], *, reason: str) -> None:
    """Queue the deletion of ``targets`` in the caller's transaction."""
    _check(targets)
    data = {"reason": reason, "targets": [list(t) for t in targets]}
    jobs.enqueue(session, JOB_TYPE, data, max_attempts=MAX_ATTEMPTS)


def enqueue_account_purge(session: Session, user_id: uuid.UUID) -> None:
    enqueue(session, account_targets(session, user_id), reason=f"account {user_id} deleted")


def enqueue_video_purge(session: Session, video: Video, *, reason: str) -> None:
    """Every stored file of ``video`` (it never runs again): its prefix and its public copies."""
    targets: list[Target] = [("videos", media_store.media_prefix(video.user_id, video.id))]
    if shared := public_media.public_key_of(video):
        targets.append(("videos", public_media.public_prefix(shared)))
    enqueue(session, targets, reason=f"video {video.id} {reason}")


def enqueue_attempt_work_purge(
    session: Session, user_id: uuid.UUID, video_id: uuid.UUID, attempt: int
) -> None:
    prefix = media_store.work_prefix(user_id, video_id, attempt)
    enqueue(session, [("videos", prefix)], reason=f"video {video_id} attempt {attempt} failed")


def _check(targets: list[Target]) -> None:
    for role, prefix in targets:
        if role not in _BUCKETS or not _SAFE_PREFIX.match(prefix):
            raise ValueError(f"refusing to purge {role!r} {prefix!r}")


def _bucket(settings: Settings, role: str) -> str:
    return str(getattr(settings, _BUCKETS[role]))


@jobs.handler(JOB_TYPE)
def purge(session: Session, data: dict[str, Any]) -> None:
    """Job handler: delete every object under the job's targets, at most
    ``MAX_OBJECTS_PER_RUN`` per run (the rest becomes a new job)."""
    targets: list[Target] = [(str(role), str(prefix)) for role, prefix in data["targets"]]
    _check(targets)
    settings = get_settings()
    budget = MAX_OBJECTS_PER_RUN
    for i, (role, prefix) in enumerate(targets):
        if budget <= 0:
            _continue(session, data, targets[i:])
            return
        deleted, done = media_store.remove_prefix(
            _bucket(settings, role), prefix, max_objects=budget, page_size=PAGE_SIZE
        )
        budget -= deleted
        if not done:
            _continue(session, data, targets[i:])
            return
    logger.info("media purged", extra={"reason": data.get("reason"), "targets": len(targets)})


def _continue(session: Session, data: dict[str, Any], rest: list[Target]) -> None:
    logger.info("media purge continues", extra={"reason": data.get("reason"), "left": len(rest)})
    jobs.enqueue(
        session, JOB_TYPE, {**data, "targets": [list(t) for t in rest]}, max_attempts=MAX_ATTEMPTS
    )
