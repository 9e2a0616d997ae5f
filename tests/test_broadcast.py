"""Fan-out of events to listeners: what the app and the CLI wait on."""

import asyncio

from walletsync.broadcast import Broadcast


async def test_each_listener_sees_every_value_published_after_it_started():
    hub: Broadcast[int] = Broadcast()
    state = {"now": 0}
    early, late = hub.listen(lambda: state["now"]), hub.listen()
    first = asyncio.ensure_future(early.__anext__())
    await asyncio.sleep(0)
    state["now"] = 1  # read when listening starts, not when listen() was called
    hub.publish([10])
    assert await first == 0
    second = asyncio.ensure_future(late.__anext__())
    await asyncio.sleep(0)
    hub.publish([20, 30])
    assert [await early.__anext__(), await early.__anext__(), await early.__anext__()] == [10, 20, 30]
    assert [await second, await late.__anext__()] == [20, 30]
    await early.aclose()
    await late.aclose()
    hub.publish([40])  # nobody listens: nothing is queued anywhere
    assert hub._queues == []


async def test_a_listener_hears_from_the_moment_it_is_made_not_its_first_await():
    """A request's waiter starts listening, then sends: an answer published before it first awaits is still its."""
    hub: Broadcast[int] = Broadcast()
    listener = hub.listener()
    hub.publish([1, 2])  # e.g. the engine step that sends the request already reports something
    assert [await anext(listener), await anext(listener)] == [1, 2]
    listener.close()
    listener.close()
    hub.publish([3])
    assert hub._queues == []
