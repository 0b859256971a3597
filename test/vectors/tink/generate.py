#!/usr/bin/env python3
"""Interop vectors between Google Tink's AES256_GCM_HKDF_1MB streaming AEAD and ours.

DEV TOOL, NOT RUN BY CI. Tink is not a project dependency; the fixtures this writes are committed,
and test/unit/archive/tink-vectors.test.ts checks them with no Tink installed. Run it by hand, in a
throwaway venv outside the repo:

    python3 -m venv /tmp/tinkenv && /tmp/tinkenv/bin/pip install tink
    /tmp/tinkenv/bin/python test/vectors/tink/generate.py generate

Commands:

  generate
      Builds a Tink keyset holding one AesGcmHkdfStreamingKey whose key_value is KEY_HEX (derived key
      size 32, HKDF SHA256, ciphertext_segment_size 1048576: the AES256_GCM_HKDF_1MB parameters),
      encrypts each plaintext of VECTORS with Tink, and writes the ciphertexts as <name>.bin beside
      this file plus the "tink" list of index.json. Tink draws a fresh salt and nonce prefix each
      time, so a rerun rewrites every .bin with different (equally valid) bytes.

  check-ours DIR [--commit NAME ...]
      DIR holds ciphertexts made by OUR EncryptStream and a manifest.json listing them, as written by
      `npx tsx test/vectors/tink/encrypt-ours.ts DIR`. Decrypts each with Tink and compares length and
      SHA-256 with the manifest; exits non-zero on any mismatch. With --commit, copies the named ones
      to ours-<name>.bin beside this file and records them, with the SHA-256 Tink decrypted, in the
      "ours" list of index.json.

Plaintexts are never stored: plaintext(n) is the first n bytes of
SHA-256(PLAINTEXT_LABEL || u32be(0)) || SHA-256(PLAINTEXT_LABEL || u32be(1)) || ...
(test/vectors/tink/plaintext.ts is the same generator in TypeScript).

Keyset-level framing: Tink's StreamingAead keyset wrapper adds no output prefix (streaming keys are
RAW; the wrapper encrypts with the primary's raw primitive and, on decryption, tries every key). This
script does not take that on trust: it also decrypts each keyset ciphertext with the bare
RawStreamingAead of the key, and asserts the header length byte and the total length of the bytes.
"""

import argparse
import datetime
import hashlib
import io
import json
import os
import shutil
import struct
import sys

import tink
from tink import secret_key_access, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, common_pb2, tink_pb2
from tink.streaming_aead import _raw_streaming_aead

HERE = os.path.dirname(os.path.abspath(__file__))
INDEX = os.path.join(HERE, "index.json")

# A test key, public on purpose. Never use it for anything else.
KEY_HEX = "6a1f0c5e93b2d8470e21f4c3a95b7d60182e3f4a5b6c7d8e9fa0b1c2d3e4f506"
AD_TEXT = "infinity-backup tink interop vector"
PLAINTEXT_LABEL = b"infinity-backup/tink-vectors/plaintext"
AD_LABEL = b"infinity-backup/tink-vectors/associated-data"

TYPE_URL = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"
SEGMENT_SIZE = 1 << 20
HEADER_SIZE = 1 + 32 + 7
TAG_SIZE = 16
FIRST_SEGMENT_PLAINTEXT = SEGMENT_SIZE - HEADER_SIZE - TAG_SIZE  # 1048520
SEGMENT_PLAINTEXT = SEGMENT_SIZE - TAG_SIZE


def sha256_stream(label: bytes, n: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(label + struct.pack(">I", counter)).digest()
        counter += 1
    return bytes(out[:n])


def plaintext(n: int) -> bytes:
    return sha256_stream(PLAINTEXT_LABEL, n)


DEFAULT_AD = AD_TEXT.encode()
# Longer than 1 KiB: node's crypto.hkdf refuses such an `info`, which is why ours writes HKDF out.
LONG_AD = sha256_stream(AD_LABEL, 1500)

# (name, plaintext length, associated data)
VECTORS = [
    ("empty", 0, DEFAULT_AD),
    ("one-byte", 1, DEFAULT_AD),
    ("first-segment-exact", FIRST_SEGMENT_PLAINTEXT, DEFAULT_AD),
    ("first-segment-plus-one", FIRST_SEGMENT_PLAINTEXT + 1, DEFAULT_AD),
    ("three-and-a-half-mib", 3_670_016, DEFAULT_AD),
    ("empty-ad", 1000, b""),
    ("long-ad", 1000, LONG_AD),
]


def expected_segments(n: int) -> int:
    """Segment count when no empty final segment is added after a full one."""
    if n <= FIRST_SEGMENT_PLAINTEXT:
        return 1
    return 1 + -(-(n - FIRST_SEGMENT_PLAINTEXT) // SEGMENT_PLAINTEXT)


def key_data() -> tink_pb2.KeyData:
    key = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(
        version=0,
        key_value=bytes.fromhex(KEY_HEX),
        params=aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
            ciphertext_segment_size=SEGMENT_SIZE,
            derived_key_size=32,
            hkdf_hash_type=common_pb2.HashType.SHA256,
        ),
    )
    return tink_pb2.KeyData(
        type_url=TYPE_URL,
        value=key.SerializeToString(),
        key_material_type=tink_pb2.KeyData.SYMMETRIC,
    )


def keyset_primitive() -> streaming_aead.StreamingAead:
    keyset = tink_pb2.Keyset(
        primary_key_id=1,
        key=[
            tink_pb2.Keyset.Key(
                key_data=key_data(),
                status=tink_pb2.ENABLED,
                key_id=1,
                output_prefix_type=tink_pb2.RAW,
            )
        ],
    )
    handle = tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)
    return handle.primitive(streaming_aead.StreamingAead)


def raw_primitive() -> _raw_streaming_aead.RawStreamingAead:
    return tink.core.Registry.primitive(key_data(), _raw_streaming_aead.RawStreamingAead)


class _Sink(io.BytesIO):
    """A BytesIO whose contents survive the encrypting stream closing it."""

    def close(self) -> None:
        self.final = self.getvalue()
        super().close()


def tink_encrypt(primitive, data: bytes, ad: bytes) -> bytes:
    sink = _Sink()
    with primitive.new_encrypting_stream(sink, ad) as enc:
        # Uneven writes, so nothing depends on writes lining up with segments.
        for i in range(0, len(data), 100_003):
            enc.write(data[i : i + 100_003])
    return sink.final


def tink_decrypt(primitive, ciphertext: bytes, ad: bytes) -> bytes:
    with primitive.new_decrypting_stream(io.BytesIO(ciphertext), ad) as dec:
        return dec.read()


def raw_decrypt(raw, ciphertext: bytes, ad: bytes) -> bytes:
    stream = raw.new_raw_decrypting_stream(io.BytesIO(ciphertext), ad, close_ciphertext_source=True)
    out = bytearray()
    while True:
        chunk = stream.read(1 << 16)
        if chunk is None:
            continue
        if not chunk:
            break
        out += chunk
    stream.close()
    return bytes(out)


def load_index() -> dict:
    if os.path.exists(INDEX):
        with open(INDEX) as f:
            return json.load(f)
    return {}


def save_index(index: dict) -> None:
    with open(INDEX, "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")


def index_header(index: dict) -> dict:
    index.update(
        {
            "comment": "Written by generate.py (a dev tool, not run by CI). Checked by "
            "test/unit/archive/tink-vectors.test.ts. Plaintexts are not stored: see plaintext.ts.",
            "keyHex": KEY_HEX,
            "plaintextLabel": PLAINTEXT_LABEL.decode(),
            "tinkKeyTemplate": "AES256_GCM_HKDF_1MB (AesGcmHkdfStreamingKey: derived key 32, "
            "HKDF SHA256, ciphertext_segment_size 1048576)",
        }
    )
    return index


def cmd_generate() -> int:
    streaming_aead.register()
    primitive = keyset_primitive()
    raw = raw_primitive()
    entries = []
    for name, n, ad in VECTORS:
        data = plaintext(n)
        ct = tink_encrypt(primitive, data, ad)
        assert ct[0] == HEADER_SIZE, f"{name}: header length byte {ct[0]}"
        segments = expected_segments(n)
        assert len(ct) == HEADER_SIZE + n + segments * TAG_SIZE, (
            f"{name}: {len(ct)} bytes, expected {HEADER_SIZE + n + segments * TAG_SIZE}"
        )
        assert tink_decrypt(primitive, ct, ad) == data, f"{name}: keyset round trip"
        assert raw_decrypt(raw, ct, ad) == data, f"{name}: raw primitive cannot read keyset output"
        file = f"{name}.bin"
        with open(os.path.join(HERE, file), "wb") as f:
            f.write(ct)
        entries.append(
            {
                "name": name,
                "file": file,
                "plaintextLength": n,
                "plaintextSha256": hashlib.sha256(data).hexdigest(),
                "associatedDataHex": ad.hex(),
                "ciphertextLength": len(ct),
                "segments": segments,
            }
        )
        print(f"{name}: plaintext {n} B -> ciphertext {len(ct)} B, {segments} segment(s)")
    index = index_header(load_index())
    index["tinkVersion"] = tink_version()
    index["generated"] = datetime.date.today().isoformat()
    index["tink"] = entries
    save_index(index)
    return 0


def cmd_check_ours(directory: str, commit: list) -> int:
    streaming_aead.register()
    primitive = keyset_primitive()
    raw = raw_primitive()
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    failures = 0
    passed = {}
    for entry in manifest["vectors"]:
        with open(os.path.join(directory, entry["file"]), "rb") as f:
            ct = f.read()
        ad = bytes.fromhex(entry["associatedDataHex"])
        try:
            data = tink_decrypt(primitive, ct, ad)
            raw_data = raw_decrypt(raw, ct, ad)
        except Exception as err:  # noqa: BLE001 - any Tink refusal is the finding
            print(f"FAIL {entry['name']}: Tink refused it: {err!r}")
            failures += 1
            continue
        digest = hashlib.sha256(data).hexdigest()
        ok = (
            len(data) == entry["plaintextLength"]
            and digest == entry["plaintextSha256"]
            and raw_data == data
        )
        print(f"{'ok  ' if ok else 'FAIL'} {entry['name']}: Tink decrypted {len(data)} B, sha256 {digest}")
        if ok:
            passed[entry["name"]] = (entry, ct, digest)
        else:
            failures += 1
    print(f"{len(passed)} passed, {failures} failed")
    if commit:
        index = index_header(load_index())
        ours = {e["name"]: e for e in index.get("ours", [])}
        for name in commit:
            if name not in passed:
                print(f"not committing {name}: it did not pass", file=sys.stderr)
                return 1
            entry, ct, digest = passed[name]
            file = f"ours-{name}.bin"
            with open(os.path.join(HERE, file), "wb") as f:
                f.write(ct)
            ours[name] = {
                "name": name,
                "file": file,
                "plaintextLength": entry["plaintextLength"],
                "plaintextSha256": entry["plaintextSha256"],
                "tinkDecryptedSha256": digest,
                "associatedDataHex": entry["associatedDataHex"],
                "ciphertextLength": len(ct),
                "checkedWith": f"tink {tink_version()} (python), {datetime.date.today().isoformat()}",
            }
        index["ours"] = list(ours.values())
        save_index(index)
    return 1 if failures else 0


def tink_version() -> str:
    try:
        from importlib.metadata import version

        return version("tink")
    except Exception:  # noqa: BLE001
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("generate")
    check = sub.add_parser("check-ours")
    check.add_argument("dir")
    check.add_argument("--commit", nargs="*", default=[])
    args = parser.parse_args()
    if args.cmd == "generate":
        return cmd_generate()
    return cmd_check_ours(args.dir, args.commit)


if __name__ == "__main__":
    sys.exit(main())
