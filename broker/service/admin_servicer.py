"""``conveyor.v1.Admin``: queues, bindings, subscriptions, stats, peek and dead letters.

The listings show only what the caller may administer (``access.shown``): every queue
without an auth file or with ``admin`` on ``*``."""

from __future__ import annotations

from typing import Any

import grpc

from broker.delivery.broker import Broker
from broker.errors import InvalidArgument
from broker.service import access, convert
from broker.service.broker_servicer import Gate, guarded
from conveyor.v1 import admin_pb2, admin_pb2_grpc, types_pb2

Ctx = grpc.aio.ServicerContext[Any, Any]


class AdminServicer(admin_pb2_grpc.AdminServicer):
    def __init__(self, broker: Broker, gate: Gate) -> None:
        self.broker = broker
        self.gate = gate

    async def CreateQueue(
        self, request: admin_pb2.CreateQueueRequest, context: Ctx
    ) -> admin_pb2.CreateQueueResponse:
        async def create() -> types_pb2.Queue:
            self.gate.check()
            if not request.queue.name:
                raise InvalidArgument("queue.name is required")
            return convert.queue(
                await self.broker.create_queue(convert.queue_config(request.queue))
            )

        return admin_pb2.CreateQueueResponse(queue=await guarded(context, create))

    async def GetQueue(
        self, request: admin_pb2.GetQueueRequest, context: Ctx
    ) -> admin_pb2.GetQueueResponse:
        async def get() -> types_pb2.Queue:
            return convert.queue(await self.broker.get_queue(request.queue))

        return admin_pb2.GetQueueResponse(queue=await guarded(context, get))

    async def ListQueues(
        self, request: admin_pb2.ListQueuesRequest, context: Ctx
    ) -> admin_pb2.ListQueuesResponse:
        configs = await self.broker.list_queues(request.prefix)
        return admin_pb2.ListQueuesResponse(
            queues=[convert.queue(c) for c in configs if access.shown(c.name)]
        )

    async def UpdateQueue(
        self, request: admin_pb2.UpdateQueueRequest, context: Ctx
    ) -> admin_pb2.UpdateQueueResponse:
        async def update() -> types_pb2.Queue:
            self.gate.check()
            paths = list(request.update_mask.paths) if request.HasField("update_mask") else None
            changes = convert.queue_changes(request.queue, paths or None)
            return convert.queue(await self.broker.update_queue(request.queue.name, changes))

        return admin_pb2.UpdateQueueResponse(queue=await guarded(context, update))

    async def DeleteQueue(
        self, request: admin_pb2.DeleteQueueRequest, context: Ctx
    ) -> admin_pb2.DeleteQueueResponse:
        count = await guarded(context, lambda: self.broker.delete_queue(request.queue))
        return admin_pb2.DeleteQueueResponse(messages_deleted=count)

    async def PurgeQueue(
        self, request: admin_pb2.PurgeQueueRequest, context: Ctx
    ) -> admin_pb2.PurgeQueueResponse:
        count = await guarded(context, lambda: self.broker.purge_queue(request.queue))
        return admin_pb2.PurgeQueueResponse(purged=count)

    async def CreateBinding(
        self, request: admin_pb2.CreateBindingRequest, context: Ctx
    ) -> admin_pb2.CreateBindingResponse:
        await guarded(context, lambda: self.broker.create_binding(request.pattern, request.queue))
        return admin_pb2.CreateBindingResponse(
            binding=types_pb2.Binding(pattern=request.pattern, queue=request.queue)
        )

    async def DeleteBinding(
        self, request: admin_pb2.DeleteBindingRequest, context: Ctx
    ) -> admin_pb2.DeleteBindingResponse:
        await guarded(context, lambda: self.broker.delete_binding(request.pattern, request.queue))
        return admin_pb2.DeleteBindingResponse()

    async def ListBindings(
        self, request: admin_pb2.ListBindingsRequest, context: Ctx
    ) -> admin_pb2.ListBindingsResponse:
        bindings = await self.broker.list_bindings(request.queue)
        return admin_pb2.ListBindingsResponse(
            bindings=[types_pb2.Binding(pattern=p, queue=q) for p, q in bindings if access.shown(q)]
        )

    async def ListSubscriptions(
        self, request: admin_pb2.ListSubscriptionsRequest, context: Ctx
    ) -> admin_pb2.ListSubscriptionsResponse:
        async def subs() -> list[types_pb2.Subscription]:
            found = await self.broker.list_subscriptions(request.queue)
            return [convert.subscription(info, consumers) for info, consumers in found]

        return admin_pb2.ListSubscriptionsResponse(subscriptions=await guarded(context, subs))

    async def DeleteSubscription(
        self, request: admin_pb2.DeleteSubscriptionRequest, context: Ctx
    ) -> admin_pb2.DeleteSubscriptionResponse:
        await guarded(
            context, lambda: self.broker.delete_subscription(request.queue, request.subscription)
        )
        return admin_pb2.DeleteSubscriptionResponse()

    async def GetQueueStats(
        self, request: admin_pb2.GetQueueStatsRequest, context: Ctx
    ) -> admin_pb2.GetQueueStatsResponse:
        async def stats() -> admin_pb2.GetQueueStatsResponse:
            return convert.stats(await self.broker.stats(request.queue))

        return await guarded(context, stats)

    async def PeekMessages(
        self, request: admin_pb2.PeekMessagesRequest, context: Ctx
    ) -> admin_pb2.PeekMessagesResponse:
        async def peek() -> list[admin_pb2.PeekedMessage]:
            found = await self.broker.peek(
                request.queue, convert.listed_count(request.max_messages, 10)
            )
            return [convert.peeked(p) for p in found]

        return admin_pb2.PeekMessagesResponse(messages=await guarded(context, peek))

    async def ListDeadLetters(
        self, request: admin_pb2.ListDeadLettersRequest, context: Ctx
    ) -> admin_pb2.ListDeadLettersResponse:
        async def dead() -> list[types_pb2.Message]:
            found = await self.broker.dead_letters(
                request.queue,
                convert.listed_count(request.max_messages, 100),
                convert.dead_letter_filter(request),
            )
            return [convert.message(data) for data in found]

        return admin_pb2.ListDeadLettersResponse(messages=await guarded(context, dead))

    async def RedriveDeadLetters(
        self, request: admin_pb2.RedriveDeadLettersRequest, context: Ctx
    ) -> admin_pb2.RedriveDeadLettersResponse:
        if not request.destination and access.checked():
            # Back to their sources: the caller must administer those too, as it must a
            # destination it names (which the interceptor checks from the request).
            for config in await self.broker.list_queues(""):
                if config.dead_letter_queue == request.queue:
                    why = access.denied("admin", config.name)
                    if why is not None:
                        await context.abort(
                            grpc.StatusCode.PERMISSION_DENIED,
                            f"{why}, a source of the dead letters in {request.queue[:200]!r}",
                        )
        moved, skipped = await guarded(
            context,
            lambda: self.broker.redrive(
                request.queue,
                request.destination,
                request.max_messages,
                reset_attempts=request.reset_attempts,
                message_ids=list(request.message_ids),
            ),
        )
        return admin_pb2.RedriveDeadLettersResponse(redriven=moved, skipped=skipped)

    async def PauseQueue(
        self, request: admin_pb2.PauseQueueRequest, context: Ctx
    ) -> admin_pb2.PauseQueueResponse:
        async def pause() -> bool:
            self.gate.check()
            return await self.broker.pause(request.queue)

        return admin_pb2.PauseQueueResponse(changed=await guarded(context, pause))

    async def ResumeQueue(
        self, request: admin_pb2.ResumeQueueRequest, context: Ctx
    ) -> admin_pb2.ResumeQueueResponse:
        async def resume() -> bool:
            self.gate.check()
            return await self.broker.resume(request.queue)

        return admin_pb2.ResumeQueueResponse(changed=await guarded(context, resume))

    async def ListQueueStats(
        self, request: admin_pb2.ListQueueStatsRequest, context: Ctx
    ) -> admin_pb2.ListQueueStatsResponse:
        async def stats() -> list[admin_pb2.GetQueueStatsResponse]:
            found = await self.broker.list_stats(request.prefix, lag=request.include_subscriptions)
            return [convert.stats(s) for s in found if access.shown(s.queue)]

        return admin_pb2.ListQueueStatsResponse(queues=await guarded(context, stats))

    async def SeekSubscription(
        self, request: admin_pb2.SeekSubscriptionRequest, context: Ctx
    ) -> admin_pb2.SeekSubscriptionResponse:
        async def seek() -> tuple[int, int]:
            self.gate.check()
            if not request.HasField("time"):
                raise InvalidArgument("time is required: the publish time to seek to")
            at = request.time.seconds + request.time.nanos / 1e9
            return await self.broker.seek(request.queue, request.subscription, at)

        replayed, acked = await guarded(context, seek)
        return admin_pb2.SeekSubscriptionResponse(replayed=replayed, acked=acked)
