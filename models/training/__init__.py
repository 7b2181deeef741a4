"""Training, evaluation and export code for the mirror's models (needs the training venv).

Nothing here is imported by the runtime (``mirror/``) or by CI; see
``models/requirements-train.txt`` for the pinned environment.
"""
