"""Clients for outside HTTP APIs (one object per system, created once per container).

Import the concrete module (``ecomvideo.clients.freepik``) rather than this package so that a
handler pays only for the client it uses.
"""
