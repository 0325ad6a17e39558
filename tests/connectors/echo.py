"""A minimal connector for engine tests: pushes product names as JSON to a real local HTTP
receiver whose answers (status, Retry-After, delay) the test scripts."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from catalog.models import Product
from connectors.errors import PermanentError
from connectors.flows import Flow
from connectors.http import ApiClient
from connectors.registry import Connector


class Receiver:
    """Records every POST; answers from `script` (a list of (status, headers) or (status, headers,
    JSON body)) then 200."""

    def __init__(self):
        self.received: list[dict] = []
        self.script: list[tuple[int, dict]] = []
        self.delay_seconds = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status, headers, *said = receiver.script.pop(0) if receiver.script else (200, {})
                    if status == 200:
                        receiver.received.append(json.loads(body))
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                answer = json.dumps(said[0] if said else {"ok": status == 200}).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class EchoClient(ApiClient):
    timeout = (2, 3)


class ProductEchoFlow(Flow):
    name = "products.echo"
    label = "Products out (echo)"
    topics = ("catalog.product",)
    batch_size = 10

    def prepare(self, ctx, job):
        product = Product.objects.filter(pk=job.record_key).first()
        if product is None:
            raise PermanentError(f"product {job.record_key} no longer exists")
        return {"sku": product.sku, "name": product.name}

    def send(self, ctx, jobs):
        for job in jobs:
            ctx.client.json("POST", "/products", json_body=job.payload)
            ctx.done(job, f"pushed {job.payload['sku']}")


class EchoConnector(Connector):
    kind = "echo-test"
    flows = (ProductEchoFlow(),)

    def client(self, *, endpoint, recorder):
        return EchoClient(endpoint=endpoint, recorder=recorder, sleep=lambda s: None)
