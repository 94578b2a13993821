"""Elasticsearch _bulk seeds from the official Python client 8 (.venv-elasticsearch): helpers.bulk run against a
capturing loopback server (free port), which keeps each body the client POSTs to _bulk."""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from elasticsearch import Elasticsearch, helpers

out = sys.argv[1]
bodies = []


class Capture(BaseHTTPRequestHandler):
    def _answer(self, document):
        payload = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.elasticsearch+json; compatible-with=8")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        bodies.append(body)
        actions = [line for line in body.split(b"\n") if line.strip() and list(json.loads(line))[0] in ("index", "create", "update", "delete")]
        self._answer({"errors": False, "took": 1, "items": [{"index": {"status": 201}} for _ in actions]})

    do_PUT = do_POST

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
threading.Thread(target=server.serve_forever, daemon=True).start()
client = Elasticsearch(f"http://127.0.0.1:{server.server_address[1]}")
documents = [
    {"_index": "logs-tasks", "@timestamp": "2026-11-26T01:53:11.123Z", "message": "task 42 created", "log": {"level": "info"}, "service": {"name": "tasks"}, "trace": {"id": "0af7651916cd43dd8448eb211c80319c"}},
    {"_index": "logs-tasks", "_id": "fixed-1", "@timestamp": 1700000000000, "message": "rollback", "labels": {"phase": "restore", "rows": 12, "ok": False, "ratio": 0.5}},
    {"_op_type": "create", "_index": "logs-migrations", "@timestamp": "2026-11-26T01:53:12Z", "message": ["a", "b"], "nested": {"deep": {"deeper": None}}},
    {"_op_type": "delete", "_index": "logs-tasks", "_id": "fixed-1"},
]
helpers.bulk(client, documents)
helpers.bulk(client, [{"message": "no index: the URL's"}], index="logs")
helpers.bulk(client, [{"_op_type": "update", "_index": "logs", "_id": "x", "doc": {"message": "changed"}}] + documents[1:2])
server.shutdown()
os.makedirs(os.path.join(out, "elasticsearch-bulk"), exist_ok=True)
for index, body in enumerate(bodies):
    # The target's first byte picks the default index: odd, POST /logs/_bulk; even, POST /_bulk.
    with open(os.path.join(out, "elasticsearch-bulk", f"python-client-{index}.ndjson"), "wb") as f:
        f.write(bytes([index % 2]) + body)
