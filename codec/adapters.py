"""A standard's adapter table: message type <-> functions to and from the contract messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from codec.errors import CodecError
from codec.message import Context

ToPlatform = Callable[[dict[str, Any], Context], tuple[Message, ...]]
FromPlatform = Callable[[Any, Context], dict[str, Any]]


@dataclass(frozen=True)
class Adapters:
    """The adapters of one standard.

    Parameters
    ----------
    std
        The standard's name, for messages.
    to
        Message type -> function from its asn1tools value to contract messages.
    frm
        Contract message class -> (message type, function to its asn1tools value).
    """

    std: str
    to: Mapping[str, ToPlatform]
    frm: Mapping[type[Message], tuple[str, FromPlatform]]

    def to_platform(self, msg_type: str, raw: dict[str, Any], ctx: Context, where: str) -> tuple[Message, ...]:
        """Contract messages of a decoded value; a value the adapter cannot map is a :class:`CodecError`."""
        try:
            return self.to[msg_type](raw, ctx)
        except CodecError:
            raise
        except (KeyError, ValueError, TypeError, IndexError, OverflowError) as exc:
            raise CodecError(f"{where}: cannot map to the platform ({exc!r})", reason="malformed") from None

    def from_platform(self, msg: Message, ctx: Context) -> tuple[str, dict[str, Any]]:
        """(message type, asn1tools value) of a contract message.

        Raises
        ------
        CodecError
            ``wrong_type`` when the standard has no message for it, or a value that does not fit.
        """
        entry = self.frm.get(type(msg))
        if entry is None:
            raise CodecError(
                f"{self.std}: no standard message for {type(msg).__name__}; give one of "
                + ", ".join(t.__name__ for t in self.frm),
                reason="wrong_type",
            )
        msg_type, adapter = entry
        return msg_type, adapter(msg, ctx)
