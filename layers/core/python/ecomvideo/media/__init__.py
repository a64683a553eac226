"""Local media work: rendering MP4s (PyAV), title cards and overlays (Pillow), probing.

Import the submodules you need: ``formats`` is pure Python; ``probe``/``thumbnail`` import
PyAV inside their functions; ``render``, ``titlecard``, ``overlay``, ``design`` and ``images``
need Pillow (worker only). Nothing here is imported eagerly, to keep cold starts cheap.
"""
