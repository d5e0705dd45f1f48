"""Drives the emulator with Microsoft's Python SDK (azure-servicebus on uamqp), as an application would.

Usage: azure_servicebus_client.py <tls port> <CA certificate file> <queue prefix>

The SDK reaches the emulator through its documented `custom_endpoint_address` option, which makes it speak
AMQP over WebSocket (TLS) to any port; without it, uamqp connects with TLS to port 5671 only. Nothing else is
configured: no shim. Prints one JSON object per step on stdout, for the test to check.
"""
import datetime
import json
import sys
import time

from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusReceiveMode, ServiceBusSubQueue

port, ca_file, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
CONNECTION_STRING = (
    "Endpoint=sb://localhost/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE"
)


STARTED = time.monotonic()


def report(step, **fields):
    elapsed = round(time.monotonic() - STARTED, 2)
    print(json.dumps({"step": step, "elapsed": elapsed, **fields}, default=str), flush=True)


def queue(name):
    return f"{prefix}-{name}"


def receive_one(receiver, wait=5):
    messages = receiver.receive_messages(max_message_count=1, max_wait_time=wait)
    return messages[0] if messages else None


client = ServiceBusClient.from_connection_string(
    CONNECTION_STRING,
    custom_endpoint_address=f"sb://localhost:{port}",
    connection_verify=ca_file,
    retry_total=0,
)

with client:
    # send, receive (peek-lock), complete
    with client.get_queue_sender(queue("basic")) as sender:
        sender.send_messages(ServiceBusMessage("hello", application_properties={"kind": "greeting"}))
        sender.send_messages([ServiceBusMessage("batch-1"), ServiceBusMessage("batch-2")])
    with client.get_queue_receiver(queue("basic")) as receiver:
        bodies = []
        for _ in range(3):
            message = receive_one(receiver)
            bodies.append(str(message))
            receiver.complete_message(message)
        report("complete", bodies=bodies, left=len(receiver.receive_messages(max_wait_time=1)))

    # abandon: redelivered with the delivery count one higher
    with client.get_queue_sender(queue("abandon")) as sender:
        sender.send_messages(ServiceBusMessage("retry me"))
    with client.get_queue_receiver(queue("abandon")) as receiver:
        first = receive_one(receiver)
        receiver.abandon_message(first)
        second = receive_one(receiver)
        receiver.complete_message(second)
        report("abandon", counts=[first.delivery_count, second.delivery_count], body=str(second))

    # dead-letter with reason and description
    with client.get_queue_sender(queue("deadletter")) as sender:
        sender.send_messages(ServiceBusMessage("poison"))
    with client.get_queue_receiver(queue("deadletter")) as receiver:
        receiver.dead_letter_message(receive_one(receiver), reason="Poisoned", error_description="refused")
    with client.get_queue_receiver(queue("deadletter"), sub_queue=ServiceBusSubQueue.DEAD_LETTER) as receiver:
        dead = receive_one(receiver)
        receiver.complete_message(dead)
        report(
            "deadletter",
            body=str(dead),
            reason=dead.dead_letter_reason,
            description=dead.dead_letter_error_description,
            source=dead.dead_letter_source,
        )

    # defer, then receive the deferred message by sequence number and complete it
    with client.get_queue_sender(queue("defer")) as sender:
        sender.send_messages(ServiceBusMessage("later"))
    with client.get_queue_receiver(queue("defer")) as receiver:
        received = receive_one(receiver)
        receiver.defer_message(received)
        meanwhile = receiver.receive_messages(max_wait_time=1)
        (deferred,) = receiver.receive_deferred_messages([received.sequence_number])
        lock_token = deferred.lock_token
        receiver.complete_message(deferred)
        gone = receiver.peek_messages(max_message_count=1, sequence_number=received.sequence_number)
        report(
            "defer",
            meanwhile=len(meanwhile),
            body=str(deferred),
            counts=[received.delivery_count, deferred.delivery_count],
            lock_token=str(lock_token),
            left=len(gone),
        )

    # schedule and cancel
    with client.get_queue_sender(queue("schedule")) as sender:
        now = datetime.datetime.now(datetime.timezone.utc)
        (kept,) = sender.schedule_messages(ServiceBusMessage("soon"), now + datetime.timedelta(seconds=1))
        (cancelled,) = sender.schedule_messages(ServiceBusMessage("never"), now + datetime.timedelta(seconds=1))
        sender.cancel_scheduled_messages(cancelled)
    with client.get_queue_receiver(queue("schedule")) as receiver:
        peeked = receiver.peek_messages(max_message_count=10, sequence_number=1)
        arrived = receive_one(receiver, wait=10)
        receiver.complete_message(arrived)
        after = receiver.receive_messages(max_wait_time=2)
        report(
            "schedule",
            sequence_numbers=[kept, cancelled],
            peeked=[str(message) for message in peeked],
            body=str(arrived),
            after=len(after),
        )

    # peek: without locking, from a sequence number
    with client.get_queue_sender(queue("peek")) as sender:
        sender.send_messages([ServiceBusMessage("p1"), ServiceBusMessage("p2"), ServiceBusMessage("p3")])
    with client.get_queue_receiver(queue("peek")) as receiver:
        peeked = receiver.peek_messages(max_message_count=2, sequence_number=1)
        still = receiver.receive_messages(max_message_count=3, max_wait_time=3)
        for message in still:
            receiver.complete_message(message)
        report("peek", peeked=[str(m) for m in peeked], sequence_numbers=[m.sequence_number for m in peeked],
               received=len(still))

    # renew lock: locked_until_utc moves forward
    with client.get_queue_sender(queue("renew")) as sender:
        sender.send_messages(ServiceBusMessage("long job"))
    with client.get_queue_receiver(queue("renew")) as receiver:
        message = receive_one(receiver)
        before = message.locked_until_utc
        renewed = receiver.renew_message_lock(message)
        receiver.complete_message(message)
        report("renew", later=renewed > before)

    # receive-and-delete: nothing to settle, nothing left
    with client.get_queue_sender(queue("delete")) as sender:
        sender.send_messages(ServiceBusMessage("gone once read"))
    with client.get_queue_receiver(
        queue("delete"), receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    ) as receiver:
        message = receive_one(receiver)
        left = receiver.receive_messages(max_wait_time=1)
        report("receive-and-delete", body=str(message), left=len(left))

report("done")
