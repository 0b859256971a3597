#!/usr/bin/env python3
"""Decrypts an infinity-backup archive (.ibk) with Google's Tink, needing none of our code.

  pip install tink                      # Google's package; tested with tink 1.16.1

Archives of format 2 (written since per-repository keys) keep their data key in the index: a key
record, wrapped by the repository's key, which is wrapped by the key file or Cloud KMS. Give it with
--key-record: the local index itself (.infinity-backup/index.sqlite), or the JSON that
`infinity-backup keys export --repo R --snapshot ID` prints (docs/FORMAT.md, section 5).

Local mode (the key file that sits beside the archives, .infinity-backup/keys.json):

  python3 decrypt.py --key-file .infinity-backup/keys.json \
      --key-record .infinity-backup/index.sqlite --extract out/ ARCHIVE.ibk

Cloud mode: the repository key (format 1: the data key) is wrapped by Cloud KMS. --kms-request
writes the wrapped key and the additional authenticated data beside the archive and prints the one
gcloud command that unwraps them (run it as someone with cloudkms.cryptoKeyVersions.useToDecrypt):

  python3 decrypt.py --kms-request --key-record RECORD.json ARCHIVE.ibk
  gcloud kms decrypt --key=projects/P/locations/L/keyRings/R/cryptoKeys/K \\
      --ciphertext-file=ARCHIVE.ibk.wrapped-key \\
      --additional-authenticated-data-file=ARCHIVE.ibk.aad --plaintext-file=ARCHIVE.ibk.repository-key
  python3 decrypt.py --repository-key ARCHIVE.ibk.repository-key --key-record RECORD.json \\
      --extract out/ ARCHIVE.ibk

(A format 1 archive: no --key-record; gcloud writes ARCHIVE.ibk.data-key, given with --data-key.)

--tar FILE writes the decrypted tar stream as it is; --extract DIR writes each file whole (the
git/repo.bundle.part-NNNNNN parts joined into git/repo.bundle, a plain git bundle); with neither,
the archive is only checked. Every segment is authenticated and every file is checked against
manifest.json; on any failure nothing is left behind and the exit status is 1.
Format: docs/FORMAT.md.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import struct
import sys
import tarfile

import tink
from tink import aead, secret_key_access, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, aes_gcm_pb2, common_pb2, tink_pb2

MAGIC = b"\x89IBK\r\n\x1a\n"
REPOSITORY_KEY_REF = "repository-key"  # a format 2 header's keyRef: the data key is in a key record
PART = re.compile(r"^(.+)\.part-(\d{6})$")
MAX_MANIFEST = 16 << 20
FIRST_SEGMENT, SEGMENT = (1 << 20) - 40 - 16, (1 << 20) - 16  # plaintext bytes per segment


class Refused(Exception):
    """The archive or the key is not what it should be."""


def primitive(type_url, key, kind):
    data = tink_pb2.KeyData(type_url="type.googleapis.com/google.crypto.tink." + type_url,
                            value=key.SerializeToString(), key_material_type=tink_pb2.KeyData.SYMMETRIC)
    keyset = tink_pb2.Keyset(primary_key_id=1, key=[tink_pb2.Keyset.Key(
        key_data=data, status=tink_pb2.ENABLED, key_id=1, output_prefix_type=tink_pb2.RAW)])
    return tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN).primitive(kind)


def read_header(f):
    preamble = f.read(14)
    if len(preamble) < 14 or preamble[:8] != MAGIC:
        raise Refused("not an infinity-backup archive (magic bytes do not match)")
    version, n = struct.unpack(">HI", preamble[8:])
    if version not in (1, 2) or n > 65536:
        raise Refused(f"unsupported archive: format version {version}, header of {n} bytes")
    raw = preamble + f.read(n)
    if len(raw) != 14 + n:
        raise Refused("archive truncated inside its header")
    header = json.loads(raw[14:])
    if header.get("aead") != "AES256_GCM_HKDF_1MB":
        raise Refused(f"unsupported body encryption {header.get('aead')!r}")
    if (version == 2) != (header.get("keyRef") == REPOSITORY_KEY_REF and "wrappedKey" not in header):
        raise Refused(f"format {version} header with keyRef {header.get('keyRef')!r} is not valid")
    return header, raw  # the raw bytes are the body's associated data


def gcm_open(key, wrapped, ad, what):
    """0x01 || nonce (12) || ciphertext (32) || tag (16): Tink's RAW AES-GCM after the first byte."""
    if len(wrapped) != 61 or wrapped[0] != 1:
        raise Refused(f"{what} is not in the wrapped key format")
    gcm = primitive("AesGcmKey", aes_gcm_pb2.AesGcmKey(version=0, key_value=key), aead.Aead)
    try:
        return gcm.decrypt(wrapped[1:], ad)
    except tink.TinkError:
        raise Refused(f"{what} could not be unwrapped (wrong key or damaged record)") from None


def wrapping(header, record):
    """What the key file or KMS unwraps: the data key (format 1) or the repository key (format 2)."""
    if header["keyRef"] != REPOSITORY_KEY_REF:
        return header["keyRef"], base64.b64decode(header["wrappedKey"]), "data key"
    if record is None:
        raise Refused("this archive keeps its data key in the index: give --key-record "
                      "(the index.sqlite, or what `infinity-backup keys export` prints)")
    key = record["repositoryKey"]
    return key["keyRef"], base64.b64decode(key["wrapped"]), f"repository key {key['id']}"


def unwrap_local(ref, wrapped, what, key_file):
    with open(key_file) as f:
        keys = {"local:" + k["id"]: base64.b64decode(k["key"]) for k in json.load(f)["keys"]}
    if ref not in keys:
        raise Refused(f"{key_file} has no key {ref}")
    return gcm_open(keys[ref], wrapped, ref.encode(), f"{what} (wrapped with {ref})")


def open_data_key(record, repository_key):
    """Format 2: the key record's data key, unwrapped with the repository key."""
    key_id, snapshot = record["dataKey"]["keyId"], record["snapshotId"]
    if key_id != record["repositoryKey"]["id"]:
        raise Refused(f"the key record's data key names repository key {key_id}, not the one it holds")
    ad = f"infinity-backup archive key v1\n{key_id}\n{snapshot}".encode()
    return gcm_open(repository_key, base64.b64decode(record["dataKey"]["wrapped"]), ad,
                    f"the data key of {snapshot}")


def load_record(path, header):
    """The snapshot's key record: a JSON file, or looked up in the local index (SQLite)."""
    with open(path, "rb") as f:
        sqlite = f.read(16) == b"SQLite format 3\x00"
    if not sqlite:
        with open(path) as f:
            record = json.load(f)
    else:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT repo, key_id, wrapped FROM data_keys WHERE snapshot_id = ?",
                              (header["snapshotId"],)).fetchall()
            if len(rows) > 1:
                rows = [r for r in rows if r[0] == header["repo"]]
            if len(rows) != 1:
                raise Refused(f"{path} has no data key record of snapshot {header['snapshotId']}")
            repo, key_id, wrapped = rows[0]
            found = db.execute("SELECT record FROM repository_keys WHERE repo = ?", (repo,)).fetchone()
        finally:
            db.close()
        keys = json.loads(found[0]) if found else {"keys": []}
        if keys.get("shredded"):
            s = keys["shredded"]
            raise Refused(f"{repo} was forgotten at {s['at']} by {s['by']} ({s['reason']}): "
                          f"its keys are destroyed, the archive is shredded")
        key = next((k for k in keys["keys"] if k["id"] == key_id), None)
        if key is None:
            raise Refused(f"{path} has no repository key {key_id} of {repo}")
        record = {"version": 1, "repo": repo, "snapshotId": header["snapshotId"],
                  "dataKey": {"keyId": key_id, "wrapped": wrapped},
                  "repositoryKey": {"id": key["id"], "keyRef": key["keyRef"], "wrapped": key["wrapped"]}}
    if record.get("snapshotId") != header["snapshotId"]:
        raise Refused(f"the key record is of snapshot {record.get('snapshotId')}, not {header['snapshotId']}")
    return record


def kms_request(path, header, record):
    ref, wrapped, what = wrapping(header, record)
    if not ref.startswith("projects/"):
        raise Refused(f"this archive's key is {ref}, not a Cloud KMS key: use --key-file")
    with open(path + ".wrapped-key", "wb") as f:
        f.write(wrapped)
    with open(path + ".aad", "wb") as f:
        f.write(b"infinity-backup data key v1\n" + ref.encode())
    out = path + (".data-key" if what == "data key" else ".repository-key")
    print(f"gcloud kms decrypt --key={ref.rsplit('/cryptoKeyVersions/', 1)[0]} "
          f"--ciphertext-file={path}.wrapped-key --additional-authenticated-data-file={path}.aad "
          f"--plaintext-file={out}")


def body(f, data_key, ad):
    if len(data_key) != 32:
        raise Refused(f"a data key is 32 bytes, got {len(data_key)}")
    params = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
        ciphertext_segment_size=1 << 20, derived_key_size=32, hkdf_hash_type=common_pb2.HashType.SHA256)
    key = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(version=0, key_value=data_key, params=params)
    saead = primitive("AesGcmHkdfStreamingKey", key, streaming_aead.StreamingAead)
    return saead.new_decrypting_stream(f, ad)  # hands out each segment only once it is authenticated


class Tee(io.RawIOBase):
    """Reads the plaintext for tarfile, copying it to the --tar output on the way. No read spans
    two segments (1048520 plaintext bytes in segment 0, 1048560 in the others), so that a
    failure names its segment."""

    def __init__(self, source, copy):
        self.source, self.copy, self.bytes = source, copy, 0

    def readable(self):
        return True

    def readinto(self, b):
        n = self.bytes - FIRST_SEGMENT
        left = -n if n < 0 else SEGMENT - n % SEGMENT
        data = self.source.read(min(len(b), left)) or b""
        self.bytes += len(data)
        if self.copy:
            self.copy.write(data)
        b[: len(data)] = data
        return len(data)


def unpack(plain, header, out_dir):
    """Reads the tar stream, joins parts into files (under out_dir if given), checks the manifest."""
    files, manifest, text, current = {}, None, b"", None
    with tarfile.open(fileobj=plain, mode="r|") as tar:
        for entry in tar:
            if manifest is not None:
                raise Refused(f"entry {entry.name} follows manifest.json, which must be last")
            if not entry.isfile():
                raise Refused(f"entry {entry.name} is not a file")
            data = tar.extractfile(entry)
            if entry.name == "manifest.json":
                text = data.read(MAX_MANIFEST + 1)
                if len(text) > MAX_MANIFEST:
                    raise Refused(f"manifest.json exceeds {MAX_MANIFEST} bytes")
                manifest = json.loads(text)
                continue
            match = PART.match(entry.name)
            if not match or match[1].startswith("/") or ".." in match[1].split("/"):
                raise Refused(f"unexpected entry {entry.name}")
            path, index = match[1], int(match[2])
            if path != current and path in files:
                raise Refused(f"parts of {path} are not contiguous")
            current = path
            parts, digest, size = files.setdefault(path, ([], hashlib.sha256(), [0]))
            if index != len(parts):
                raise Refused(f"{entry.name} is out of order: expected part {len(parts)}")
            parts.append(entry.name)
            out = None
            if out_dir:
                os.makedirs(os.path.dirname(os.path.join(out_dir, path)), exist_ok=True)
                out = open(os.path.join(out_dir, path), "ab")
            for chunk in iter(lambda: data.read(1 << 20), b""):
                size[0] += len(chunk)
                digest.update(chunk)
                if out:
                    out.write(chunk)
            if out:
                out.close()
    while plain.read(1 << 20):  # to the end, so that the final segment is authenticated too
        pass
    if manifest is None:
        raise Refused("archive has no manifest.json")
    if (manifest["snapshotId"], manifest["repo"]) != (header["snapshotId"], header["repo"]):
        raise Refused("manifest and header name different snapshots")
    listed = {e["path"]: e for e in manifest["entries"]}
    for path, (parts, digest, size) in files.items():
        e = listed.pop(path, None)
        if not e or (e["parts"], e["size"], e["sha256"]) != (parts, size[0], digest.hexdigest()):
            raise Refused(f"{path} does not match the manifest")
    if listed:
        raise Refused(f"manifest lists files missing from the archive: {', '.join(listed)}")
    if out_dir:
        with open(os.path.join(out_dir, "manifest.json"), "wb") as f:
            f.write(text)
    return manifest


def main():
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("archive")
    key = cli.add_mutually_exclusive_group(required=True)
    key.add_argument("--key-file", help="the local key file (keys.json)")
    key.add_argument("--data-key", help="the 32-byte data key, as gcloud kms decrypt wrote it (format 1)")
    key.add_argument("--repository-key", help="the 32-byte repository key, as gcloud kms decrypt wrote it")
    key.add_argument("--kms-request", action="store_true", help="write the files gcloud needs, print its command")
    cli.add_argument("--key-record", help="format 2: the local index.sqlite, or `keys export` JSON")
    cli.add_argument("--tar", help="write the decrypted tar stream to this file")
    cli.add_argument("--extract", help="write each file, parts joined, into this new folder")
    args = cli.parse_args()
    streaming_aead.register()
    aead.register()
    made = []  # outputs this run created: removed again if anything fails
    plain = None
    try:
        with open(args.archive, "rb") as f:
            header, ad = read_header(f)
            record = load_record(args.key_record, header) if args.key_record else None
            if args.kms_request:
                return kms_request(args.archive, header, record)
            for path in (args.tar, args.extract):
                if path and os.path.exists(path):
                    raise Refused(f"{path} already exists")
            if args.key_file:
                clear = unwrap_local(*wrapping(header, record), args.key_file)
                data_key = open_data_key(record, clear) if header["keyRef"] == REPOSITORY_KEY_REF else clear
            elif args.repository_key:
                if record is None:
                    raise Refused("--repository-key needs --key-record (the data key is in the key record)")
                with open(args.repository_key, "rb") as k:
                    data_key = open_data_key(record, k.read())
            else:
                with open(args.data_key, "rb") as k:
                    data_key = k.read()
            if args.extract:
                os.makedirs(args.extract)
                made.append(args.extract)
            copy = open(args.tar, "xb") if args.tar else None
            made += [args.tar] if args.tar else []
            plain = Tee(body(f, data_key, ad), copy)
            with copy or io.BytesIO():
                manifest = unpack(io.BufferedReader(plain, 1 << 20), header, args.extract)
    except (Refused, OSError, tink.TinkError, tarfile.TarError, KeyError, TypeError, ValueError) as err:
        for path in made:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.remove(path)
        if isinstance(err, tink.TinkError):
            n = plain.bytes if plain else 0
            segment = 0 if n < FIRST_SEGMENT else 1 + (n - FIRST_SEGMENT) // SEGMENT
            err = (f"segment {segment} failed authentication: the archive is damaged or truncated, "
                   f"its header is not the one it was sealed with, or the key is wrong (Tink: {err})")
        sys.exit(f"decrypt.py: {args.archive}: {err}")
    print(f"{args.archive}: {manifest['repo']} snapshot {manifest['snapshotId']} ({manifest['kind']}): "
          f"{len(manifest['entries'])} file(s), every segment authenticated, manifest checked")


if __name__ == "__main__":
    main()
