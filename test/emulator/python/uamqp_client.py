"""Drives the emulator with uamqp (the C AMQP stack under azure-servicebus 7.x) over plain AMQPS.

Usage: uamqp_client.py <tls port> <CA certificate file> <queue>

The Service Bus SDK always connects to port 5671 (or to WebSocket, with a custom endpoint), so this script
uses uamqp's own API, which takes a port: TLS, SASL MSSBCBS, a CBS put-token, then a send and a peek-lock
receive settled with accepted. Prints one JSON object per step on stdout, for the test to check.
"""
import json
import sys

import uamqp
from uamqp import authentication

port, ca_file, queue = int(sys.argv[1]), sys.argv[2], sys.argv[3]
address = f"amqps://localhost/{queue}"


def report(step, **fields):
    print(json.dumps({"step": step, **fields}, default=str), flush=True)


def auth():
    return authentication.SASTokenAuth.from_shared_access_key(
        f"sb://localhost/{queue}",
        "RootManageSharedAccessKey",
        "SAS_KEY_VALUE",
        port=port,
        verify=ca_file,
    )


with uamqp.SendClient(address, auth=auth()) as sender:
    sender.queue_message(uamqp.Message(b"over amqps"))
    results = sender.send_all_messages()
    report("send", results=[str(result) for result in results])

with uamqp.ReceiveClient(
    address,
    auth=auth(),
    receive_settle_mode=uamqp.constants.ReceiverSettleMode.PeekLock,
    timeout=5000,
) as receiver:
    batch = receiver.receive_message_batch(max_batch_size=1, timeout=5000)
    bodies = []
    for message in batch:
        bodies.append(b"".join(message.get_data()).decode())
        message.accept()
    report("receive", bodies=bodies)

report("done")
