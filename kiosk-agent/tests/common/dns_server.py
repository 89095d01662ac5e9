"""A small DNS server for the agent's namespace tests.

Usage: dns_server.py ADDRESS RECORDS.json. Answers A queries on ADDRESS:53 (UDP) from the
JSON file, read again at every query so that a test can move a name: {"name": ["10.0.0.1",
TTL]}. Other names get NXDOMAIN; other types of a known name get no records.
"""

import json
import socket
import struct
import sys

A, IN, NXDOMAIN = 1, 1, 3


def question(query):
    """The queried name (lower case), its type, and where the question ends."""
    labels, end = [], 12
    while query[end] != 0:
        length = query[end]
        labels.append(query[end + 1 : end + 1 + length].decode("ascii").lower())
        end += 1 + length
    qtype = struct.unpack(">H", query[end + 1 : end + 3])[0]
    return ".".join(labels), qtype, end + 5


def answer(query, records):
    ident, flags = struct.unpack(">HH", query[:4])
    name, qtype, end = question(query)
    rcode, answers = 0, b""
    if name not in records:
        rcode = NXDOMAIN
    elif qtype == A:
        address, ttl = records[name]
        # The name as a pointer to the question's, then type, class, TTL and the address.
        answers = b"\xc0\x0c" + struct.pack(">HHIH", A, IN, ttl, 4) + socket.inet_aton(address)
    header = struct.pack(">HHHHHH", ident, 0x8180 | (flags & 0x0100) | rcode, 1, 1 if answers else 0, 0, 0)
    return header + query[12:end] + answers


def main():
    address, records_path = sys.argv[1], sys.argv[2]
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((address, 53))
    while True:
        query, peer = server.recvfrom(512)
        with open(records_path, encoding="utf-8") as file:
            records = json.load(file)
        server.sendto(answer(query, records), peer)


if __name__ == "__main__":
    main()
