#!/usr/bin/env python3
"""JetStream set-up and load for the local e2e provider, over the plain NATS protocol (no client
library needed; only the loopback nats-server from scripts/dev-env is contacted).

  nats_tool.py --url nats://127.0.0.1:4222 stream [--recreate] E2E_EVENTS 'e2e.events.>'
  nats_tool.py --url nats://127.0.0.1:4222 publish e2e.events 6000   # returns when all are acked
  nats_tool.py --url ... publish e2e.events 6000 --first-id 1         # ids 1..6000 (e2e/node's sink counts them)
  nats_tool.py --url tls://HOST:PORT --ca ca.crt --user U --password-file F stream ...   # TLS + user/password
"""
import argparse
import json
import socket
import ssl
import sys
import urllib.parse


class Connection:
    def __init__(self, url, timeout=30, ca_file=None, user=None, password=None):
        parsed = urllib.parse.urlparse(url)
        host = parsed.hostname or "127.0.0.1"
        self.sock = socket.create_connection((host, parsed.port or 4222), timeout=timeout)
        self.buffer = b""
        info = self.line()
        if not info.startswith(b"INFO"):
            raise RuntimeError(f"not a NATS server: {info!r}")
        if parsed.scheme == "tls" or json.loads(info[4:]).get("tls_required"):
            # The server's certificate is verified against ca_file and the host name (or IP) of url.
            context = ssl.create_default_context(cafile=ca_file)
            self.sock = context.wrap_socket(self.sock, server_hostname=host)
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True}
        if user:
            connect.update({"user": user, "pass": password or ""})
        self.send(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
        self.expect_pong()

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed by the server")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def payload(self, size):
        while len(self.buffer) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed by the server")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size + 2:]
        return data

    def expect_pong(self):
        while True:
            line = self.line()
            if line == b"PONG":
                return
            self.control(line)

    def control(self, line):
        if line == b"PING":
            self.send(b"PONG\r\n")
        elif line.startswith(b"-ERR"):
            raise RuntimeError(line.decode())

    def next_message(self):
        """(subject, payload) of the next MSG/HMSG (headers dropped)."""
        while True:
            line = self.line()
            parts = line.split()
            if parts and parts[0] == b"MSG":
                return parts[1].decode(), self.payload(int(parts[-1]))
            if parts and parts[0] == b"HMSG":
                data = self.payload(int(parts[-1]))
                return parts[1].decode(), data[int(parts[-2]):]
            self.control(line)

    def request(self, subject, body):
        self.send(b"SUB _INBOX.e2e.req 1\r\n")
        self.send(f"PUB {subject} _INBOX.e2e.req {len(body)}\r\n".encode() + body + b"\r\n")
        _, data = self.next_message()
        self.send(b"UNSUB 1\r\n")
        return json.loads(data or b"{}")


def create_stream(conn, name, subjects, recreate=False):
    if recreate:
        answer = conn.request(f"$JS.API.STREAM.DELETE.{name}", b"")
        if answer.get("error") and answer["error"].get("err_code") != 10059:  # 10059: stream not found
            raise RuntimeError(f"deleting stream {name}: {answer['error']}")
    config = {"name": name, "subjects": subjects, "storage": "file", "retention": "limits"}
    answer = conn.request(f"$JS.API.STREAM.CREATE.{name}", json.dumps(config).encode())
    error = answer.get("error")
    if error and error.get("err_code") != 10058:  # 10058: stream name already in use
        raise RuntimeError(f"creating stream {name}: {error}")
    info = conn.request(f"$JS.API.STREAM.INFO.{name}", b"")
    if info.get("error"):
        raise RuntimeError(f"stream {name}: {info['error']}")
    print(f"stream {name}: subjects {info['config']['subjects']}, {info['state']['messages']} messages")


def publish(conn, prefix, count, first_id=0, chunk=500):
    conn.send(b"SUB _INBOX.e2e.pub.* 2\r\n")
    acked = 0
    for start in range(first_id, first_id + count, chunk):
        end = min(first_id + count, start + chunk)
        out = bytearray()
        for i in range(start, end):
            body = json.dumps({"id": i, "payload": "x" * 64}).encode()
            out += f"PUB {prefix}.{i % 8} _INBOX.e2e.pub.{i} {len(body)}\r\n".encode() + body + b"\r\n"
        conn.send(bytes(out))
        for _ in range(start, end):
            _, data = conn.next_message()
            answer = json.loads(data or b"{}")
            if "error" in answer or "seq" not in answer:
                raise RuntimeError(f"publish not acknowledged: {answer or 'no responders (no stream?)'}")
            acked += 1
    print(f"published {acked} messages to {prefix}.*, all acknowledged")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", help="CA file to verify the server's TLS certificate (tls:// or a server requiring TLS)")
    parser.add_argument("--user", help="user name (with --password-file)")
    parser.add_argument("--password-file", help="file holding the user's password")
    sub = parser.add_subparsers(dest="command", required=True)
    stream = sub.add_parser("stream")
    stream.add_argument("--recreate", action="store_true", help="delete the stream (and its consumers) first")
    stream.add_argument("name")
    stream.add_argument("subjects", nargs="+")
    pub = sub.add_parser("publish")
    pub.add_argument("prefix")
    pub.add_argument("count", type=int)
    pub.add_argument("--first-id", type=int, default=0, help="the first message's id (then +1 each)")
    args = parser.parse_args()
    password = None
    if args.password_file:
        with open(args.password_file) as f:
            password = f.read().strip()
    try:
        conn = Connection(args.url, ca_file=args.ca, user=args.user, password=password)
        if args.command == "stream":
            create_stream(conn, args.name, args.subjects, args.recreate)
        else:
            publish(conn, args.prefix, args.count, args.first_id)
    except (RuntimeError, OSError) as error:
        print(f"nats_tool: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
