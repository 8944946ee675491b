"""The Lua scripts that drive ``wrk``, generated per run. Pure: text in, text out.

Why one connection per wrk thread (``-t C -c C``): wrk calls ``response()`` without
saying which connection it came from, so with several connections per thread a script
cannot tell which request an answer belongs to, nor time it. With one connection per
thread, ``request()`` and ``response()`` alternate strictly, so every answer is timed
from its own send (or, open-loop, from its intended send time) and labelled with its
endpoint, status and refusal code. The cost was measured on this machine against the
trivial responder (``bench/responder.py``): 64 threads x 1 connection make 56,000
requests/s, 256 x 1 make 41,000 — tens of times what the product answers.

Each script is the same prelude (a monotonic microsecond clock through LuaJIT's FFI, the
per-thread record, ``setup``/``done``) plus one *flow*: what a thread sends next and how
it reads the answer. Data too big for a script (identities, slots, bookings) is a Lua
chunk (:func:`data_chunk`) that only wrk's main Lua state loads, in ``setup``; each
thread gets its own slice through ``thread:set``.

Every answer becomes one record, tab-separated: endpoint, HTTP status, refusal code
(or ``-``), latency in microseconds, the monotonic time the answer arrived (µs, the same
clock as Python's ``time.monotonic``), and an extra field (a booking id for a 201 hold).
``done`` writes all threads' records and wrk's error counters to the output file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Lua string literals: JSON's string escapes are valid Lua for the text we put in
# (identifiers, keys, addresses); ``lua_string`` refuses anything else.
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/=?&%+ ")

FLOWS = ("get", "anchor", "hold", "confirm", "availability", "sold_out", "mix")


def lua_string(text: str) -> str:
    if not set(text) <= _SAFE:
        raise ValueError(f"not safe to put in a Lua string: {text!r}")
    return json.dumps(text)


def lua_value(value: object) -> str:
    """A Python value (str, int, float, bool, None, sequences, str-keyed mappings) as a
    Lua expression."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}={lua_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "{" + ",".join(lua_value(v) for v in value) + "}"
    raise TypeError(f"no Lua form for {type(value).__name__}")


@dataclass(frozen=True)
class Who:
    """One identity as a channel relays it (``bench/scenario.py::Identity``)."""

    account_id: int
    patient_id: int
    channel_key: str
    device_id: str
    ip: str

    def lua(self) -> dict[str, object]:
        return {
            "a": self.account_id,
            "p": self.patient_id,
            "k": self.channel_key,
            "d": self.device_id,
            "ip": self.ip,
        }


@dataclass(frozen=True)
class Pacing:
    """Open loop: ``rate`` requests a second in all, spread evenly over ``connections``
    (each sends every ``connections / rate`` seconds, threads offset so the sends
    interleave). Latency counts from the intended send time (:mod:`bench.openloop`)."""

    rate: float
    connections: int

    @property
    def interval_us(self) -> float:
        return self.connections / self.rate * 1_000_000


@dataclass(frozen=True)
class Plan:
    """One wrk phase: the flow, its constants and, per thread, its identities and items.

    ``items[n]``: thread ``n``'s work list (flows ``anchor``, ``hold``, ``confirm``: the
    thread stops when it is done), each item a mapping of short keys.
    """

    flow: str
    connections: int
    out_path: str = ""  # set by ``bench/wrk.py::run``
    identities: Sequence[Sequence[Who]] = ()
    items: Sequence[Sequence[Mapping[str, object]]] = ()
    constants: Mapping[str, object] = field(default_factory=dict)
    pacing: Pacing | None = None

    def __post_init__(self) -> None:
        if self.flow not in FLOWS:
            raise ValueError(f"unknown flow {self.flow!r}")
        for name, per_thread in (("identities", self.identities), ("items", self.items)):
            if per_thread and len(per_thread) != self.connections:
                raise ValueError(f"{name}: one list per connection ({self.connections})")


def split(values: Sequence[object], parts: int) -> list[list[object]]:
    """``values`` dealt round-robin into ``parts`` lists (thread ``n`` gets n, n+parts, ...)."""
    return [list(values[n::parts]) for n in range(parts)]


def data_chunk(plan: Plan) -> str:
    """The per-thread data as a Lua chunk returning, for thread ``n``, the *source* of a
    chunk that returns ``{ids=..., items=...}``: wrk 4.1's ``thread:set`` crashes on
    nested tables, but hands a string over safely, and the thread loads it itself."""
    threads = []
    for n in range(plan.connections):
        ids = [w.lua() for w in plan.identities[n]] if plan.identities else []
        items = list(plan.items[n]) if plan.items else []
        threads.append(_long_string("return " + lua_value({"ids": ids, "items": items})))
    return "return {" + ",\n".join(threads) + "}\n"


def _long_string(text: str) -> str:
    """``text`` as a Lua long string literal (no escapes inside)."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


def script(plan: Plan, *, data_path: str) -> str:
    """The whole wrk script of ``plan``; ``data_path``: where :func:`data_chunk` was
    written."""
    constants = {
        "OUT": plan.out_path,
        "DATA": data_path,
        "FLOW": plan.flow,
        "SEED": 1,
        "PHASE_US": 60_000_000,
        "CONNECTIONS": plan.connections,
        "INTERVAL_US": plan.pacing.interval_us if plan.pacing else 0,
        **plan.constants,
    }
    head = "\n".join(f"{name} = {lua_value(value)}" for name, value in constants.items())
    return "\n".join((head, _PRELUDE, _PACING if plan.pacing else "", _FLOWS[plan.flow]))


_PRELUDE = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } fairslot_ts;
int clock_gettime(int clk, fairslot_ts *tp);
]]
local ts = ffi.new("fairslot_ts")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC, as Python's time.monotonic
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

-- main state: hand each thread its slice of the data
local threads = {}
function setup(thread)
  if ALL == nil then ALL = dofile(DATA) end
  table.insert(threads, thread)
  local n = #threads
  thread:set("tid", n)
  thread:set("MINE", ALL[n] or "return {ids = {}, items = {}}")
end

-- thread state
rec = {}
local sent_at = 0
local intended_at = nil
local current = nil    -- endpoint of the request in flight
local stopped = false

local function code_of(body)
  if body == nil then return "-" end
  return string.match(body, '"error"%s*:%s*"([%w_]+)"') or "-"
end

local function record(status, body, extra)
  local t = now_us()
  local from = intended_at or sent_at
  rec[#rec + 1] = table.concat({current, status, status >= 400 and code_of(body) or "-",
    t - from, t, extra or "-"}, "\t")
end

function init(args)
  mine = loadstring(MINE)()
  math.randomseed(SEED + tid)
end

local function stop()
  stopped = true
  wrk.thread:stop()
end

local function headers_of(who)
  return {["X-Channel-Key"] = who.k, ["X-Device-Id"] = who.d, ["X-End-User-IP"] = who.ip,
          ["User-Agent"] = "fairslot-bench", ["Content-Type"] = "application/json"}
end

local function idle()
  -- a thread whose work is done asks for nothing that counts; wrk may still send it
  current = "idle"
  sent_at = now_us()
  return wrk.format("GET", "/healthz")
end

-- Each thread ends its own phase PHASE_US after its first send, once its last answer
-- is in: nothing is left in flight untimed, as it would be if wrk's -d cut it off.
local first_send = nil
local function send(endpoint, method, path, headers, body)
  local now = now_us()
  if first_send == nil then first_send = now end
  if now - first_send > PHASE_US then
    stop()
    return idle()
  end
  current = endpoint
  sent_at = now
  return wrk.format(method, path, headers, body)
end

local turn = 0
local function next_identity()
  turn = turn + 1
  return mine.ids[(turn - 1) % #mine.ids + 1]
end

function done(summary, latency, requests)
  local f = assert(io.open(OUT, "w"))
  local e = summary.errors
  f:write(table.concat({"#summary", summary.requests, summary.duration, e.connect, e.read,
    e.write, e.status, e.timeout}, "\t"), "\n")
  for _, thread in ipairs(threads) do
    local r = thread:get("rec")
    if r ~= nil and #r > 0 then f:write(table.concat(r, "\n"), "\n") end
  end
  f:close()
end
"""

# Open loop: the send schedule is fixed in advance. ``delay`` (which wrk calls before
# every request, the first one too) waits until the next intended instant, or not at
# all if it has passed; the latency recorded runs from that intended instant, so an
# answer that came late delays the next send without hiding the wait.
_PACING = r"""
local next_at = nil
function delay()
  local now = now_us()
  if next_at == nil then
    next_at = now + INTERVAL_US * (tid - 1) / CONNECTIONS
  end
  intended_at = next_at
  next_at = next_at + INTERVAL_US
  local wait = (intended_at - now) / 1000
  if wait < 0 then return 0 end
  return math.floor(wait)
end
"""

_FLOWS: dict[str, str] = {
    # A fixed GET (the ceiling, the trivial responder).
    "get": r"""
function request() return send(ENDPOINT, "GET", PATH, {["User-Agent"] = "fairslot-bench"}) end
function response(status, headers, body) record(status, body) end
""",
    # The hand-written anchor: one claim per item (a slot of its own), then stop.
    "anchor": r"""
local i = 0
function request()
  i = i + 1
  local item = mine.items[i]
  if item == nil then stop(); return idle() end
  local who = mine.ids[item.w]
  return send("anchor_claim", "POST", "/claim", headers_of(who), string.format(
    '{"slot_id":"%s","account_id":%d,"patient_id":%d,"channel_id":%d}',
    item.s, who.a, who.p, CHANNEL_ID))
end
function response(status, headers, body)
  if current ~= "idle" then record(status, body) end
  if mine.items[i + 1] == nil then stop() end
end
""",
    # Successful holds: each item an identity with a slot (by slot) or a session of
    # plenty (by session), once each.
    "hold": r"""
local i = 0
function request()
  i = i + 1
  local item = mine.items[i]
  if item == nil then stop(); return idle() end
  local who = mine.ids[item.w]
  local target
  if item.s ~= nil then
    target = string.format('"slot_id":"%s"', item.s)
    current = "hold_by_slot"
  else
    target = string.format('"session_id":%d', item.n)
    current = "hold_by_session"
  end
  return send(current, "POST", "/v1/holds", headers_of(who), string.format(
    '{"account_id":%d,"patient_id":%d,%s}', who.a, who.p, target))
end
function response(status, headers, body)
  if current == "idle" then return end
  local booking = status == 201 and string.match(body, '"booking_id"%s*:%s*"([%w%-]+)"') or nil
  record(status, body, booking and (booking .. "@" .. mine.items[i].w .. "@" .. tid) or nil)
  if mine.items[i + 1] == nil then stop() end
end
""",
    # Confirm the holds the hold phase made, once each.
    "confirm": r"""
local i = 0
function request()
  i = i + 1
  local item = mine.items[i]
  if item == nil then stop(); return idle() end
  local who = mine.ids[item.w]
  return send("confirm", "POST", "/v1/bookings/" .. item.b .. "/confirm", headers_of(who),
    string.format('{"account_id":%d,"payment_account":"bench-pay-%d","payment_reference":"BENCH-%s"}',
      who.a, who.a, item.b))
end
function response(status, headers, body)
  if current ~= "idle" then record(status, body) end
  if mine.items[i + 1] == nil then stop() end
end
""",
    # The slot radar: availability of the scarce clinic on the release day.
    "availability": r"""
function request()
  return send("availability", "GET", AVAILABILITY_PATH, headers_of(next_identity()))
end
function response(status, headers, body) record(status, body) end
""",
    # Holds on sessions already sold out: the refusal everybody gets after the release.
    # Marked "again" when this connection (and so the same server worker) had an answer
    # for the same caller before (figures.py::again_window). Kept per caller answered, not
    # per turn: wrk calls request() once more than it sends (the first request is built
    # twice), so a turn is not always a request sent.
    "sold_out": r"""
local k = 0
local asking = nil
local answered = {}
function request()
  local who = next_identity()
  asking = who.a
  k = k % #SOLD_OUT + 1
  return send("sold_out", "POST", "/v1/holds", headers_of(who), string.format(
    '{"account_id":%d,"patient_id":%d,"session_id":%d}', who.a, who.p, SOLD_OUT[k]))
end
function response(status, headers, body)
  record(status, body, answered[asking] and "again" or "first")
  answered[asking] = true
end
""",
    # The release mix, as grab software plays it: hold (a free slot seen in the last
    # poll, else by session), confirm a hold that succeeded, poll, again.
    "mix": r"""
local step = "hold"
local who = nil
local seen = {}
local booking = nil
local k = 0
function request()
  if step == "hold" then
    who = next_identity()
    if #seen > 0 then
      return send("hold_by_slot", "POST", "/v1/holds", headers_of(who), string.format(
        '{"account_id":%d,"patient_id":%d,"slot_id":"%s"}', who.a, who.p,
        seen[math.random(#seen)]))
    end
    k = k % #SCARCE + 1
    return send("hold_by_session", "POST", "/v1/holds", headers_of(who), string.format(
      '{"account_id":%d,"patient_id":%d,"session_id":%d}', who.a, who.p, SCARCE[k]))
  elseif step == "confirm" then
    return send("confirm", "POST", "/v1/bookings/" .. booking .. "/confirm", headers_of(who),
      string.format('{"account_id":%d,"payment_account":"bench-pay-%d","payment_reference":"BENCH-%s"}',
        who.a, who.a, booking))
  end
  return send("availability", "GET", AVAILABILITY_PATH, headers_of(who))
end
function response(status, headers, body)
  record(status, body)
  if step == "hold" then
    booking = status == 201 and string.match(body, '"booking_id"%s*:%s*"([%w%-]+)"') or nil
    step = booking and "confirm" or "poll"
  elseif step == "confirm" then
    step = "poll"
  else
    seen = {}
    if status == 200 then
      for slot in string.gmatch(body, '"slot_id"%s*:%s*"([%w%-]+)"') do seen[#seen + 1] = slot end
    end
    step = "hold"
  end
end
""",
}
