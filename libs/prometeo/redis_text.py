"""Redis replies as text.

The platform's Redis clients keep `decode_responses` off (JSON values go to pydantic as the bytes they are), so a
reply is bytes; redis-py types it `bytes | str` whichever way a client was built. Keys, members and timestamps that
a store needs as `str` go through `text()`, the one typed place that decodes them.
"""


def text(reply: bytes | str) -> str:
    return reply.decode() if isinstance(reply, bytes) else reply
