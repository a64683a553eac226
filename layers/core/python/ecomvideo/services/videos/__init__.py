"""Videos: creation (validation, plan limits, credits, idempotency), the library, cancel/retry.

Creation is two-phase on purpose. One transaction inserts the video (Pending), holds its
credits and stores the Idempotency-Key record; only after it commits is the Step Functions
execution started (the worker must find the row). If StartExecution fails, a second transaction
marks the video Failed and releases the hold, so no credits stay held by an orphan video.
``submit``, ``cancel``, ``retry`` and ``delete`` therefore open their own transactions; every
other function works inside the caller's session.

During processing ``videos.metadata`` holds ``{"request": {...}}`` (attempt, cost, template
variables, product URL); once the video is Completed it is exactly the spec's VideoMetadata.

The service is split by concern: ``preparation`` (a request made concrete: resolution,
providers, uploads, plan limits, price), ``creation`` (quote, submit, render, the pipeline's
start), ``queries`` (library, detail, downloads, credits) and ``lifecycle`` (edit, cancel,
retry, delete); ``ecomvideo.services.video_access`` (ownership) sits below it and storyboards.
"""

from ecomvideo.services.uploads import upload_prefix
from ecomvideo.services.video_access import awaiting_confirmation, current_attempt, owned_video
from ecomvideo.services.videos.creation import (
    accepted_headers,
    poll_headers,
    quote,
    render,
    start_execution,
    submit,
)
from ecomvideo.services.videos.lifecycle import (
    cancel,
    delete,
    retry,
    update_video,
)
from ecomvideo.services.videos.preparation import (
    Prepared,
    available_providers,
    class_resolution,
    create_upload,
    default_provider,
    normalise_resolution,
    prepare,
)
from ecomvideo.services.videos.queries import (
    ListFilters,
    credit_grants,
    credits_summary,
    detail,
    list_videos,
    record_download,
)

__all__ = [
    "ListFilters",
    "Prepared",
    "accepted_headers",
    "available_providers",
    "awaiting_confirmation",
    "cancel",
    "class_resolution",
    "create_upload",
    "credit_grants",
    "credits_summary",
    "current_attempt",
    "default_provider",
    "delete",
    "detail",
    "list_videos",
    "normalise_resolution",
    "owned_video",
    "poll_headers",
    "prepare",
    "quote",
    "record_download",
    "render",
    "retry",
    "start_execution",
    "submit",
    "update_video",
    "upload_prefix",
]
