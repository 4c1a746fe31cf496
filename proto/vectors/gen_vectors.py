#!/usr/bin/env python3
"""Wire-format test vectors, written from docs/protocol.md independently of the C code.

Run: python3 proto/vectors/gen_vectors.py > proto/vectors/v1.txt
Needs Python 3 with hashlib (BLAKE2b) and the 'cryptography' package (Ed25519). The C suite
tests/portable/test_vectors.c decodes every vector and re-encodes it; it must give the same bytes on
little- and big-endian builds.
"""
import hashlib
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

out = []
NO_OTHER = 0xFFFFFFFFFFFFFFFF


def emit(name, **fields):
    out.append("[%s]" % name)
    for k, v in fields.items():
        if isinstance(v, (bytes, bytearray)):
            v = v.hex()
        out.append("%s = %s" % (k, v))
    out.append("")


def report(version, mech, plen, cid, fp, rid, time, payload, reserved=0):
    return struct.pack("<BBHIQ", version, mech, reserved, plen, cid) + fp + rid + \
        struct.pack("<Q", time) + payload


def config(cid, mech, k, eps_bits, q, t, prec, minr, version=1, reserved=0, perm_bits=0, pool=0,
           pool_key=0, block=0, labels_hash=None, other=NO_OTHER):
    if labels_hash is not None:  # version 2: the labels hash and the "other" item follow
        version = 2 if version == 1 else version
    b = struct.pack("<BBHQQQIIIIQIQQ", version, mech, reserved, cid, k, eps_bits, q, t, prec, minr,
                    perm_bits, pool, pool_key, block)
    if labels_hash is not None:
        b += labels_hash + struct.pack("<Q", other)
    return b


def labels_list(labels):
    """The canonical label list: u64 count, then each label as u32 length and its bytes."""
    b = struct.pack("<Q", len(labels))
    for label in labels:
        raw = label.encode("utf-8")
        b += struct.pack("<I", len(raw)) + raw
    return b


def labels_hash(lst):
    return hashlib.blake2b(b"pinhole-labels-v1" + lst, digest_size=32).digest()


def f64(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def fingerprint(cfg):
    return hashlib.blake2b(b"pinhole-config-v1-fp" + cfg, digest_size=16).digest()


# ---- collection configs ----
configs = [
    ("config.pgr-k1024", dict(collection_id=7, mechanism=1, k=1024, epsilon=4.0, q=67, t=3,
                              time_precision=3600, min_reports=100)),
    ("config.pgr-gf4", dict(collection_id=0xFEDCBA9876543210, mechanism=1, k=74286, epsilon=0.5,
                            q=4, t=9, time_precision=86400, min_reports=0)),
    ("config.pgr-eps-min", dict(collection_id=1, mechanism=1, k=2, epsilon=1e-6, q=2, t=2,
                                 time_precision=1, min_reports=4294967295)),
    ("config.pgr-extras", dict(collection_id=3, mechanism=1, k=100, epsilon=2.0, q=7, t=3,
                               time_precision=60, min_reports=5, epsilon_permanent=0.5,
                               pool=1024, pool_key=0xFEDCBA9876543210, block=64)),
    ("config.labels-k4", dict(collection_id=9, mechanism=2, k=4, epsilon=1.0, q=0, t=0,
                              time_precision=86400, min_reports=0,
                              labels=["alpha", "beta", "été", "other"], other=3)),
    ("config.labels-no-other", dict(collection_id=10, mechanism=2, k=2, epsilon=2.0, q=0, t=0,
                                    time_precision=1, min_reports=0, labels=["yes", "no"])),
]
LABELS = {}
encoded_cfg = {}
for name, c in configs:
    extras = dict(perm_bits=f64(c.get("epsilon_permanent", 0.0)), pool=c.get("pool", 0),
                  pool_key=c.get("pool_key", 0), block=c.get("block", 0))
    v2 = {}
    if "labels" in c:
        LABELS[name] = labels_list(c["labels"])
        extras.update(labels_hash=labels_hash(LABELS[name]), other=c.get("other", NO_OTHER))
        v2 = dict(labels_hash=extras["labels_hash"], other_item=extras["other"])
    b = config(c["collection_id"], c["mechanism"], c["k"], f64(c["epsilon"]), c["q"], c["t"],
               c["time_precision"], c["min_reports"], **extras)
    assert len(b) == (112 if v2 else 72)
    encoded_cfg[name] = b
    emit(name, collection_id=c["collection_id"], mechanism=c["mechanism"], k=c["k"],
         epsilon_bits="%016x" % f64(c["epsilon"]), q=c["q"], t=c["t"],
         time_precision=c["time_precision"], min_reports=c["min_reports"],
         epsilon_permanent_bits="%016x" % extras["perm_bits"], pool=extras["pool"],
         pool_key=extras["pool_key"], block=extras["block"], **v2, encoded=b,
         fingerprint=fingerprint(b))

good = encoded_cfg["config.pgr-k1024"]
bad_configs = [
    ("config.err-empty", b"", "ETRUNCATED"),
    ("config.err-version", bytes([3]) + good[1:], "EVERSION"),
    ("config.err-version-short", bytes([0]), "EVERSION"),
    ("config.err-short", good[:71], "ETRUNCATED"),
    ("config.err-long", good + b"\x00", "ETOOBIG"),
    ("config.err-reserved", good[:2] + b"\x01\x00" + good[4:], "EFORMAT"),
    ("config.err-mechanism0", good[:1] + b"\x00" + good[2:], "EFORMAT"),
    ("config.err-mechanism-unknown", good[:1] + b"\xc8" + good[2:], "EUNSUPPORTED"),
    ("config.err-k1", config(7, 1, 1, f64(4.0), 67, 3, 3600, 0), "EFORMAT"),
    ("config.err-eps-zero", config(7, 1, 1024, f64(0.0), 67, 3, 3600, 0), "EFORMAT"),
    ("config.err-eps-below-min", config(7, 1, 1024, f64(9.99e-07), 67, 3, 3600, 0),
     "EFORMAT"),
    ("config.err-eps-negative", config(7, 1, 1024, f64(-1.0), 67, 3, 3600, 0), "EFORMAT"),
    ("config.err-eps-nan", config(7, 1, 1024, 0x7FF8000000000000, 67, 3, 3600, 0), "EFORMAT"),
    ("config.err-eps-inf", config(7, 1, 1024, 0x7FF0000000000000, 67, 3, 3600, 0), "EFORMAT"),
    ("config.err-precision0", config(7, 1, 1024, f64(4.0), 67, 3, 0, 0), "EFORMAT"),
    ("config.err-pgr-q0", config(7, 1, 1024, f64(4.0), 0, 3, 3600, 0), "EFORMAT"),
    ("config.err-pgr-t1", config(7, 1, 1024, f64(4.0), 67, 1, 3600, 0), "EFORMAT"),
    ("config.err-perm-negative", config(7, 1, 1024, f64(4.0), 67, 3, 3600, 0, perm_bits=f64(-1.0)),
     "EFORMAT"),
    ("config.err-perm-minus-zero", config(7, 1, 1024, f64(4.0), 67, 3, 3600, 0,
                                          perm_bits=0x8000000000000000), "EFORMAT"),
    ("config.err-perm-nan", config(7, 1, 1024, f64(4.0), 67, 3, 3600, 0,
                                   perm_bits=0x7FF8000000000000), "EFORMAT"),
    # version 2 (labels)
    ("config.err-v2-short", encoded_cfg["config.labels-k4"][:72], "ETRUNCATED"),
    ("config.err-v1-as-v2", bytes([2]) + good[1:], "ETRUNCATED"),
    ("config.err-v2-long", encoded_cfg["config.labels-k4"] + b"\x00", "ETOOBIG"),
    ("config.err-other-item", config(9, 2, 4, f64(1.0), 0, 0, 86400, 0, labels_hash=bytes(32),
                                     other=4), "EFORMAT"),
]
for name, b, err in bad_configs:
    emit(name, encoded=b, error=err)

# ---- signed config: Ed25519 over "pinhole-config-v1-sig" || config ----
seed = bytes(range(32))
sk = Ed25519PrivateKey.from_private_bytes(seed)
pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
sig = sk.sign(b"pinhole-config-v1-sig" + good)
emit("signed.pgr-k1024", seed=seed, public_key=pk, config="config.pgr-k1024", signed=good + sig)
flipped = bytearray(good + sig)
flipped[72] ^= 1
emit("signed.err-signature", public_key=pk, signed=bytes(flipped), error="ESIGNATURE")
altered = bytearray(good + sig)
altered[12] ^= 1  # k changed after signing
emit("signed.err-altered-config", public_key=pk, signed=bytes(altered), error="ESIGNATURE")
emit("signed.err-short", public_key=pk, signed=(good + sig)[:135], error="ETRUNCATED")
emit("signed.err-long", public_key=pk, signed=good + sig + b"\x00", error="ETOOBIG")
lab = encoded_cfg["config.labels-k4"]
sig2 = sk.sign(b"pinhole-config-v1-sig" + lab)
emit("signed.labels-k4", seed=seed, public_key=pk, config="config.labels-k4", signed=lab + sig2)
emit("signed.err-labels-short", public_key=pk, signed=(lab + sig2)[:175], error="ETRUNCATED")
emit("signed.err-labels-hash", public_key=pk,
     signed=lab[:80] + bytes([lab[80] ^ 1]) + lab[81:] + sig2, error="ESIGNATURE")

# ---- label lists: canonical form and hash ----
for name in ("config.labels-k4", "config.labels-no-other"):
    lst = LABELS[name]
    emit("labels." + name[len("config."):], config=name, k=struct.unpack("<Q", lst[:8])[0],
         list=lst, hash=labels_hash(lst))
k4 = LABELS["config.labels-k4"]
bad_labels = [
    ("labels.err-short", k4[:7], "ETRUNCATED"),
    ("labels.err-count0", struct.pack("<Q", 0), "EFORMAT"),
    ("labels.err-empty-label", struct.pack("<QI", 1, 0), "EFORMAT"),
    ("labels.err-label-too-long", struct.pack("<QI", 1, 1025) + b"x" * 1025, "EFORMAT"),
    ("labels.err-cut", k4[:-1], "ETRUNCATED"),
    ("labels.err-trailing", k4 + b"\x00", "ETOOBIG"),
]
for name, b, err in bad_labels:
    emit(name, list=b, error=err)

# ---- reports ----
fp = fingerprint(good)
rid = bytes(range(0x10, 0x20))
reports = [
    ("report.pgr-k1024", dict(mechanism=1, collection_id=7, fingerprint=fp, report_id=rid,
                              time=493921, payload=bytes([0xc5, 0x0f]))),
    ("report.wide-1040bits", dict(mechanism=2, collection_id=0xFFFFFFFFFFFFFFFF,
                                  fingerprint=bytes(16), report_id=bytes([0xff]) * 16,
                                  time=0xFFFFFFFFFFFFFFFF,
                                  payload=bytes((i * 37 + 11) & 0xFF for i in range(130)))),
    ("report.payload-9bytes", dict(mechanism=3, collection_id=0x0102030405060708,
                                   fingerprint=bytes(range(16)), report_id=bytes(16), time=1,
                                   payload=bytes([1, 2, 3, 4, 5, 6, 7, 8, 0x80]))),
]
encoded_rep = {}
for name, r in reports:
    b = report(1, r["mechanism"], len(r["payload"]), r["collection_id"], r["fingerprint"],
               r["report_id"], r["time"], r["payload"])
    encoded_rep[name] = b
    emit(name, mechanism=r["mechanism"], collection_id=r["collection_id"],
         fingerprint=r["fingerprint"], report_id=r["report_id"], time=r["time"],
         payload=r["payload"], encoded=b)

g = encoded_rep["report.pgr-k1024"]
bad_reports = [
    ("report.err-empty", b"", "ETRUNCATED"),
    ("report.err-version", bytes([2]) + g[1:], "EVERSION"),
    ("report.err-version-short", bytes([0xff]), "EVERSION"),
    ("report.err-header-short", g[:55], "ETRUNCATED"),
    ("report.err-reserved", g[:3] + b"\x80" + g[4:], "EFORMAT"),
    ("report.err-mechanism0", g[:1] + b"\x00" + g[2:], "EFORMAT"),
    ("report.err-payload0", report(1, 1, 0, 7, fp, rid, 1, b""), "EFORMAT"),
    ("report.err-payload-huge", report(1, 1, (1 << 20) + 1, 7, fp, rid, 1, b"\x00"), "ETOOBIG"),
    ("report.err-payload-len-max32", report(1, 1, 0xFFFFFFFF, 7, fp, rid, 1, b"\x00"), "ETOOBIG"),
    ("report.err-payload-short", g[:-1], "ETRUNCATED"),
    ("report.err-trailing", g + b"\x00", "ETOOBIG"),
]
for name, b, err in bad_reports:
    emit(name, encoded=b, error=err)

# ---- batches ----


def batch(kind, items, count=None, version=1, reserved=0):
    b = struct.pack("<BBHI", version, kind, reserved, len(items) if count is None else count)
    for it in items:
        b += struct.pack("<I", len(it)) + it
    return b


items = [encoded_rep["report.pgr-k1024"], encoded_rep["report.wide-1040bits"],
         encoded_rep["report.payload-9bytes"]]
emit("batch.plain-3", kind=0, count=3, items="report.pgr-k1024 report.wide-1040bits "
     "report.payload-9bytes", encoded=batch(0, items))
emit("batch.empty", kind=0, count=0, items="", encoded=batch(0, []))
b3 = batch(0, items)
bad_batches = [
    ("batch.err-empty", b"", "ETRUNCATED"),
    ("batch.err-version", batch(0, items, version=2), "EVERSION"),
    ("batch.err-header-short", b3[:7], "ETRUNCATED"),
    ("batch.err-kind", batch(2, items), "EFORMAT"),
    ("batch.err-reserved", batch(0, items, reserved=1), "EFORMAT"),
    ("batch.err-count-limit", batch(0, [], count=65537), "ETOOBIG"),
    ("batch.err-count-short", batch(0, items, count=4), "ETRUNCATED"),
    ("batch.err-count-long", batch(0, items, count=2), "ETOOBIG"),
    ("batch.err-item0", batch(0, [b""]), "EFORMAT"),
    ("batch.err-item-huge", struct.pack("<BBHII", 1, 0, 0, 1, (1 << 20) + 57), "ETOOBIG"),
    ("batch.err-item-short", b3[:-1], "ETRUNCATED"),
    ("batch.err-length-cut", b3[:8 + 2], "ETRUNCATED"),
    ("batch.err-trailing", b3 + b"\x00", "ETOOBIG"),
]
for name, b, err in bad_batches:
    emit(name, encoded=b, error=err)

# ---- sealed report ----
# crypto_box_seal draws an ephemeral key, so a seal cannot be recomputed: this one was made once
# with libsodium by proto/vectors/seal_vector.c (crypto_box_seal of report.pgr-k1024 to the key pair
# of the seed below) and is checked by opening it. The key pair is libsodium's crypto_box_seed_keypair: the X25519 secret key
# is the first 32 bytes of SHA-512(seed).
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

box_seed = bytes(range(0x20, 0x40))
box_sk = hashlib.sha512(box_seed).digest()[:32]
box_pk = X25519PrivateKey.from_private_bytes(box_sk).public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw)
SEALED = bytes.fromhex(
    "063dab8dbefda7218f0a8e15527defbcf2ba2fe80b68f82121dfce90e52daa45e67ae5c561ca1a73beea9c8f524fd67b"
    "63cf226b5fe308645b9d508346fc55f8137bee44a1f7db39eb74b1319a476425479a0bef8b04e5bf8605e41eda64440e"
    "37bec799e902ac8e3b69")
assert len(SEALED) == len(encoded_rep["report.pgr-k1024"]) + 48
emit("seal.pgr-k1024", seed=box_seed, public_key=box_pk, report="report.pgr-k1024", sealed=SEALED)
cut = bytearray(SEALED)
cut[70] ^= 0x10
emit("seal.err-altered", seed=box_seed, sealed=bytes(cut), error="ESIGNATURE")
emit("seal.err-short", seed=box_seed, sealed=SEALED[:48], error="ETRUNCATED")

print("# Pinhole wire-format test vectors, version 1 (docs/protocol.md). Generated by")
print("# proto/vectors/gen_vectors.py; checked by tests/portable/test_vectors.c. Byte strings are hex.")
print("# Integers are decimal; epsilon is given by its IEEE-754 binary64 bits (hex).")
print()
print("\n".join(out), end="")
