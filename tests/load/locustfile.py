"""Locust user for `make load`: enquirers submitting through the public API.

Each simulated user submits at a fixed pace (LOAD_RATE_PER_USER per second), so the
offered load is users x rate whatever the latency. Texts are the project's own.
Not a pytest module: `manage.py load` runs it with locust, headless.
"""

from __future__ import annotations

import os
import uuid

from locust import FastHttpUser, constant_throughput, task

RATE = float(os.environ.get("LOAD_RATE_PER_USER", "10"))
RUN = os.environ.get("LOAD_RUN", "load")

TEXTS = [
    ("Wearable patch that measures sweat lactate",
     "An adhesive patch measures lactate in sweat during cardiac rehabilitation and "
     "sends readings to the nurse. Is it a medical device, and which class?"),
    ("Continuous manufacture of a generic tablet",
     "We want to move wet granulation and compression of an established generic to a "
     "continuous line with near-infrared monitoring. What would a variation need?"),
    ("Autologous T-cell therapy made at the bedside",
     "Our CAR-T product would be manufactured in an automated closed system in the "
     "hospital. How is point-of-care manufacture licensed and inspected?"),
    ("Machine-learning triage of skin lesion photographs",
     "A smartphone app photographs moles and a neural network scores melanoma risk "
     "for GPs. What evidence does software as a medical device need?"),
    ("Lateral-flow test for a urinary tract infection at home",
     "A dipstick with a smartphone reader detects nitrite and leukocyte esterase for "
     "self-testing. Which rules apply to a self-test in vitro diagnostic?"),
    ("Decentralised trial with home nursing visits",
     "We plan a phase II trial of an inhaled antiviral with consent by video, home "
     "dosing and remote monitoring. What do we need to set up for the sponsor?"),
]  # fmt: skip


class Enquirer(FastHttpUser):
    wait_time = constant_throughput(RATE)

    @task
    def submit(self) -> None:
        key = uuid.uuid4().hex[:16]
        title, description = TEXTS[int(key[:4], 16) % len(TEXTS)]
        body = {
            "organisation_name": f"{RUN} Ltd",
            "organisation_type": "sme",
            "contact_name": "Load Test",
            "email": f"load-{key}@example.com",
            "development_stage": "early-development",
            "title": title,
            "description": description,
            "consent": True,
        }
        with self.client.post(
            "/api/v1/enquiries/",
            json=body,
            name="POST /api/v1/enquiries/",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
