"""MQTT sync: the mirror's durable outbox worker and the reference cloud consumer.

This package knows closet records and their images, never how they were made.
"""
