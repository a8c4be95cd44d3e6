from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ObjectClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OBJECT_CLASS_UNKNOWN: _ClassVar[ObjectClass]
    OBJECT_CLASS_CAR: _ClassVar[ObjectClass]
    OBJECT_CLASS_BUS: _ClassVar[ObjectClass]
    OBJECT_CLASS_TRUCK: _ClassVar[ObjectClass]
    OBJECT_CLASS_ROBOTAXI: _ClassVar[ObjectClass]
    OBJECT_CLASS_PEDESTRIAN: _ClassVar[ObjectClass]
    OBJECT_CLASS_CYCLIST: _ClassVar[ObjectClass]
    OBJECT_CLASS_MOTORCYCLE: _ClassVar[ObjectClass]
    OBJECT_CLASS_EMERGENCY: _ClassVar[ObjectClass]

class LightState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIGHT_STATE_UNAVAILABLE: _ClassVar[LightState]
    LIGHT_STATE_DARK: _ClassVar[LightState]
    LIGHT_STATE_STOP_THEN_PROCEED: _ClassVar[LightState]
    LIGHT_STATE_STOP_AND_REMAIN: _ClassVar[LightState]
    LIGHT_STATE_PRE_MOVEMENT: _ClassVar[LightState]
    LIGHT_STATE_PERMISSIVE_GREEN: _ClassVar[LightState]
    LIGHT_STATE_PROTECTED_GREEN: _ClassVar[LightState]
    LIGHT_STATE_PERMISSIVE_CLEARANCE: _ClassVar[LightState]
    LIGHT_STATE_PROTECTED_CLEARANCE: _ClassVar[LightState]
    LIGHT_STATE_CAUTION_CONFLICTING: _ClassVar[LightState]

class ControlMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROL_MODE_UNKNOWN: _ClassVar[ControlMode]
    CONTROL_MODE_LOCAL_PLAN: _ClassVar[ControlMode]
    CONTROL_MODE_CLOUD: _ClassVar[ControlMode]
    CONTROL_MODE_OVERRIDE: _ClassVar[ControlMode]
    CONTROL_MODE_FALLBACK: _ClassVar[ControlMode]
    CONTROL_MODE_FLASHING: _ClassVar[ControlMode]

class CommandKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMAND_KIND_UNSPECIFIED: _ClassVar[CommandKind]
    COMMAND_KIND_HOLD_PHASE: _ClassVar[CommandKind]
    COMMAND_KIND_FORCE_PHASE: _ClassVar[CommandKind]
    COMMAND_KIND_SET_PROGRAM: _ClassVar[CommandKind]
    COMMAND_KIND_ALL_RED: _ClassVar[CommandKind]
    COMMAND_KIND_EXTEND_GREEN: _ClassVar[CommandKind]
    COMMAND_KIND_EARLY_GREEN: _ClassVar[CommandKind]
    COMMAND_KIND_RELEASE: _ClassVar[CommandKind]
    COMMAND_KIND_SET_DURATION: _ClassVar[CommandKind]

class PriorityStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_STATUS_UNKNOWN: _ClassVar[PriorityStatus]
    PRIORITY_STATUS_REQUESTED: _ClassVar[PriorityStatus]
    PRIORITY_STATUS_GRANTED: _ClassVar[PriorityStatus]
    PRIORITY_STATUS_REJECTED: _ClassVar[PriorityStatus]
    PRIORITY_STATUS_CANCELLED: _ClassVar[PriorityStatus]
    PRIORITY_STATUS_COMPLETED: _ClassVar[PriorityStatus]

class EventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_KIND_UNSPECIFIED: _ClassVar[EventKind]
    EVENT_KIND_STOPPED_VEHICLE: _ClassVar[EventKind]
    EVENT_KIND_WRONG_WAY: _ClassVar[EventKind]
    EVENT_KIND_SPEEDING: _ClassVar[EventKind]
    EVENT_KIND_RED_LIGHT_VIOLATION: _ClassVar[EventKind]
    EVENT_KIND_PEDESTRIAN_CONFLICT: _ClassVar[EventKind]
    EVENT_KIND_CONGESTION: _ClassVar[EventKind]
    EVENT_KIND_INCIDENT: _ClassVar[EventKind]
    EVENT_KIND_LANE_CLOSURE: _ClassVar[EventKind]
    EVENT_KIND_ROADWORKS: _ClassVar[EventKind]
OBJECT_CLASS_UNKNOWN: ObjectClass
OBJECT_CLASS_CAR: ObjectClass
OBJECT_CLASS_BUS: ObjectClass
OBJECT_CLASS_TRUCK: ObjectClass
OBJECT_CLASS_ROBOTAXI: ObjectClass
OBJECT_CLASS_PEDESTRIAN: ObjectClass
OBJECT_CLASS_CYCLIST: ObjectClass
OBJECT_CLASS_MOTORCYCLE: ObjectClass
OBJECT_CLASS_EMERGENCY: ObjectClass
LIGHT_STATE_UNAVAILABLE: LightState
LIGHT_STATE_DARK: LightState
LIGHT_STATE_STOP_THEN_PROCEED: LightState
LIGHT_STATE_STOP_AND_REMAIN: LightState
LIGHT_STATE_PRE_MOVEMENT: LightState
LIGHT_STATE_PERMISSIVE_GREEN: LightState
LIGHT_STATE_PROTECTED_GREEN: LightState
LIGHT_STATE_PERMISSIVE_CLEARANCE: LightState
LIGHT_STATE_PROTECTED_CLEARANCE: LightState
LIGHT_STATE_CAUTION_CONFLICTING: LightState
CONTROL_MODE_UNKNOWN: ControlMode
CONTROL_MODE_LOCAL_PLAN: ControlMode
CONTROL_MODE_CLOUD: ControlMode
CONTROL_MODE_OVERRIDE: ControlMode
CONTROL_MODE_FALLBACK: ControlMode
CONTROL_MODE_FLASHING: ControlMode
COMMAND_KIND_UNSPECIFIED: CommandKind
COMMAND_KIND_HOLD_PHASE: CommandKind
COMMAND_KIND_FORCE_PHASE: CommandKind
COMMAND_KIND_SET_PROGRAM: CommandKind
COMMAND_KIND_ALL_RED: CommandKind
COMMAND_KIND_EXTEND_GREEN: CommandKind
COMMAND_KIND_EARLY_GREEN: CommandKind
COMMAND_KIND_RELEASE: CommandKind
COMMAND_KIND_SET_DURATION: CommandKind
PRIORITY_STATUS_UNKNOWN: PriorityStatus
PRIORITY_STATUS_REQUESTED: PriorityStatus
PRIORITY_STATUS_GRANTED: PriorityStatus
PRIORITY_STATUS_REJECTED: PriorityStatus
PRIORITY_STATUS_CANCELLED: PriorityStatus
PRIORITY_STATUS_COMPLETED: PriorityStatus
EVENT_KIND_UNSPECIFIED: EventKind
EVENT_KIND_STOPPED_VEHICLE: EventKind
EVENT_KIND_WRONG_WAY: EventKind
EVENT_KIND_SPEEDING: EventKind
EVENT_KIND_RED_LIGHT_VIOLATION: EventKind
EVENT_KIND_PEDESTRIAN_CONFLICT: EventKind
EVENT_KIND_CONGESTION: EventKind
EVENT_KIND_INCIDENT: EventKind
EVENT_KIND_LANE_CLOSURE: EventKind
EVENT_KIND_ROADWORKS: EventKind

class Envelope(_message.Message):
    __slots__ = ("sender_id", "sent_ns", "seq", "schema_version", "perception", "bsm", "bsm_batch", "spat", "command", "advisory", "parking", "lamp_status", "picture", "event", "priority_request", "map", "rsi", "key_id", "signature")
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    SENT_NS_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    PERCEPTION_FIELD_NUMBER: _ClassVar[int]
    BSM_FIELD_NUMBER: _ClassVar[int]
    BSM_BATCH_FIELD_NUMBER: _ClassVar[int]
    SPAT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ADVISORY_FIELD_NUMBER: _ClassVar[int]
    PARKING_FIELD_NUMBER: _ClassVar[int]
    LAMP_STATUS_FIELD_NUMBER: _ClassVar[int]
    PICTURE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_REQUEST_FIELD_NUMBER: _ClassVar[int]
    MAP_FIELD_NUMBER: _ClassVar[int]
    RSI_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    sender_id: str
    sent_ns: int
    seq: int
    schema_version: int
    perception: PerceptionFrame
    bsm: Bsm
    bsm_batch: BsmBatch
    spat: Spat
    command: SignalCommand
    advisory: Advisory
    parking: ParkingStatus
    lamp_status: LampPostStatus
    picture: TrafficPicture
    event: Event
    priority_request: PriorityRequest
    map: MapData
    rsi: RoadsideInfo
    key_id: str
    signature: bytes
    def __init__(self, sender_id: _Optional[str] = ..., sent_ns: _Optional[int] = ..., seq: _Optional[int] = ..., schema_version: _Optional[int] = ..., perception: _Optional[_Union[PerceptionFrame, _Mapping]] = ..., bsm: _Optional[_Union[Bsm, _Mapping]] = ..., bsm_batch: _Optional[_Union[BsmBatch, _Mapping]] = ..., spat: _Optional[_Union[Spat, _Mapping]] = ..., command: _Optional[_Union[SignalCommand, _Mapping]] = ..., advisory: _Optional[_Union[Advisory, _Mapping]] = ..., parking: _Optional[_Union[ParkingStatus, _Mapping]] = ..., lamp_status: _Optional[_Union[LampPostStatus, _Mapping]] = ..., picture: _Optional[_Union[TrafficPicture, _Mapping]] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., priority_request: _Optional[_Union[PriorityRequest, _Mapping]] = ..., map: _Optional[_Union[MapData, _Mapping]] = ..., rsi: _Optional[_Union[RoadsideInfo, _Mapping]] = ..., key_id: _Optional[str] = ..., signature: _Optional[bytes] = ...) -> None: ...

class PerceptionFrame(_message.Message):
    __slots__ = ("sensor_id", "capture_ns", "local_id", "lat_e7", "lon_e7", "speed_002", "heading_00125", "length_cm", "width_cm", "object_class", "confidence_pct", "cov_ee", "cov_en", "cov_nn")
    SENSOR_ID_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_NS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ID_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    SPEED_002_FIELD_NUMBER: _ClassVar[int]
    HEADING_00125_FIELD_NUMBER: _ClassVar[int]
    LENGTH_CM_FIELD_NUMBER: _ClassVar[int]
    WIDTH_CM_FIELD_NUMBER: _ClassVar[int]
    OBJECT_CLASS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_PCT_FIELD_NUMBER: _ClassVar[int]
    COV_EE_FIELD_NUMBER: _ClassVar[int]
    COV_EN_FIELD_NUMBER: _ClassVar[int]
    COV_NN_FIELD_NUMBER: _ClassVar[int]
    sensor_id: str
    capture_ns: int
    local_id: _containers.RepeatedScalarFieldContainer[int]
    lat_e7: _containers.RepeatedScalarFieldContainer[int]
    lon_e7: _containers.RepeatedScalarFieldContainer[int]
    speed_002: _containers.RepeatedScalarFieldContainer[int]
    heading_00125: _containers.RepeatedScalarFieldContainer[int]
    length_cm: _containers.RepeatedScalarFieldContainer[int]
    width_cm: _containers.RepeatedScalarFieldContainer[int]
    object_class: _containers.RepeatedScalarFieldContainer[ObjectClass]
    confidence_pct: _containers.RepeatedScalarFieldContainer[int]
    cov_ee: _containers.RepeatedScalarFieldContainer[float]
    cov_en: _containers.RepeatedScalarFieldContainer[float]
    cov_nn: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, sensor_id: _Optional[str] = ..., capture_ns: _Optional[int] = ..., local_id: _Optional[_Iterable[int]] = ..., lat_e7: _Optional[_Iterable[int]] = ..., lon_e7: _Optional[_Iterable[int]] = ..., speed_002: _Optional[_Iterable[int]] = ..., heading_00125: _Optional[_Iterable[int]] = ..., length_cm: _Optional[_Iterable[int]] = ..., width_cm: _Optional[_Iterable[int]] = ..., object_class: _Optional[_Iterable[_Union[ObjectClass, str]]] = ..., confidence_pct: _Optional[_Iterable[int]] = ..., cov_ee: _Optional[_Iterable[float]] = ..., cov_en: _Optional[_Iterable[float]] = ..., cov_nn: _Optional[_Iterable[float]] = ...) -> None: ...

class Bsm(_message.Message):
    __slots__ = ("vehicle_id", "measured_ns", "lat_e7", "lon_e7", "speed_002", "heading_00125", "accel_001", "object_class", "bus_line", "schedule_deviation_ms", "length_cm", "width_cm", "next_stop_id")
    VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    MEASURED_NS_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    SPEED_002_FIELD_NUMBER: _ClassVar[int]
    HEADING_00125_FIELD_NUMBER: _ClassVar[int]
    ACCEL_001_FIELD_NUMBER: _ClassVar[int]
    OBJECT_CLASS_FIELD_NUMBER: _ClassVar[int]
    BUS_LINE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_DEVIATION_MS_FIELD_NUMBER: _ClassVar[int]
    LENGTH_CM_FIELD_NUMBER: _ClassVar[int]
    WIDTH_CM_FIELD_NUMBER: _ClassVar[int]
    NEXT_STOP_ID_FIELD_NUMBER: _ClassVar[int]
    vehicle_id: str
    measured_ns: int
    lat_e7: int
    lon_e7: int
    speed_002: int
    heading_00125: int
    accel_001: int
    object_class: ObjectClass
    bus_line: str
    schedule_deviation_ms: int
    length_cm: int
    width_cm: int
    next_stop_id: str
    def __init__(self, vehicle_id: _Optional[str] = ..., measured_ns: _Optional[int] = ..., lat_e7: _Optional[int] = ..., lon_e7: _Optional[int] = ..., speed_002: _Optional[int] = ..., heading_00125: _Optional[int] = ..., accel_001: _Optional[int] = ..., object_class: _Optional[_Union[ObjectClass, str]] = ..., bus_line: _Optional[str] = ..., schedule_deviation_ms: _Optional[int] = ..., length_cm: _Optional[int] = ..., width_cm: _Optional[int] = ..., next_stop_id: _Optional[str] = ...) -> None: ...

class BsmBatch(_message.Message):
    __slots__ = ("vehicle_id", "measured_ns", "lat_e7", "lon_e7", "speed_002", "heading_00125", "accel_001", "object_class", "bus_line", "schedule_deviation_ms", "length_cm", "width_cm")
    VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    MEASURED_NS_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    SPEED_002_FIELD_NUMBER: _ClassVar[int]
    HEADING_00125_FIELD_NUMBER: _ClassVar[int]
    ACCEL_001_FIELD_NUMBER: _ClassVar[int]
    OBJECT_CLASS_FIELD_NUMBER: _ClassVar[int]
    BUS_LINE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_DEVIATION_MS_FIELD_NUMBER: _ClassVar[int]
    LENGTH_CM_FIELD_NUMBER: _ClassVar[int]
    WIDTH_CM_FIELD_NUMBER: _ClassVar[int]
    vehicle_id: _containers.RepeatedScalarFieldContainer[str]
    measured_ns: _containers.RepeatedScalarFieldContainer[int]
    lat_e7: _containers.RepeatedScalarFieldContainer[int]
    lon_e7: _containers.RepeatedScalarFieldContainer[int]
    speed_002: _containers.RepeatedScalarFieldContainer[int]
    heading_00125: _containers.RepeatedScalarFieldContainer[int]
    accel_001: _containers.RepeatedScalarFieldContainer[int]
    object_class: _containers.RepeatedScalarFieldContainer[ObjectClass]
    bus_line: _containers.RepeatedScalarFieldContainer[str]
    schedule_deviation_ms: _containers.RepeatedScalarFieldContainer[int]
    length_cm: _containers.RepeatedScalarFieldContainer[int]
    width_cm: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, vehicle_id: _Optional[_Iterable[str]] = ..., measured_ns: _Optional[_Iterable[int]] = ..., lat_e7: _Optional[_Iterable[int]] = ..., lon_e7: _Optional[_Iterable[int]] = ..., speed_002: _Optional[_Iterable[int]] = ..., heading_00125: _Optional[_Iterable[int]] = ..., accel_001: _Optional[_Iterable[int]] = ..., object_class: _Optional[_Iterable[_Union[ObjectClass, str]]] = ..., bus_line: _Optional[_Iterable[str]] = ..., schedule_deviation_ms: _Optional[_Iterable[int]] = ..., length_cm: _Optional[_Iterable[int]] = ..., width_cm: _Optional[_Iterable[int]] = ...) -> None: ...

class SignalGroupState(_message.Message):
    __slots__ = ("group_id", "state", "min_end_ns", "max_end_ns", "likely_end_ns", "confidence_pct")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MIN_END_NS_FIELD_NUMBER: _ClassVar[int]
    MAX_END_NS_FIELD_NUMBER: _ClassVar[int]
    LIKELY_END_NS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_PCT_FIELD_NUMBER: _ClassVar[int]
    group_id: int
    state: LightState
    min_end_ns: int
    max_end_ns: int
    likely_end_ns: int
    confidence_pct: int
    def __init__(self, group_id: _Optional[int] = ..., state: _Optional[_Union[LightState, str]] = ..., min_end_ns: _Optional[int] = ..., max_end_ns: _Optional[int] = ..., likely_end_ns: _Optional[int] = ..., confidence_pct: _Optional[int] = ...) -> None: ...

class Spat(_message.Message):
    __slots__ = ("junction_id", "timestamp_ns", "program_id", "phase_index", "mode", "groups", "link_state")
    JUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_INDEX_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    LINK_STATE_FIELD_NUMBER: _ClassVar[int]
    junction_id: str
    timestamp_ns: int
    program_id: str
    phase_index: int
    mode: ControlMode
    groups: _containers.RepeatedCompositeFieldContainer[SignalGroupState]
    link_state: str
    def __init__(self, junction_id: _Optional[str] = ..., timestamp_ns: _Optional[int] = ..., program_id: _Optional[str] = ..., phase_index: _Optional[int] = ..., mode: _Optional[_Union[ControlMode, str]] = ..., groups: _Optional[_Iterable[_Union[SignalGroupState, _Mapping]]] = ..., link_state: _Optional[str] = ...) -> None: ...

class SignalCommand(_message.Message):
    __slots__ = ("command_id", "junction_id", "kind", "phase_index", "program_id", "duration_s", "issued_ns", "expires_ns", "source", "reason")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    JUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PHASE_INDEX_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    ISSUED_NS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_NS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    junction_id: str
    kind: CommandKind
    phase_index: int
    program_id: str
    duration_s: float
    issued_ns: int
    expires_ns: int
    source: str
    reason: str
    def __init__(self, command_id: _Optional[str] = ..., junction_id: _Optional[str] = ..., kind: _Optional[_Union[CommandKind, str]] = ..., phase_index: _Optional[int] = ..., program_id: _Optional[str] = ..., duration_s: _Optional[float] = ..., issued_ns: _Optional[int] = ..., expires_ns: _Optional[int] = ..., source: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SpeedAdvice(_message.Message):
    __slots__ = ("junction_id", "group_id", "speed_002", "min_speed_002", "max_speed_002", "distance_to_stop_m", "green_start_ns", "green_end_ns")
    JUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    SPEED_002_FIELD_NUMBER: _ClassVar[int]
    MIN_SPEED_002_FIELD_NUMBER: _ClassVar[int]
    MAX_SPEED_002_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_TO_STOP_M_FIELD_NUMBER: _ClassVar[int]
    GREEN_START_NS_FIELD_NUMBER: _ClassVar[int]
    GREEN_END_NS_FIELD_NUMBER: _ClassVar[int]
    junction_id: str
    group_id: int
    speed_002: int
    min_speed_002: int
    max_speed_002: int
    distance_to_stop_m: float
    green_start_ns: int
    green_end_ns: int
    def __init__(self, junction_id: _Optional[str] = ..., group_id: _Optional[int] = ..., speed_002: _Optional[int] = ..., min_speed_002: _Optional[int] = ..., max_speed_002: _Optional[int] = ..., distance_to_stop_m: _Optional[float] = ..., green_start_ns: _Optional[int] = ..., green_end_ns: _Optional[int] = ...) -> None: ...

class RouteAdvice(_message.Message):
    __slots__ = ("edge_ids", "expected_travel_s", "current_route_s", "reason", "destination_edge")
    EDGE_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_TRAVEL_S_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ROUTE_S_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_EDGE_FIELD_NUMBER: _ClassVar[int]
    edge_ids: _containers.RepeatedScalarFieldContainer[str]
    expected_travel_s: float
    current_route_s: float
    reason: str
    destination_edge: str
    def __init__(self, edge_ids: _Optional[_Iterable[str]] = ..., expected_travel_s: _Optional[float] = ..., current_route_s: _Optional[float] = ..., reason: _Optional[str] = ..., destination_edge: _Optional[str] = ...) -> None: ...

class PriorityResponse(_message.Message):
    __slots__ = ("request_id", "junction_id", "status", "action", "amount_s", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    JUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_S_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    junction_id: str
    status: PriorityStatus
    action: CommandKind
    amount_s: float
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., junction_id: _Optional[str] = ..., status: _Optional[_Union[PriorityStatus, str]] = ..., action: _Optional[_Union[CommandKind, str]] = ..., amount_s: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class HazardWarning(_message.Message):
    __slots__ = ("event_id", "kind", "lat_e7", "lon_e7", "radius_m", "text")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    RADIUS_M_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    kind: EventKind
    lat_e7: int
    lon_e7: int
    radius_m: float
    text: str
    def __init__(self, event_id: _Optional[str] = ..., kind: _Optional[_Union[EventKind, str]] = ..., lat_e7: _Optional[int] = ..., lon_e7: _Optional[int] = ..., radius_m: _Optional[float] = ..., text: _Optional[str] = ...) -> None: ...

class ParkingGuidance(_message.Message):
    __slots__ = ("area_id", "lat_e7", "lon_e7", "free_spaces", "distance_m", "edge_id")
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    FREE_SPACES_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_M_FIELD_NUMBER: _ClassVar[int]
    EDGE_ID_FIELD_NUMBER: _ClassVar[int]
    area_id: str
    lat_e7: int
    lon_e7: int
    free_spaces: int
    distance_m: float
    edge_id: str
    def __init__(self, area_id: _Optional[str] = ..., lat_e7: _Optional[int] = ..., lon_e7: _Optional[int] = ..., free_spaces: _Optional[int] = ..., distance_m: _Optional[float] = ..., edge_id: _Optional[str] = ...) -> None: ...

class Advisory(_message.Message):
    __slots__ = ("advisory_id", "vehicle_id", "issued_ns", "expires_ns", "speed", "route", "priority", "hazard", "parking")
    ADVISORY_ID_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUED_NS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_NS_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    HAZARD_FIELD_NUMBER: _ClassVar[int]
    PARKING_FIELD_NUMBER: _ClassVar[int]
    advisory_id: str
    vehicle_id: str
    issued_ns: int
    expires_ns: int
    speed: SpeedAdvice
    route: RouteAdvice
    priority: PriorityResponse
    hazard: HazardWarning
    parking: ParkingGuidance
    def __init__(self, advisory_id: _Optional[str] = ..., vehicle_id: _Optional[str] = ..., issued_ns: _Optional[int] = ..., expires_ns: _Optional[int] = ..., speed: _Optional[_Union[SpeedAdvice, _Mapping]] = ..., route: _Optional[_Union[RouteAdvice, _Mapping]] = ..., priority: _Optional[_Union[PriorityResponse, _Mapping]] = ..., hazard: _Optional[_Union[HazardWarning, _Mapping]] = ..., parking: _Optional[_Union[ParkingGuidance, _Mapping]] = ...) -> None: ...

class PriorityRequest(_message.Message):
    __slots__ = ("request_id", "vehicle_id", "junction_id", "approach_lane", "eta_ns", "schedule_deviation_ms", "bus_line", "cancel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    JUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    APPROACH_LANE_FIELD_NUMBER: _ClassVar[int]
    ETA_NS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_DEVIATION_MS_FIELD_NUMBER: _ClassVar[int]
    BUS_LINE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    vehicle_id: str
    junction_id: str
    approach_lane: str
    eta_ns: int
    schedule_deviation_ms: int
    bus_line: str
    cancel: bool
    def __init__(self, request_id: _Optional[str] = ..., vehicle_id: _Optional[str] = ..., junction_id: _Optional[str] = ..., approach_lane: _Optional[str] = ..., eta_ns: _Optional[int] = ..., schedule_deviation_ms: _Optional[int] = ..., bus_line: _Optional[str] = ..., cancel: _Optional[bool] = ...) -> None: ...

class ParkingStatus(_message.Message):
    __slots__ = ("area_id", "measured_ns", "capacity", "occupied", "bay_occupied")
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    MEASURED_NS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    OCCUPIED_FIELD_NUMBER: _ClassVar[int]
    BAY_OCCUPIED_FIELD_NUMBER: _ClassVar[int]
    area_id: str
    measured_ns: int
    capacity: int
    occupied: int
    bay_occupied: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, area_id: _Optional[str] = ..., measured_ns: _Optional[int] = ..., capacity: _Optional[int] = ..., occupied: _Optional[int] = ..., bay_occupied: _Optional[_Iterable[bool]] = ...) -> None: ...

class LampPostStatus(_message.Message):
    __slots__ = ("post_id", "measured_ns", "online", "light_on", "brightness_pct", "camera_ok", "radar_ok", "power_w", "temperature_c", "uptime_s", "firmware", "lat_e7", "lon_e7")
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    MEASURED_NS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    LIGHT_ON_FIELD_NUMBER: _ClassVar[int]
    BRIGHTNESS_PCT_FIELD_NUMBER: _ClassVar[int]
    CAMERA_OK_FIELD_NUMBER: _ClassVar[int]
    RADAR_OK_FIELD_NUMBER: _ClassVar[int]
    POWER_W_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    post_id: str
    measured_ns: int
    online: bool
    light_on: bool
    brightness_pct: int
    camera_ok: bool
    radar_ok: bool
    power_w: float
    temperature_c: float
    uptime_s: int
    firmware: str
    lat_e7: int
    lon_e7: int
    def __init__(self, post_id: _Optional[str] = ..., measured_ns: _Optional[int] = ..., online: _Optional[bool] = ..., light_on: _Optional[bool] = ..., brightness_pct: _Optional[int] = ..., camera_ok: _Optional[bool] = ..., radar_ok: _Optional[bool] = ..., power_w: _Optional[float] = ..., temperature_c: _Optional[float] = ..., uptime_s: _Optional[int] = ..., firmware: _Optional[str] = ..., lat_e7: _Optional[int] = ..., lon_e7: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("event_id", "kind", "severity", "start_ns", "end_ns", "lat_e7", "lon_e7", "lane_id", "track_id", "junction_id", "description", "closed_lanes")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    START_NS_FIELD_NUMBER: _ClassVar[int]
    END_NS_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    LANE_ID_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    JUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CLOSED_LANES_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    kind: EventKind
    severity: int
    start_ns: int
    end_ns: int
    lat_e7: int
    lon_e7: int
    lane_id: str
    track_id: int
    junction_id: str
    description: str
    closed_lanes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, event_id: _Optional[str] = ..., kind: _Optional[_Union[EventKind, str]] = ..., severity: _Optional[int] = ..., start_ns: _Optional[int] = ..., end_ns: _Optional[int] = ..., lat_e7: _Optional[int] = ..., lon_e7: _Optional[int] = ..., lane_id: _Optional[str] = ..., track_id: _Optional[int] = ..., junction_id: _Optional[str] = ..., description: _Optional[str] = ..., closed_lanes: _Optional[_Iterable[str]] = ...) -> None: ...

class TrackSet(_message.Message):
    __slots__ = ("track_id", "lat_e7", "lon_e7", "speed_002", "heading_00125", "object_class", "length_cm", "width_cm", "lane_index", "dist_to_stop_m", "vehicle_id")
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    SPEED_002_FIELD_NUMBER: _ClassVar[int]
    HEADING_00125_FIELD_NUMBER: _ClassVar[int]
    OBJECT_CLASS_FIELD_NUMBER: _ClassVar[int]
    LENGTH_CM_FIELD_NUMBER: _ClassVar[int]
    WIDTH_CM_FIELD_NUMBER: _ClassVar[int]
    LANE_INDEX_FIELD_NUMBER: _ClassVar[int]
    DIST_TO_STOP_M_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    track_id: _containers.RepeatedScalarFieldContainer[int]
    lat_e7: _containers.RepeatedScalarFieldContainer[int]
    lon_e7: _containers.RepeatedScalarFieldContainer[int]
    speed_002: _containers.RepeatedScalarFieldContainer[int]
    heading_00125: _containers.RepeatedScalarFieldContainer[int]
    object_class: _containers.RepeatedScalarFieldContainer[ObjectClass]
    length_cm: _containers.RepeatedScalarFieldContainer[int]
    width_cm: _containers.RepeatedScalarFieldContainer[int]
    lane_index: _containers.RepeatedScalarFieldContainer[int]
    dist_to_stop_m: _containers.RepeatedScalarFieldContainer[float]
    vehicle_id: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, track_id: _Optional[_Iterable[int]] = ..., lat_e7: _Optional[_Iterable[int]] = ..., lon_e7: _Optional[_Iterable[int]] = ..., speed_002: _Optional[_Iterable[int]] = ..., heading_00125: _Optional[_Iterable[int]] = ..., object_class: _Optional[_Iterable[_Union[ObjectClass, str]]] = ..., length_cm: _Optional[_Iterable[int]] = ..., width_cm: _Optional[_Iterable[int]] = ..., lane_index: _Optional[_Iterable[int]] = ..., dist_to_stop_m: _Optional[_Iterable[float]] = ..., vehicle_id: _Optional[_Iterable[str]] = ...) -> None: ...

class LaneStates(_message.Message):
    __slots__ = ("lane_id", "count", "mean_speed_mps", "queue_m", "occupancy")
    LANE_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_SPEED_MPS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_M_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    lane_id: _containers.RepeatedScalarFieldContainer[str]
    count: _containers.RepeatedScalarFieldContainer[int]
    mean_speed_mps: _containers.RepeatedScalarFieldContainer[float]
    queue_m: _containers.RepeatedScalarFieldContainer[float]
    occupancy: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, lane_id: _Optional[_Iterable[str]] = ..., count: _Optional[_Iterable[int]] = ..., mean_speed_mps: _Optional[_Iterable[float]] = ..., queue_m: _Optional[_Iterable[float]] = ..., occupancy: _Optional[_Iterable[float]] = ...) -> None: ...

class EdgeStates(_message.Message):
    __slots__ = ("edge_id", "travel_time_s", "congestion")
    EDGE_ID_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CONGESTION_FIELD_NUMBER: _ClassVar[int]
    edge_id: _containers.RepeatedScalarFieldContainer[str]
    travel_time_s: _containers.RepeatedScalarFieldContainer[float]
    congestion: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, edge_id: _Optional[_Iterable[str]] = ..., travel_time_s: _Optional[_Iterable[float]] = ..., congestion: _Optional[_Iterable[int]] = ...) -> None: ...

class TrafficPicture(_message.Message):
    __slots__ = ("region_id", "time_ns", "tracks", "lanes", "edges", "events", "signals")
    REGION_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_NS_FIELD_NUMBER: _ClassVar[int]
    TRACKS_FIELD_NUMBER: _ClassVar[int]
    LANES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    region_id: str
    time_ns: int
    tracks: TrackSet
    lanes: LaneStates
    edges: EdgeStates
    events: _containers.RepeatedCompositeFieldContainer[Event]
    signals: _containers.RepeatedCompositeFieldContainer[Spat]
    def __init__(self, region_id: _Optional[str] = ..., time_ns: _Optional[int] = ..., tracks: _Optional[_Union[TrackSet, _Mapping]] = ..., lanes: _Optional[_Union[LaneStates, _Mapping]] = ..., edges: _Optional[_Union[EdgeStates, _Mapping]] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., signals: _Optional[_Iterable[_Union[Spat, _Mapping]]] = ...) -> None: ...

class MapLane(_message.Message):
    __slots__ = ("lane_id", "lat_e7", "lon_e7", "width_cm", "ingress", "allowed_classes", "speed_limit_002")
    LANE_ID_FIELD_NUMBER: _ClassVar[int]
    LAT_E7_FIELD_NUMBER: _ClassVar[int]
    LON_E7_FIELD_NUMBER: _ClassVar[int]
    WIDTH_CM_FIELD_NUMBER: _ClassVar[int]
    INGRESS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_CLASSES_FIELD_NUMBER: _ClassVar[int]
    SPEED_LIMIT_002_FIELD_NUMBER: _ClassVar[int]
    lane_id: str
    lat_e7: _containers.RepeatedScalarFieldContainer[int]
    lon_e7: _containers.RepeatedScalarFieldContainer[int]
    width_cm: int
    ingress: bool
    allowed_classes: int
    speed_limit_002: int
    def __init__(self, lane_id: _Optional[str] = ..., lat_e7: _Optional[_Iterable[int]] = ..., lon_e7: _Optional[_Iterable[int]] = ..., width_cm: _Optional[int] = ..., ingress: _Optional[bool] = ..., allowed_classes: _Optional[int] = ..., speed_limit_002: _Optional[int] = ...) -> None: ...

class MapConnection(_message.Message):
    __slots__ = ("from_lane", "to_lane", "group_id", "maneuver")
    FROM_LANE_FIELD_NUMBER: _ClassVar[int]
    TO_LANE_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    MANEUVER_FIELD_NUMBER: _ClassVar[int]
    from_lane: str
    to_lane: str
    group_id: int
    maneuver: str
    def __init__(self, from_lane: _Optional[str] = ..., to_lane: _Optional[str] = ..., group_id: _Optional[int] = ..., maneuver: _Optional[str] = ...) -> None: ...

class MapData(_message.Message):
    __slots__ = ("junction_id", "ref_lat_e7", "ref_lon_e7", "lanes", "connections", "revision")
    JUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    REF_LAT_E7_FIELD_NUMBER: _ClassVar[int]
    REF_LON_E7_FIELD_NUMBER: _ClassVar[int]
    LANES_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    junction_id: str
    ref_lat_e7: int
    ref_lon_e7: int
    lanes: _containers.RepeatedCompositeFieldContainer[MapLane]
    connections: _containers.RepeatedCompositeFieldContainer[MapConnection]
    revision: int
    def __init__(self, junction_id: _Optional[str] = ..., ref_lat_e7: _Optional[int] = ..., ref_lon_e7: _Optional[int] = ..., lanes: _Optional[_Iterable[_Union[MapLane, _Mapping]]] = ..., connections: _Optional[_Iterable[_Union[MapConnection, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class RoadsideInfo(_message.Message):
    __slots__ = ("rsu_id", "timestamp_ns", "events", "hazards")
    RSU_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    HAZARDS_FIELD_NUMBER: _ClassVar[int]
    rsu_id: str
    timestamp_ns: int
    events: _containers.RepeatedCompositeFieldContainer[Event]
    hazards: _containers.RepeatedCompositeFieldContainer[HazardWarning]
    def __init__(self, rsu_id: _Optional[str] = ..., timestamp_ns: _Optional[int] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., hazards: _Optional[_Iterable[_Union[HazardWarning, _Mapping]]] = ...) -> None: ...
