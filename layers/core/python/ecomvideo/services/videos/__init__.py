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
start), ``queries`` (library, detail, downloads, poll headers), ``lifecycle`` (edit, cancel,
retry, delete) and ``balance`` (the credits pages); ``ecomvideo.services.video_access``
(ownership) sits below it and storyboards.

The package re-exports each route's service functions without importing them
(``ecomvideo.lazy``): the videos function's cold start declares the models and builds the
modules of the route it serves, not those of every route (creating a video needs storyboards,
credits and preferences; listing or polling them needs none of it). The storyboard routes'
functions are here too (``storyboard``, ``edit_storyboard``, ``storyboard_out``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecomvideo import lazy

if TYPE_CHECKING:
    from ecomvideo.services.storyboards import edit as edit_storyboard
    from ecomvideo.services.storyboards import for_owned_video as storyboard
    from ecomvideo.services.storyboards import to_schema as storyboard_out
    from ecomvideo.services.uploads import upload_prefix
    from ecomvideo.services.video_access import (
        awaiting_confirmation,
        current_attempt,
        owned_video,
    )
    from ecomvideo.services.videos.balance import (
        credit_grants,
        credits_summary,
    )
    from ecomvideo.services.videos.creation import (
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
        accepted_headers,
        detail,
        list_videos,
        poll_headers,
        record_download,
    )

__getattr__, __dir__ = lazy.exports(
    __name__,
    {
        "ListFilters": "ecomvideo.services.videos.queries",
        "Prepared": "ecomvideo.services.videos.preparation",
        "accepted_headers": "ecomvideo.services.videos.queries",
        "available_providers": "ecomvideo.services.videos.preparation",
        "awaiting_confirmation": "ecomvideo.services.video_access",
        "cancel": "ecomvideo.services.videos.lifecycle",
        "class_resolution": "ecomvideo.services.videos.preparation",
        "create_upload": "ecomvideo.services.videos.preparation",
        "credit_grants": "ecomvideo.services.videos.balance",
        "credits_summary": "ecomvideo.services.videos.balance",
        "current_attempt": "ecomvideo.services.video_access",
        "default_provider": "ecomvideo.services.videos.preparation",
        "delete": "ecomvideo.services.videos.lifecycle",
        "detail": "ecomvideo.services.videos.queries",
        "edit_storyboard": "ecomvideo.services.storyboards:edit",
        "list_videos": "ecomvideo.services.videos.queries",
        "normalise_resolution": "ecomvideo.services.videos.preparation",
        "owned_video": "ecomvideo.services.video_access",
        "poll_headers": "ecomvideo.services.videos.queries",
        "prepare": "ecomvideo.services.videos.preparation",
        "quote": "ecomvideo.services.videos.creation",
        "record_download": "ecomvideo.services.videos.queries",
        "render": "ecomvideo.services.videos.creation",
        "retry": "ecomvideo.services.videos.lifecycle",
        "start_execution": "ecomvideo.services.videos.creation",
        "storyboard": "ecomvideo.services.storyboards:for_owned_video",
        "storyboard_out": "ecomvideo.services.storyboards:to_schema",
        "submit": "ecomvideo.services.videos.creation",
        "update_video": "ecomvideo.services.videos.lifecycle",
        "upload_prefix": "ecomvideo.services.uploads",
    },
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
    "edit_storyboard",
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
    "storyboard",
    "storyboard_out",
    "submit",
    "update_video",
    "upload_prefix",
]
