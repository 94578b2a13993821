"""An HTTP/1.1 server with the response framings a real service may use, for the workload driver's tests.

Python's socket server, not a framework, so that every byte of each answer is what the path says:

  /length    200, Content-Length                 /chunked   200, chunked with extensions and trailers
  /close     200, Content-Length, Connection: close
  /eof       200, no length: the body ends at the close
  /http10    HTTP/1.0 200 without keep-alive (the server closes)
  /continue  100 Continue, then 201              /nocontent 204 with a Content-Length header (no body)
  /slow      answers after 2 s                   /garbage   not HTTP at all
  /echo      200, the body is the request head and body as received

Every request is counted per path; GET /stats (not counted) answers the counts as JSON.
Usage: http1_peer.py [--tls CERT KEY] ; prints "listening PORT" once bound to 127.0.0.1.
"""
import json
import socket
import socketserver
import ssl
import sys
import threading
import time

counts = {}
lock = threading.Lock()


def answer(path, method, head, body):
    payload = b"hello, driver\n"
    if path == "/length":
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + (b"" if method == "HEAD" else payload), False
    if path == "/chunked":
        return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;name=value\r\nhello\r\n9\r\n, driver\n\r\n0\r\nX-Trailer: yes\r\n\r\n"), False
    if path == "/close":
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload, True
    if path == "/eof":
        return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + payload * 100, True
    if path == "/http10":
        return b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload, True
    if path == "/continue":
        return b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", False
    if path == "/nocontent":
        return b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", False
    if path == "/slow":
        time.sleep(2)
        return b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow", False
    if path == "/garbage":
        return b"NOT HTTP AT ALL\r\n\r\n", True
    if path == "/echo":
        echoed = head + b"\r\n\r\n" + body
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(echoed) + echoed, False
    return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", False


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        buffered = b""
        connection = self.request
        while True:
            while b"\r\n\r\n" not in buffered:
                data = connection.recv(65536)
                if not data:
                    return
                buffered += data
            head, buffered = buffered.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            method, target, _ = lines[0].decode("latin-1").split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(buffered) < length:
                data = connection.recv(65536)
                if not data:
                    return
                buffered += data
            body, buffered = buffered[:length], buffered[length:]
            path = target.split("?", 1)[0]
            if path == "/stats":
                with lock:
                    text = json.dumps(counts).encode()
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(text) + text)
                continue
            with lock:
                counts[path] = counts.get(path, 0) + 1
            response, close = answer(path, method, head, body)
            connection.sendall(response)
            if close:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("listening %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
