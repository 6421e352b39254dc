"""The hand walk of a Send's bytes agrees with protobuf's parse, for any request."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from broker.service import scan
from conveyor.v1 import broker_pb2, types_pb2

_messages = st.builds(
    types_pb2.Message,
    topic=st.text(max_size=30),
    payload=st.binary(max_size=300),
    priority=st.integers(-(2**31), 2**31 - 1) | st.just(0),
    ordering_key=st.text(max_size=5) | st.just(""),
    guarantee=st.integers(0, 4),
    attributes=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3) | st.just({}),
)


@settings(max_examples=300, deadline=None)
@given(
    messages=st.lists(_messages, max_size=8),
    queue=st.text(max_size=20),
    wait_for=st.integers(0, 2),
    stream=st.booleans(),
)
def test_spans_and_plain_fields_match_protobuf(
    messages: list[types_pb2.Message], queue: str, wait_for: int, stream: bool
) -> None:
    kind = broker_pb2.SendStreamRequest if stream else broker_pb2.SendRequest
    request = kind(queue=queue, messages=messages, wait_for=wait_for)  # type: ignore[arg-type]
    if stream:
        request.sequence = 7  # type: ignore[union-attr]
    raw = request.SerializeToString()
    spans = scan.message_spans(raw)
    assert [types_pb2.Message.FromString(raw[s:e]) for s, e in spans] == messages
    for (start, end), m in zip(spans, messages, strict=True):
        set_fields = {f.name for f, _ in m.ListFields()}
        only_common = set_fields <= {"topic", "payload", "guarantee"} and m.guarantee != 4
        found = scan.plain(raw, start, end)
        if only_common:
            assert found == (m.topic, len(m.payload), m.guarantee)
        else:
            assert found is None
