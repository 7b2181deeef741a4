"""The mirror's fullscreen PySide6 UI. Talks to the core through signals and queues only."""
