"""Drives the emulator's administration API with Microsoft's Python SDK, as its mgmt_queue samples do.

Usage: administration_client.py <tls port> <CA certificate file> <queue name> <sync|async>

The operations and their order are those of azure-servicebus 7.x's samples/sync_samples/mgmt_queue.py and
samples/async_samples/mgmt_queue_async.py: create a queue, list queues, get and update it, read its runtime
properties, delete it; and the namespace's properties. The SDK speaks HTTPS to the connection string's host and
port (the emulator's TLS listener), trusting the emulator's certificate through `connection_verify`. Prints one
JSON object per step on stdout, for the test to check.
"""
import asyncio
import json
import os
import sys

from azure.core.exceptions import ResourceNotFoundError
from azure.servicebus.management import ServiceBusAdministrationClient
from azure.servicebus.aio.management import ServiceBusAdministrationClient as AsyncServiceBusAdministrationClient

port, ca_file, queue_name, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
# The sync client's requests transport takes its trusted certificates from here; the async one from
# `connection_verify`.
os.environ["REQUESTS_CA_BUNDLE"] = ca_file
CONNECTION_STRING = (
    f"Endpoint=sb://localhost:{port}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE"
)


def report(step, **fields):
    print(json.dumps({"step": step, **fields}, default=str), flush=True)


def report_queue(step, properties):
    report(
        step,
        name=properties.name,
        max_delivery_count=properties.max_delivery_count,
        dead_lettering_on_message_expiration=properties.dead_lettering_on_message_expiration,
        lock_duration=properties.lock_duration.total_seconds(),
    )


def report_runtime(runtime):
    report(
        "runtime",
        name=runtime.name,
        active=runtime.active_message_count,
        scheduled=runtime.scheduled_message_count,
        dead_letter=runtime.dead_letter_message_count,
        total=runtime.total_message_count,
    )


def run_sync():
    with ServiceBusAdministrationClient.from_connection_string(
        CONNECTION_STRING, connection_verify=ca_file, retry_total=0
    ) as client:
        client.create_queue(queue_name, max_delivery_count=10, dead_lettering_on_message_expiration=True)
        report("list", names=[queue.name for queue in client.list_queues()])
        properties = client.get_queue(queue_name)
        report_queue("get", properties)
        properties.max_delivery_count = 5
        client.update_queue(properties)
        report_queue("updated", client.get_queue(queue_name))
        report_runtime(client.get_queue_runtime_properties(queue_name))
        namespace = client.get_namespace_properties()
        report("namespace", name=namespace.name, messaging_sku=namespace.messaging_sku)
        client.delete_queue(queue_name)
        try:
            client.get_queue(queue_name)
            report("deleted", found=True)
        except ResourceNotFoundError:
            report("deleted", found=False)


async def run_async():
    async with AsyncServiceBusAdministrationClient.from_connection_string(
        CONNECTION_STRING, connection_verify=ca_file, retry_total=0
    ) as client:
        await client.create_queue(queue_name, max_delivery_count=10, dead_lettering_on_message_expiration=True)
        report("list", names=[queue.name async for queue in client.list_queues()])
        properties = await client.get_queue(queue_name)
        report_queue("get", properties)
        properties.max_delivery_count = 5
        await client.update_queue(properties)
        report_queue("updated", await client.get_queue(queue_name))
        report_runtime(await client.get_queue_runtime_properties(queue_name))
        namespace = await client.get_namespace_properties()
        report("namespace", name=namespace.name, messaging_sku=namespace.messaging_sku)
        await client.delete_queue(queue_name)
        try:
            await client.get_queue(queue_name)
            report("deleted", found=True)
        except ResourceNotFoundError:
            report("deleted", found=False)


if mode == "async":
    asyncio.run(run_async())
else:
    run_sync()
report("done")
