"""Microsoft's azure-servicebus 7.x session samples, against the emulator, with the same SDK calls.

Usage: session_samples.py <sync|async> <scenario> <tls port> <CA certificate file> <queue prefix>

Scenarios, after the samples of the same names (samples/sync_samples and samples/async_samples):
  session_send_receive   send a single message, a list and a batch to one session; receive it with a session
                         receiver, setting and reading the session state and renewing the session lock
  session_pool_receive   five concurrent receivers take the next available session until none is left
                         (OperationTimeoutError), setting each session's state
  renew_messages         auto_lock_renew, part 1: AutoLockRenewer keeps ten message locks while the handler sleeps
  renew_session          auto_lock_renew, part 2: AutoLockRenewer keeps a session's lock while the handler sleeps
  renew_failure          auto_lock_renew, part 3: a renewer that sleeps past the lock calls the failure callback,
                         and the message can no longer be settled

The samples hold locks for 100 s with the service's 30 s lock; here the queues lock for LOCK_SECONDS and the
handlers sleep for HANDLING_SECONDS. Only the endpoint (the SDK's custom endpoint: AMQP over WebSocket with TLS)
and the certificate are configured, and retries are off so that a failure shows at once. Prints one JSON object
per step on stdout.
"""
import asyncio
import concurrent.futures
import datetime
import json
import sys
import time

from azure.servicebus import AutoLockRenewer, NEXT_AVAILABLE_SESSION, ServiceBusClient, ServiceBusMessage
from azure.servicebus.aio import AutoLockRenewer as AsyncAutoLockRenewer
from azure.servicebus.aio import ServiceBusClient as AsyncServiceBusClient
from azure.servicebus.exceptions import OperationTimeoutError, ServiceBusError

mode, scenario, port, ca_file, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
CONNECTION_STRING = (
    "Endpoint=sb://localhost/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE"
)
# The queues' LockDuration in the test (the samples assume the service's default of 30 s).
LOCK_SECONDS = 4
# How long the samples' handlers "process" (100 s in the samples, 80 s in the failure demonstration).
HANDLING_SECONDS = 9
FAILURE_HANDLING_SECONDS = 6
STARTED = time.monotonic()


def report(step, **fields):
    elapsed = round(time.monotonic() - STARTED, 2)
    print(json.dumps({"step": step, "elapsed": elapsed, **fields}, default=str), flush=True)


def queue(name):
    return f"{prefix}-{name}"


def client_options():
    return dict(custom_endpoint_address=f"sb://localhost:{port}", connection_verify=ca_file, retry_total=0)


def sync_client():
    return ServiceBusClient.from_connection_string(CONNECTION_STRING, **client_options())


def async_client():
    return AsyncServiceBusClient.from_connection_string(CONNECTION_STRING, **client_options())


def state_text(state):
    return state.decode("utf-8") if state is not None else None


# --- session_send_receive.py ---------------------------------------------------------------------------------

SESSION_ID = "sample-session"


def session_send_receive():
    with sync_client() as servicebus_client:
        with servicebus_client.get_queue_sender(queue_name=queue("session")) as sender:
            sender.send_messages(ServiceBusMessage("Single session message", session_id=SESSION_ID))
            sender.send_messages(
                [ServiceBusMessage("Session Message in list", session_id=SESSION_ID) for _ in range(10)]
            )
            batch_message = sender.create_message_batch()
            for _ in range(10):
                batch_message.add_message(
                    ServiceBusMessage("Session Message inside a ServiceBusMessageBatch", session_id=SESSION_ID)
                )
            sender.send_messages(batch_message)

        with servicebus_client.get_queue_receiver(queue_name=queue("session"), session_id=SESSION_ID) as receiver:
            session = receiver.session
            session.set_state("START")
            start_state = session.get_state()
            received_msgs = receiver.receive_messages(max_message_count=10, max_wait_time=5)
            lock_ends = [session.locked_until_utc]
            for msg in received_msgs:
                receiver.complete_message(msg)
                lock_ends.append(session.renew_lock())
            session.set_state("END")
            end_state = session.get_state()
            left = receiver.peek_messages(max_message_count=30)
            report_send_receive(session, start_state, end_state, received_msgs, lock_ends, left)


async def session_send_receive_async():
    async with async_client() as servicebus_client:
        async with servicebus_client.get_queue_sender(queue_name=queue("session")) as sender:
            await sender.send_messages(ServiceBusMessage("Single session message", session_id=SESSION_ID))
            await sender.send_messages(
                [ServiceBusMessage("Session Message in list", session_id=SESSION_ID) for _ in range(10)]
            )
            batch_message = await sender.create_message_batch()
            for _ in range(10):
                batch_message.add_message(
                    ServiceBusMessage("Session Message inside a ServiceBusMessageBatch", session_id=SESSION_ID)
                )
            await sender.send_messages(batch_message)

        receiver = servicebus_client.get_queue_receiver(queue_name=queue("session"), session_id=SESSION_ID)
        async with receiver:
            session = receiver.session
            await session.set_state("START")
            start_state = await session.get_state()
            received_msgs = await receiver.receive_messages(max_message_count=10, max_wait_time=5)
            lock_ends = [session.locked_until_utc]
            for msg in received_msgs:
                await receiver.complete_message(msg)
                lock_ends.append(await session.renew_lock())
            await session.set_state("END")
            end_state = await session.get_state()
            left = await receiver.peek_messages(max_message_count=30)
            report_send_receive(session, start_state, end_state, received_msgs, lock_ends, left)


def report_send_receive(session, start_state, end_state, received_msgs, lock_ends, left):
    report(
        "session_send_receive",
        session_id=session.session_id,
        states=[state_text(start_state), state_text(end_state)],
        bodies=[str(msg) for msg in received_msgs],
        message_session_ids=sorted({msg.session_id for msg in received_msgs}),
        renewals_later=all(later >= earlier for earlier, later in zip(lock_ends, lock_ends[1:])),
        renewals=len(lock_ends) - 1,
        left=len(left),
        left_session_ids=sorted({msg.session_id for msg in left}),
    )


# --- session_pool_receive.py ---------------------------------------------------------------------------------

CONCURRENT_RECEIVERS = 5
MESSAGES_PER_SESSION = 20


def message_processing(sb_client, queue_name, messages, outcomes):
    while True:
        try:
            with sb_client.get_queue_receiver(
                queue_name, max_wait_time=1, session_id=NEXT_AVAILABLE_SESSION
            ) as receiver:
                renewer = AutoLockRenewer()
                renewer.register(receiver, receiver.session)
                receiver.session.set_state("OPEN")
                for message in receiver:
                    messages.append((receiver.session.session_id, str(message)))
                    receiver.complete_message(message)
                    if str(message) == "shutdown":
                        receiver.session.set_state("CLOSED")
                renewer.close()
        except OperationTimeoutError:
            # The sample: "It indicates that there might be no non-empty sessions remaining; exiting."
            outcomes.append("OperationTimeoutError")
            return


def session_pool_receive():
    sessions = [f"pool-{i}" for i in range(2 * CONCURRENT_RECEIVERS)]
    with sync_client() as client:
        with client.get_queue_sender(queue("pool")) as sender:
            for session_id in sessions:
                for i in range(MESSAGES_PER_SESSION):
                    message = ServiceBusMessage("Sample message no. {}".format(i), session_id=session_id)
                    sender.send_messages(message)

        all_messages, outcomes = [], []
        futures = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=CONCURRENT_RECEIVERS) as thread_pool:
            for _ in range(CONCURRENT_RECEIVERS):
                futures.append(
                    thread_pool.submit(message_processing, client, queue("pool"), all_messages, outcomes)
                )
            concurrent.futures.wait(futures)
        for future in futures:
            future.result()
        report_pool(sessions, all_messages, outcomes, shutdown=False)


async def message_processing_async(servicebus_client, queue_name, messages, outcomes):
    while True:
        try:
            async with servicebus_client.get_queue_receiver(
                queue_name, max_wait_time=1, session_id=NEXT_AVAILABLE_SESSION
            ) as receiver:
                renewer = AsyncAutoLockRenewer()
                renewer.register(receiver, receiver.session)
                await receiver.session.set_state("OPEN")
                async for message in receiver:
                    messages.append((receiver.session.session_id, str(message)))
                    await receiver.complete_message(message)
                    if str(message) == "shutdown":
                        await receiver.session.set_state("CLOSED")
                        break
                await renewer.close()
        except OperationTimeoutError:
            outcomes.append("OperationTimeoutError")
            return


async def session_pool_receive_async():
    sessions = [f"pool-{i}" for i in range(CONCURRENT_RECEIVERS)]
    client = async_client()
    async with client:
        for session_id in sessions:
            async with client.get_queue_sender(queue("pool")) as sender:
                await asyncio.gather(
                    *[
                        sender.send_messages(
                            ServiceBusMessage("Sample message no. {}".format(i), session_id=session_id)
                        )
                        for i in range(MESSAGES_PER_SESSION)
                    ]
                )
                await sender.send_messages(ServiceBusMessage("shutdown", session_id=session_id))

        all_messages, outcomes = [], []
        receive_sessions = [
            message_processing_async(client, queue("pool"), all_messages, outcomes)
            for _ in range(CONCURRENT_RECEIVERS)
        ]
        await asyncio.gather(*receive_sessions)
        report_pool(sessions, all_messages, outcomes, shutdown=True)


def report_pool(sessions, all_messages, outcomes, shutdown):
    by_session = {}
    for session_id, body in all_messages:
        by_session.setdefault(session_id, []).append(body)
    numbered = lambda bodies: [int(body.rsplit(" ", 1)[1]) for body in bodies if body != "shutdown"]
    report(
        "session_pool_receive",
        sessions=len(sessions),
        received=len(all_messages),
        sessions_received=sorted(by_session) == sorted(sessions),
        # FIFO within a session: each session's messages arrive in the order they were sent (the async sample
        # sends its messages concurrently, so there only the count is known).
        in_order=all(numbered(bodies) == sorted(numbered(bodies)) for bodies in by_session.values()),
        shutdown_last=all(bodies[-1] == "shutdown" for bodies in by_session.values()) if shutdown else None,
        outcomes=outcomes,
    )


# --- auto_lock_renew.py ----------------------------------------------------------------------------------------


def renew_lock_on_message_received_from_non_sessionful_entity():
    with sync_client() as servicebus_client:
        with servicebus_client.get_queue_sender(queue_name=queue("renew")) as sender:
            sender.send_messages([ServiceBusMessage("message: {}".format(i)) for i in range(10)])

        renewer = AutoLockRenewer()
        with servicebus_client.get_queue_receiver(queue_name=queue("renew"), prefetch_count=10) as receiver:
            received_msgs = receiver.receive_messages(max_message_count=10, max_wait_time=5)
            first_locks = [msg.locked_until_utc for msg in received_msgs]
            for msg in received_msgs:
                # automatically renew the lock on each message for longer than the handler takes
                renewer.register(receiver, msg, max_lock_renewal_duration=HANDLING_SECONDS + 3)
            time.sleep(HANDLING_SECONDS)  # message handling for long period (E.g. application logic)
            last_locks = [msg.locked_until_utc for msg in received_msgs]
            for msg in received_msgs:
                receiver.complete_message(msg)  # Settling the message deregisters it from the AutoLockRenewer
            left = receiver.peek_messages(max_message_count=20)
        renewer.close()
        report_renewed_messages(received_msgs, first_locks, last_locks, left)


async def renew_lock_on_message_received_from_non_sessionful_entity_async():
    servicebus_client = async_client()
    async with servicebus_client:
        async with servicebus_client.get_queue_sender(queue_name=queue("renew")) as sender:
            await sender.send_messages([ServiceBusMessage("session message: {}".format(i)) for i in range(10)])

        renewer = AsyncAutoLockRenewer()
        async with servicebus_client.get_queue_receiver(queue_name=queue("renew"), prefetch_count=10) as receiver:
            received_msgs = await receiver.receive_messages(max_message_count=10, max_wait_time=5)
            first_locks = [msg.locked_until_utc for msg in received_msgs]
            for msg in received_msgs:
                renewer.register(receiver, msg, max_lock_renewal_duration=HANDLING_SECONDS + 3)
            await asyncio.sleep(HANDLING_SECONDS)
            last_locks = [msg.locked_until_utc for msg in received_msgs]
            for msg in received_msgs:
                await receiver.complete_message(msg)
            left = await receiver.peek_messages(max_message_count=20)
        await renewer.close()
        report_renewed_messages(received_msgs, first_locks, last_locks, left)


def report_renewed_messages(received_msgs, first_locks, last_locks, left):
    report(
        "renew_messages",
        received=len(received_msgs),
        # Each lock, renewed in the background, now ends well after it first did.
        renewed=sum(
            1
            for first, last in zip(first_locks, last_locks)
            if last - first >= datetime.timedelta(seconds=LOCK_SECONDS)
        ),
        left=len(left),
    )


def renew_lock_on_session_of_the_sessionful_entity():
    with sync_client() as servicebus_client:
        with servicebus_client.get_queue_sender(queue_name=queue("renew-session")) as sender:
            sender.send_messages(
                [ServiceBusMessage("session message: {}".format(i), session_id="SESSION") for i in range(10)]
            )

        renewer = AutoLockRenewer()
        with servicebus_client.get_queue_receiver(
            queue_name=queue("renew-session"), session_id="SESSION", prefetch_count=10
        ) as receiver:
            # automatically renew the lock on the session for longer than the handler takes
            renewer.register(receiver, receiver.session, max_lock_renewal_duration=HANDLING_SECONDS + 3)
            first_lock = receiver.session.locked_until_utc
            received_msgs = receiver.receive_messages(max_message_count=10, max_wait_time=5)
            time.sleep(HANDLING_SECONDS)  # message handling for long period (E.g. application logic)
            last_lock = receiver.session.locked_until_utc
            for msg in received_msgs:
                receiver.complete_message(msg)
            left = receiver.peek_messages(max_message_count=20)
        renewer.close()
        report_renewed_session(received_msgs, first_lock, last_lock, left)


async def renew_lock_on_session_of_the_sessionful_entity_async():
    servicebus_client = async_client()
    async with servicebus_client:
        async with servicebus_client.get_queue_sender(queue_name=queue("renew-session")) as sender:
            await sender.send_messages(
                [ServiceBusMessage("session message: {}".format(i), session_id="SESSION") for i in range(10)]
            )

        renewer = AsyncAutoLockRenewer()
        async with servicebus_client.get_queue_receiver(
            queue_name=queue("renew-session"), session_id="SESSION", prefetch_count=10
        ) as receiver:
            renewer.register(receiver, receiver.session, max_lock_renewal_duration=HANDLING_SECONDS + 3)
            first_lock = receiver.session.locked_until_utc
            received_msgs = await receiver.receive_messages(max_message_count=10, max_wait_time=5)
            await asyncio.sleep(HANDLING_SECONDS)
            last_lock = receiver.session.locked_until_utc
            for msg in received_msgs:
                await receiver.complete_message(msg)
            left = await receiver.peek_messages(max_message_count=20)
        await renewer.close()
        report_renewed_session(received_msgs, first_lock, last_lock, left)


def report_renewed_session(received_msgs, first_lock, last_lock, left):
    report(
        "renew_session",
        received=len(received_msgs),
        session_renewed=last_lock - first_lock >= datetime.timedelta(seconds=LOCK_SECONDS),
        left=len(left),
    )


def renew_lock_with_lock_renewal_failure_callback():
    with sync_client() as servicebus_client:
        with servicebus_client.get_queue_sender(queue_name=queue("renew-failure")) as sender:
            sender.send_messages(ServiceBusMessage("message"))

        failures = []
        with AutoLockRenewer() as renewer:
            # For this sample we're going to set the renewal recurrence of the autolockrenewer to greater than the
            # service side message lock duration, to demonstrate failure.  Normally, this should not be adjusted.
            renewer._sleep_time = LOCK_SECONDS + 1
            with servicebus_client.get_queue_receiver(
                queue_name=queue("renew-failure"), prefetch_count=10
            ) as receiver:

                def on_lock_renew_failure_callback(renewable, error):
                    # If auto-lock-renewal fails, this function will be called.
                    failures.append(str(renewable))

                received_msgs = receiver.receive_messages(max_message_count=1, max_wait_time=5)
                for msg in received_msgs:
                    renewer.register(
                        receiver,
                        msg,
                        max_lock_renewal_duration=FAILURE_HANDLING_SECONDS + 3,
                        on_lock_renew_failure=on_lock_renew_failure_callback,
                    )
                # Cause the messages and autorenewal to time out.
                time.sleep(FAILURE_HANDLING_SECONDS)
                settle_error = None
                try:
                    for msg in received_msgs:
                        receiver.complete_message(msg)
                except ServiceBusError as e:
                    settle_error = type(e).__name__
                # The lock expired on the emulator too: the message is back, with its delivery counted.
                (again,) = receiver.receive_messages(max_message_count=1, max_wait_time=5)
                receiver.complete_message(again)
        report_failure(received_msgs, failures, settle_error, again)


async def renew_lock_with_lock_renewal_failure_callback_async():
    servicebus_client = async_client()
    async with servicebus_client:
        async with servicebus_client.get_queue_sender(queue_name=queue("renew-failure")) as sender:
            await sender.send_messages(ServiceBusMessage("message"))

        failures = []
        async with AsyncAutoLockRenewer() as renewer:
            renewer._sleep_time = LOCK_SECONDS + 1
            async with servicebus_client.get_queue_receiver(
                queue_name=queue("renew-failure"), prefetch_count=10
            ) as receiver:

                async def on_lock_renew_failure_callback(renewable, error):
                    failures.append(str(renewable))

                received_msgs = await receiver.receive_messages(max_message_count=1, max_wait_time=5)
                for msg in received_msgs:
                    renewer.register(
                        receiver,
                        msg,
                        max_lock_renewal_duration=FAILURE_HANDLING_SECONDS + 3,
                        on_lock_renew_failure=on_lock_renew_failure_callback,
                    )
                await asyncio.sleep(FAILURE_HANDLING_SECONDS)
                settle_error = None
                try:
                    for msg in received_msgs:
                        await receiver.complete_message(msg)
                except ServiceBusError as e:
                    settle_error = type(e).__name__
                (again,) = await receiver.receive_messages(max_message_count=1, max_wait_time=5)
                await receiver.complete_message(again)
        report_failure(received_msgs, failures, settle_error, again)


def report_failure(received_msgs, failures, settle_error, again):
    report(
        "renew_failure",
        received=len(received_msgs),
        failures=failures,
        settle_error=settle_error,
        redelivered=[str(again), again.delivery_count],
    )


SCENARIOS = {
    "session_send_receive": (session_send_receive, session_send_receive_async),
    "session_pool_receive": (session_pool_receive, session_pool_receive_async),
    "renew_messages": (
        renew_lock_on_message_received_from_non_sessionful_entity,
        renew_lock_on_message_received_from_non_sessionful_entity_async,
    ),
    "renew_session": (
        renew_lock_on_session_of_the_sessionful_entity,
        renew_lock_on_session_of_the_sessionful_entity_async,
    ),
    "renew_failure": (
        renew_lock_with_lock_renewal_failure_callback,
        renew_lock_with_lock_renewal_failure_callback_async,
    ),
}

run_sync, run_async = SCENARIOS[scenario]
if mode == "sync":
    run_sync()
else:
    asyncio.run(run_async())
report("done")
