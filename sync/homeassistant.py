"""Home Assistant MQTT discovery (``[sync] ha_discovery = true``): the mirror as a device.

Three entities: a connectivity binary sensor fed by the retained ``status`` topic (its
``offline`` is the MQTT last will, Home Assistant's availability convention), and two sensors
fed by the retained ``state`` JSON: the number of garments, and the record versions waiting to
sync.
"""

from __future__ import annotations

import json

from sync.contract import OFFLINE, ONLINE, Topics

DISCOVERY_PREFIX = "homeassistant"


def discovery_messages(topics: Topics, device_id: str, device_name: str) -> list[tuple[str, str]]:
    """(topic, retained payload) pairs to publish after each connect."""
    device = {"identifiers": [f"smart-mirror-{device_id}"], "name": device_name, "manufacturer": "smart-mirror"}
    availability = {"availability_topic": topics.status, "payload_available": ONLINE, "payload_not_available": OFFLINE}
    online = {
        "name": "Online",
        "unique_id": f"smart-mirror-{device_id}-online",
        "device_class": "connectivity",
        "state_topic": topics.status,
        "payload_on": ONLINE,
        "payload_off": OFFLINE,
        "device": device,
    }
    garments = {
        "name": "Garments",
        "unique_id": f"smart-mirror-{device_id}-garments",
        "state_topic": topics.state,
        "value_template": "{{ value_json.garments }}",
        "unit_of_measurement": "garments",
        "device": device,
        **availability,
    }
    waiting = {
        **garments,
        "name": "Waiting to sync",
        "unique_id": f"smart-mirror-{device_id}-waiting",
        "value_template": "{{ value_json.waiting }}",
        "unit_of_measurement": "records",
    }
    return [
        (f"{DISCOVERY_PREFIX}/binary_sensor/{device_id}/online/config", json.dumps(online)),
        (f"{DISCOVERY_PREFIX}/sensor/{device_id}/garments/config", json.dumps(garments)),
        (f"{DISCOVERY_PREFIX}/sensor/{device_id}/waiting/config", json.dumps(waiting)),
    ]
