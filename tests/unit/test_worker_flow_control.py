"""The worker's flow control keeps what the fetcher buffered when flow resumes."""

from __future__ import annotations

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from streams.app import WorkerSettings, create_app


def _one_buffered_event() -> tuple[FlowControlEvent, FlowControlQueue[bytes]]:
    flow = create_app(WorkerSettings(prefix="unitflow")).flow_control
    buffer: FlowControlQueue[bytes] = FlowControlQueue(
        flow_control=flow, clear_on_resume=True
    )
    buffer.put_nowait(b"event")
    return flow, buffer


def test_flow_control_resume_keeps_buffered_events() -> None:
    flow, buffer = _one_buffered_event()

    flow.resume()

    assert buffer.qsize() == 1


def test_flow_control_clear_while_suspended_empties_buffers() -> None:
    flow, buffer = _one_buffered_event()

    flow.suspend()
    flow.clear()
    flow.resume()

    assert buffer.qsize() == 0
