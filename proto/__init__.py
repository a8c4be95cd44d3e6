"""The wire contract: protobuf messages, MQTT topic tree, units and numpy codecs."""

from proto import xiangjiang_pb2 as pb
from proto.arrays import (
    DETECTION_DTYPE,
    LANE_STATE_DTYPE,
    VEHICLE_REPORT_DTYPE,
    empty_detections,
    empty_lane_states,
)
from proto.codec import (
    BSM_DTYPE,
    PERCEPTION_DTYPE,
    SCHEMA_VERSION,
    CodecError,
    array_to_bsm_batch,
    array_to_bsms,
    array_to_perception,
    bsm_batch_to_array,
    bsms_to_array,
    envelope,
    now_ns,
    perception_to_array,
)
from proto.topics import Topic, TopicError, parse, subscription, topic

__all__ = [
    "BSM_DTYPE",
    "DETECTION_DTYPE",
    "LANE_STATE_DTYPE",
    "PERCEPTION_DTYPE",
    "SCHEMA_VERSION",
    "VEHICLE_REPORT_DTYPE",
    "CodecError",
    "Topic",
    "TopicError",
    "array_to_bsm_batch",
    "array_to_bsms",
    "array_to_perception",
    "bsm_batch_to_array",
    "bsms_to_array",
    "empty_detections",
    "empty_lane_states",
    "envelope",
    "now_ns",
    "parse",
    "pb",
    "perception_to_array",
    "subscription",
    "topic",
]
