#!/usr/bin/env python3
"""Writes a TUF repository with python-tuf, the reference implementation, in the layout the
kiosk's agent reads (metadata/, targets/ named by hash: consistent snapshots), for the test
that the agent reads another implementation's repositories as its own.

Usage: write_repo.py OUT SPEC.json, where SPEC is
  {"targets": [{"name": ..., "file": ..., "custom": {...}, "after_rotation": bool}],
   "rotation": "none" | "trusted" | "untrusted", "meta_hashes": bool, "consistent_snapshot": bool}
Version 1 of every role lists the targets not marked after_rotation. With a rotation, root
version 2 replaces the root key, signed by the old and the new key ("trusted") or by the new
key alone ("untrusted"), and version 2 of the other roles lists every target.
"""

import json
import os
import shutil
import sys
from datetime import datetime, timedelta, timezone

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import MetaFile, Metadata, Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

out, spec_path = sys.argv[1], sys.argv[2]
with open(spec_path) as spec_file:
    spec = json.load(spec_file)
expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)
signers = {role: CryptoSigner.generate_ed25519() for role in ("root", "targets", "snapshot", "timestamp")}
os.makedirs(f"{out}/metadata")
os.makedirs(f"{out}/targets")


def write(metadata, name):
    metadata.to_file(f"{out}/metadata/{name}", JSONSerializer(compact=False))
    with open(f"{out}/metadata/{name}", "rb") as written:
        return written.read()


consistent = spec.get("consistent_snapshot", True)
root = Metadata(Root(expires=expires, consistent_snapshot=consistent))
for role, signer in signers.items():
    root.signed.add_key(signer.public_key, role)
root.sign(signers["root"])
write(root, "1.root.json")


def meta_file(version, data):
    """How a role names the next one: by version alone, as python-tuf writes it by default,
    or with its length and hash too."""
    if spec.get("meta_hashes", True):
        return MetaFile.from_data(version, data, ["sha256"])
    return MetaFile(version=version)


def publish(version, listed):
    targets = Metadata(Targets(version=version, expires=expires))
    for target in listed:
        entry = TargetFile.from_file(target["name"], target["file"], ["sha256"])
        entry.unrecognized_fields["custom"] = target["custom"]
        targets.signed.targets[target["name"]] = entry
        stored = f"{entry.hashes['sha256']}.{target['name']}" if consistent else target["name"]
        shutil.copy(target["file"], f"{out}/targets/{stored}")
    targets.sign(signers["targets"])
    data = write(targets, f"{version}.targets.json" if consistent else "targets.json")
    snapshot = Metadata(Snapshot(version=version, expires=expires))
    snapshot.signed.meta["targets.json"] = meta_file(version, data)
    snapshot.sign(signers["snapshot"])
    data = write(snapshot, f"{version}.snapshot.json" if consistent else "snapshot.json")
    timestamp = Metadata(Timestamp(version=version, expires=expires))
    timestamp.signed.snapshot_meta = meta_file(version, data)
    timestamp.sign(signers["timestamp"])
    write(timestamp, "timestamp.json")


publish(1, [target for target in spec["targets"] if not target.get("after_rotation")])
rotation = spec.get("rotation", "none")
if rotation != "none":
    old, new = signers["root"], CryptoSigner.generate_ed25519()
    root.signed.version = 2
    root.signed.revoke_key(old.public_key.keyid, "root")
    root.signed.add_key(new.public_key, "root")
    root.signatures.clear()
    if rotation == "trusted":
        root.sign(old, append=True)
    root.sign(new, append=True)
    write(root, "2.root.json")
    publish(2, spec["targets"])
