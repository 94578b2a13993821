"""Send log documents with the official Elasticsearch Python client: one with the document API, three
with the bulk helper (one of them invalid), as a log shipper would.

Run with .venv-elasticsearch's python: elasticsearch_export.py URL. Prints one JSON line with what the
client saw (cluster version, index result, bulk successes and per-item errors).
"""

import json
import sys

from elasticsearch import Elasticsearch, helpers


def main() -> int:
    client = Elasticsearch(sys.argv[1], request_timeout=10, max_retries=0)
    info = client.info()
    indexed = client.index(
        index="logs-checkout",
        document={
            "@timestamp": "2025-11-26T01:02:03.456789Z",
            "message": "order placed",
            "log.level": "info",
            "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "span.id": "00f067aa0ba902b7",
            "service.name": "checkout",
            "order": {"id": 42, "total": 19.5, "express": True},
        },
    )
    actions = [
        {"_index": "logs-checkout", "_source": {"@timestamp": 1764118923000, "message": "paid", "SeverityNumber": 9}},
        {"_index": "logs-checkout", "_source": {"@timestamp": "yesterday", "message": "bad time"}},
        {"_op_type": "create", "_index": "logs-checkout", "_id": "fixed-1", "_source": {"Body": "created", "Attributes": {"k": "v"}, "Resource": {"service.name": "billing"}}},
    ]
    successes, errors = helpers.bulk(client, actions, raise_on_error=False)
    print(json.dumps({
        "version": info["version"]["number"],
        "index_result": indexed["result"],
        "bulk_successes": successes,
        "bulk_errors": [{"status": next(iter(e.values()))["status"], "type": next(iter(e.values()))["error"]["type"]} for e in errors],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
