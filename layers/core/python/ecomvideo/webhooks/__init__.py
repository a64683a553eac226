"""Inbound webhook helpers.

Kept import-free on purpose: the webhook handlers import ``ecomvideo.webhooks.signature``
(standard library only) before anything heavy, and a package ``__init__`` that imported more
would defeat that.
"""
