"""Queries and CPU per delivery, measured in one process on the bench's database (after the
run): `python -m bench.webhooks.probe N FIRST_NUMBER` stores N signed deliveries through the
webhook view (Django's test client: the view and middleware, no HTTP server) and then applies
each of them, counting the SQL statements and the process CPU time of each step. Prints JSON."""

import json
import os
import random
import sys
import time

import django


def main(count: int, first: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.webhooks.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.webhooks.run import SECRET, order_body
    from connectors.models import InboxMessage
    from connectors.services import inbox_process
    from connectors.shopify.webhooks import signature

    client = Client()
    rng = random.Random(first)
    bodies = [order_body(first + n, rng) for n in range(count)]
    half = count // 2  # statements counted on the first half, CPU timed on the second (counting costs CPU)
    intake_queries, intake_cpu, process_queries, process_cpu, ids = 0, 0.0, 0, 0.0, []
    for n, body in enumerate(bodies):
        headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": f"probe-{first + n}", "X-Shopify-Hmac-Sha256": signature(SECRET, body),
                   "X-Shopify-Shop-Domain": "bench.myshopify.com", "X-Shopify-API-Version": "2025-01"}
        if n < half:
            connection.queries_log.clear()  # the log keeps 9 000 entries; a full one would count nothing
            with CaptureQueriesContext(connection) as queries:
                response = client.post("/webhooks/shop/", data=body, content_type="application/json", headers=headers)
            intake_queries += len(queries)
        else:
            started = time.process_time()
            response = client.post("/webhooks/shop/", data=body, content_type="application/json", headers=headers)
            intake_cpu += time.process_time() - started
        assert response.status_code == 200, response.content
        ids.append(response.json()["received"])
    for n, message_id in enumerate(ids):
        if n < half:
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as queries:
                message = inbox_process(message_id=message_id)
            process_queries += len(queries)
        else:
            started = time.process_time()
            message = inbox_process(message_id=message_id)
            process_cpu += time.process_time() - started
        assert message.status == InboxMessage.Status.PROCESSED, message.error
    lines = sum(len(json.loads(body)["line_items"]) for body in bodies)
    rest = count - half
    return {"orders": count, "lines_per_order": lines / count, "intake_queries": intake_queries / half, "intake_cpu_ms": intake_cpu / rest * 1000,
            "process_queries": process_queries / half, "process_cpu_ms": process_cpu / rest * 1000}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
