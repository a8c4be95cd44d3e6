"""Why ingest set a message aside: one code per reason, used as metric label and dead-letter topic level."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """The reason a message was rejected.

    The value is the lowercase name; it appears in the metric label ``reason=...``, in the
    dead-letter topic (``v2x/v1/deadletter/{reason}``) and in its ``reason`` user property.
    """

    #: The topic is not an uplink of the contract's topic tree.
    BAD_TOPIC = "bad_topic"
    #: The payload is larger than :attr:`ingest.Limits.max_payload_bytes`.
    TOO_LARGE = "too_large"
    #: The sender exceeded its token bucket (:attr:`ingest.Limits.rate_per_s`).
    RATE_LIMITED = "rate_limited"
    #: The payload is not a protobuf ``Envelope``.
    DECODE_ERROR = "decode_error"
    #: The envelope's ``schema_version`` is not one this build reads.
    SCHEMA_VERSION = "schema_version"
    #: The sender id in the payload differs from the topic's ``{id}`` level.
    SENDER_MISMATCH = "sender_mismatch"
    #: The envelope has no body, or a body that does not belong on this topic's channel.
    UNKNOWN_BODY = "unknown_body"
    #: A columnar message whose columns have different lengths.
    COLUMN_MISMATCH = "column_mismatch"
    #: A value outside its wire range (position, speed, heading, class, covariance, id length).
    OUT_OF_RANGE = "out_of_range"
    #: The sender's or the body's timestamp lies outside the skew window around the receive time.
    CLOCK_SKEW = "clock_skew"
    #: A sequence number already seen from this sender.
    DUPLICATE = "duplicate"
    #: A sequence number whose gap was already given up (arrived after its reorder window).
    STALE_REORDER = "stale_reorder"
    #: A standard-message frame arrived but no standard codec (``codec`` package) is installed.
    STD_UNAVAILABLE = "std_unavailable"
    #: The standard codec could not decode a standard-message frame.
    STD_DECODE_ERROR = "std_decode_error"
    #: A bug in ingest itself; logged with its traceback, the message is kept aside.
    INTERNAL_ERROR = "internal_error"
    #: A device registered as signing sent a frame without a signature.
    UNSIGNED = "unsigned"
    #: The frame's signature does not verify against the named key: forged or altered.
    BAD_SIGNATURE = "bad_signature"
    #: The frame names a key the device never registered.
    UNKNOWN_KEY = "unknown_key"
    #: The frame's key was not valid when the frame says it was sent (not yet, or retired).
    KEY_NOT_VALID = "key_not_valid"
    #: A signed frame sent longer ago than the replay window allows.
    REPLAY_OLD = "replay_old"
    #: A signed frame already accepted (same sequence number and send time): a replay.
    REPLAY_DUPLICATE = "replay_duplicate"
    #: The vehicle's owner revoked consent: its message is dropped unread (never kept).
    REVOKED = "revoked"
