"""Drives the emulator with Apache Qpid Proton's blocking API and its default link options.

Usage: proton_client.py <port> <tls port> <CA certificate file> <queue>

Connects as Microsoft's Proton samples do (amqps, SASL PLAIN with the key name and key) and also over plain
TCP with SASL ANONYMOUS, then sends, receives on a non-empty queue (Proton pipelines attach and flow),
settles with each outcome, and uses $cbs and $management with request/response link pairs. Prints one JSON
object per step on stdout, for the test to check.
"""
import gc
import json
import sys
import uuid

from proton import Message, SSLDomain, symbol
from proton.reactor import LinkOption
from proton.utils import BlockingConnection

port, tls_port, ca_file, queue = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]


def report(step, **fields):
    print(json.dumps({"step": step, **fields}, default=str), flush=True)


class Target(LinkOption):
    """A receiver's fixed target address: the reply-to address of a request/response pair."""

    def __init__(self, address):
        self.address = address

    def apply(self, link):
        link.target.address = self.address


def request(connection, node, operation, body, application_properties=None):
    """One request/response exchange; both links share one name, as Proton allows (AMQP §2.6.1)."""
    name = f"{node}-{uuid.uuid4()}"
    receiver = connection.create_receiver(node, name=name, options=Target(name), credit=1)
    sender = connection.create_sender(node, name=name)
    properties = {"operation": operation, **(application_properties or {})}
    sender.send(Message(id=str(uuid.uuid4()), reply_to=name, properties=properties, body=body))
    reply = receiver.receive(timeout=10)
    receiver.accept()
    sender.close()
    receiver.close()
    return reply


ssl = SSLDomain(SSLDomain.MODE_CLIENT)
ssl.set_trusted_ca_db(ca_file)
ssl.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
secure = BlockingConnection(
    f"amqps://RootManageSharedAccessKey:SAS_KEY_VALUE@localhost:{tls_port}",
    ssl_domain=ssl,
    allowed_mechs="PLAIN",
    timeout=20,
)

# $cbs: put-token, as an SDK does before it attaches to an entity
reply = request(
    secure,
    "$cbs",
    "put-token",
    "SharedAccessSignature sr=sb%3a%2f%2flocalhost%2fq&sig=x&se=9999999999&skn=RootManageSharedAccessKey",
    {"type": "servicebus.windows.net:sastoken", "name": f"sb://localhost/{queue}"},
)
report("cbs", status=reply.properties.get("status-code"), correlation=reply.correlation_id is not None)

# send: four messages, each settled by the emulator
sender = secure.create_sender(queue)
for body in ["released", "modified", "rejected", "accepted"]:
    sender.send(Message(body=body, properties={"outcome": body}))
sender.close()
report("send", sent=4)

# $management: peek the queue's messages without locking them
reply = request(
    secure,
    f"{queue}/$management",
    "com.microsoft:peek-message",
    {"from-sequence-number": 1, "message-count": 10},
)
report("management", status=reply.properties.get("statusCode"), peeked=len(reply.body["messages"]))

# receive on the non-empty queue with the default receiver (attach and flow pipelined), and settle with each
# outcome: "released" and "modified" are settled so the first time, and accepted when they come back.
plain = BlockingConnection(f"amqp://localhost:{port}", allowed_mechs="ANONYMOUS", timeout=20)
receiver = plain.create_receiver(queue)
counts = {}
while sum(len(seen) for seen in counts.values()) < 6:
    message = receiver.receive(timeout=10)
    seen = counts.setdefault(message.body, [])
    seen.append(message.delivery_count)
    if message.body == "released" and len(seen) == 1:
        receiver.release(delivered=False)  # RELEASED: not a delivery attempt
    elif message.body == "modified" and len(seen) == 1:
        receiver.release(delivered=True)  # MODIFIED, delivery-failed: counted, as an abandon
    elif message.body == "rejected":
        receiver.reject()  # REJECTED: dead-lettered
    else:
        receiver.accept()
receiver.close()
report("settle", delivery_counts=counts)

dead_letters = plain.create_receiver(f"{queue}/$DeadLetterQueue")
dead = dead_letters.receive(timeout=10)
dead_letters.accept()
dead_letters.close()
report("dead-letter", body=dead.body)

plain.close()
secure.close()
# Proton's blocking receivers clean up in __del__, which fails noisily if left to interpreter shutdown.
del receiver, dead_letters
gc.collect()
report("done")
