"""The runner's small parts: the per-conversation lock and the deadline handshake."""

import asyncio

from channels.runner import KeyedLocks, Waiter


async def test_keyed_locks_serialise_one_key_and_forget_it() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def hold(name: str) -> None:
        async with locks.hold("web:a"):
            order.append(f"{name}+")
            await asyncio.sleep(0.01)
            order.append(f"{name}-")

    await asyncio.gather(hold("1"), hold("2"))
    assert order == ["1+", "1-", "2+", "2-"]
    assert not locks._locks and not locks._users  # pruned: nobody holds or waits


async def test_a_turn_done_in_time_keeps_the_answer() -> None:
    waiter = Waiter(deadline=asyncio.get_running_loop().time() + 10)
    assert waiter.answer()
    assert not waiter.leave()  # the deadline came while the answer was being committed


async def test_an_answer_gone_at_the_deadline_is_not_claimed_by_the_turn() -> None:
    waiter = Waiter(deadline=asyncio.get_running_loop().time() + 10)
    assert waiter.leave()
    assert not waiter.answer()


async def test_a_turn_after_the_deadline_does_not_answer() -> None:
    waiter = Waiter(deadline=asyncio.get_running_loop().time() - 0.01)
    assert not waiter.answer()
    assert waiter.leave()
