"""Smart-mirror closet: the core (config, camera sources, vision, closet store, CLI).

Nothing in this package imports Qt: the UI in ``ui/`` talks to it through queues and
callbacks, so the core runs headless in ``analyze``, ``bench`` and the tests.
"""

__version__ = "0.1.0"
