"""A small JSON-RPC 2.0 client over Python `websockets`, written from the
specification (https://www.jsonrpc.org/specification), for the interop tests.

It checks what the server sends as strictly as it builds what it sends:
every response must have "jsonrpc": "2.0", an id, and exactly one of
"result" and "error" (an object with an integer "code" and a string
"message"); a batch answer must be an array of such responses with no id
repeated and none for a notification. A violation raises ProtocolViolation.
Requests from the server (it may call its client) are answered -32601, since
this client serves no methods; server notifications are queued.
"""
from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any


class ProtocolViolation(AssertionError):
    """The server sent something the specification does not allow."""


class JsonRpcError(Exception):
    """An error response (§5.1)."""

    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.data = code, message, data


_ABSENT = object()


def check_response(obj: Any) -> dict:
    """Validates one Response object (§5) and returns it."""
    if not isinstance(obj, dict):
        raise ProtocolViolation(f"a response must be an object: {obj!r}")
    if obj.get("jsonrpc") != "2.0":
        raise ProtocolViolation(f'"jsonrpc" must be exactly "2.0": {obj!r}')
    if "id" not in obj:
        raise ProtocolViolation(f'a response must have an "id" (null when unknown): {obj!r}')
    if not (obj["id"] is None or isinstance(obj["id"], (str, int, float))) or isinstance(obj["id"], bool):
        raise ProtocolViolation(f"an id is a string, a number or null: {obj!r}")
    if ("result" in obj) == ("error" in obj):
        raise ProtocolViolation(f'exactly one of "result" and "error": {obj!r}')
    if "error" in obj:
        err = obj["error"]
        if not isinstance(err, dict) or not isinstance(err.get("code"), int) or isinstance(err.get("code"), bool) \
                or not isinstance(err.get("message"), str):
            raise ProtocolViolation(f'"error" must have an integer "code" and a string "message": {obj!r}')
        extra = set(err) - {"code", "message", "data"}
        if extra:
            raise ProtocolViolation(f"unknown members in an error object: {extra}")
    extra = set(obj) - {"jsonrpc", "result", "error", "id"}
    if extra:
        raise ProtocolViolation(f"unknown members in a response: {extra}")
    return obj


class JsonRpcClient:
    """JSON-RPC 2.0 over one open `websockets` connection."""

    def __init__(self, ws):
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[Any, asyncio.Future] = {}
        self._batches: list[tuple[set, asyncio.Future]] = []
        self.notifications: asyncio.Queue = asyncio.Queue()
        # Responses with id null (the server could not read our id): parse errors, invalid requests.
        self.orphans: asyncio.Queue = asyncio.Queue()
        self.violation: Exception | None = None
        self._reader = asyncio.create_task(self._read())

    async def close(self):
        """Stops reading (the connection stays open); raises what the reader found wrong, if anything."""
        self._reader.cancel()
        try:
            await self._reader
        except asyncio.CancelledError:
            pass
        if self.violation is not None:
            raise self.violation

    # -- sending ------------------------------------------------------------

    @staticmethod
    def request(method: str, params: Any = _ABSENT, id: Any = _ABSENT) -> dict:
        """A Request object (§4); without id it is a Notification (§4.1)."""
        if params is not _ABSENT and not isinstance(params, (list, dict)):
            raise TypeError("params must be structured: a list or a dict (§4.2)")
        obj: dict = {"jsonrpc": "2.0", "method": method}
        if params is not _ABSENT:
            obj["params"] = params
        if id is not _ABSENT:
            obj["id"] = id
        return obj

    async def call(self, method: str, params: Any = _ABSENT, timeout: float = 10.0) -> Any:
        """Calls `method`; returns its result or raises JsonRpcError."""
        id = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._pending[id] = fut
        try:
            await self.ws.send(json.dumps(self.request(method, params, id)))
            response = await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(id, None)
        return self._outcome(response)

    async def notify(self, method: str, params: Any = _ABSENT):
        await self.ws.send(json.dumps(self.request(method, params)))

    async def batch(self, requests: list[dict], timeout: float = 10.0) -> list[dict] | None:
        """Sends Request objects as one batch (§6). Returns the responses in the order of the
        requests that have an id, or None when every member is a notification (and then
        checks that nothing at all is answered)."""
        ids = [r["id"] for r in requests if "id" in r]
        if len(set(map(json.dumps, ids))) != len(ids):
            raise ValueError("ids in a batch must be unique to match answers")
        if not ids:
            await self.ws.send(json.dumps(requests))
            return None
        fut = asyncio.get_running_loop().create_future()
        entry = ({json.dumps(i) for i in ids}, fut)
        self._batches.append(entry)
        try:
            await self.ws.send(json.dumps(requests))
            responses = await asyncio.wait_for(fut, timeout)
        finally:
            if entry in self._batches:
                self._batches.remove(entry)
        by_id = {json.dumps(r["id"]): r for r in responses}
        if set(by_id) != entry[0] or len(responses) != len(ids):
            raise ProtocolViolation(f"a batch answer must have one response per request with an id: {responses!r}")
        return [by_id[json.dumps(i)] for i in ids]

    @staticmethod
    def _outcome(response: dict) -> Any:
        if "error" in response:
            e = response["error"]
            raise JsonRpcError(e["code"], e["message"], e.get("data"))
        return response["result"]

    # -- receiving ----------------------------------------------------------

    async def _read(self):
        try:
            await self._read_messages()
        except (ProtocolViolation, ValueError) as e:
            # Every waiting caller learns why, instead of timing out.
            self.violation = e
            for fut in [*self._pending.values(), *(f for _, f in self._batches)]:
                if not fut.done():
                    fut.set_exception(e)

    async def _read_messages(self):
        async for message in self.ws:
            data = json.loads(message)
            if isinstance(data, list):
                if not data:
                    raise ProtocolViolation("a batch answer is never an empty array (§6)")
                responses = [check_response(r) for r in data]
                keys = {json.dumps(r["id"]) for r in responses}
                for entry in self._batches:
                    if keys <= entry[0] and not entry[1].done():
                        entry[1].set_result(responses)
                        break
                else:
                    raise ProtocolViolation(f"an array answered nothing we sent as a batch: {data!r}")
            elif isinstance(data, dict) and "method" in data:
                if data.get("jsonrpc") != "2.0" or not isinstance(data["method"], str):
                    raise ProtocolViolation(f"invalid request from the server: {data!r}")
                if "id" in data:  # a call to us: we serve nothing
                    await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": data["id"],
                                                   "error": {"code": -32601, "message": "Method not found"}}))
                else:
                    await self.notifications.put(data)
            else:
                response = check_response(data)
                fut = self._pending.get(response["id"]) if isinstance(response["id"], int) else None
                if fut is not None and not fut.done():
                    fut.set_result(response)
                elif response["id"] is None:
                    await self.orphans.put(response)
                else:
                    raise ProtocolViolation(f"a response to no request of ours: {data!r}")
