"""The reference cloud consumer: receive, validate, store idempotently, then ack.

It is a reference: small, correct under faults, and the other half of the contract tests.
A real backend can replace it as long as it honours ``docs/sync.md``.
"""
