"""Reading one namespace into the read-only view (`selfheal.view.Snapshot`): the paging reader
(`reader`) and the decoders (`decode`) behind it."""

from selfheal.snapshot.decode import SnapshotError, decode_object, decode_page
from selfheal.snapshot.reader import read_snapshot

__all__ = ["SnapshotError", "decode_object", "decode_page", "read_snapshot"]
