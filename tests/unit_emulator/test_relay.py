"""emulator.environments.relay: a stream handed from a runtime to its caller."""

from __future__ import annotations

import asyncio

from emulator.environments.relay import StreamRelay


async def collect(relay: StreamRelay) -> list[bytes]:
    return [chunk async for chunk in relay.chunks()]


def test_chunks_come_in_order_and_end_at_close() -> None:
    async def main() -> list[bytes]:
        relay = StreamRelay()
        relay.begin("text/plain")
        reader = asyncio.ensure_future(collect(relay))
        await relay.put(b"a")
        await relay.put(b"")  # nothing to hand over
        await asyncio.sleep(0)
        await relay.put(b"b")
        relay.close()
        await relay.put(b"late")  # after the end: dropped
        assert relay.began.result() == "text/plain"
        return await reader

    assert asyncio.run(main()) == [b"a", b"b"]


def test_the_producer_waits_while_the_caller_holds_a_full_window() -> None:
    async def main() -> None:
        relay = StreamRelay(window=4)
        await relay.put(b"1234")  # exactly the window: no wait
        second = asyncio.ensure_future(relay.put(b"5"))
        await asyncio.sleep(0)
        assert not second.done()
        chunks = relay.chunks()
        assert await anext(chunks) == b"1234"
        await asyncio.wait_for(second, 5)
        relay.close()
        assert [chunk async for chunk in chunks] == [b"5"]

    asyncio.run(main())


def test_a_caller_that_leaves_never_holds_the_producer_up() -> None:
    async def main() -> None:
        relay = StreamRelay(window=1)
        blocked = asyncio.ensure_future(relay.put(b"xx"))
        await asyncio.sleep(0)
        assert not blocked.done()
        relay.leave()
        await asyncio.wait_for(blocked, 5)
        await asyncio.wait_for(relay.put(b"more" * 1000), 5)  # dropped at once

    asyncio.run(main())


def test_close_releases_a_waiting_producer() -> None:
    async def main() -> None:
        relay = StreamRelay(window=1)
        blocked = asyncio.ensure_future(relay.put(b"xx"))
        await asyncio.sleep(0)
        relay.close()
        await asyncio.wait_for(blocked, 5)
        assert relay.closed

    asyncio.run(main())


def test_opened_tells_a_stream_that_began_from_a_run_that_ended_first() -> None:
    async def main() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        streamed, buffered = StreamRelay(), StreamRelay()
        running: asyncio.Future[None] = loop.create_future()
        streamed.begin("text/plain")
        ended: asyncio.Future[None] = loop.create_future()
        ended.set_result(None)
        return await streamed.opened(running), await buffered.opened(ended)

    assert asyncio.run(main()) == (True, False)


def test_a_caller_cancelled_while_waiting_to_open_leaves() -> None:
    async def main() -> None:
        relay = StreamRelay(window=1)
        running: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = asyncio.ensure_future(relay.opened(running))
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await asyncio.wait_for(relay.put(b"more than the window"), 5)  # dropped at once

    asyncio.run(main())
