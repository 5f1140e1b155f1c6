"""Signed but hostile tokens: any JSON text, signed with a key the verifier trusts.

Our own signer cannot make most of these (it refuses NaN and never nests deeply), so the JSON
text is written by hand and signed as it is. Shared by the protocol, command-line and page tests.
"""

from __future__ import annotations

import json
import tracemalloc
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st

from blauweknop.protocol.encoding import b64url_encode, json_dumps
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import SigningKey

MiB = 1024 * 1024
MEMORY_LIMIT = 32 * MiB  # what one refusal may cost at most; a deflate bomb below would need 64 MiB


def sign_text(payload: str, key: SigningKey, typ: str) -> str:
    """A compact JWS over exactly the JSON text ``payload``."""
    header = b64url_encode(json_dumps({"alg": key.alg, "typ": typ, "kid": key.kid}).encode())
    signing_input = f"{header}.{b64url_encode(payload.encode())}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def disclosure_text(content: str) -> str:
    """A disclosure whose JSON text is exactly ``content`` (normally ``[salt, name, value]``)."""
    return b64url_encode(content.encode())


def object_text(members: Mapping[str, str]) -> str:
    """A JSON object from member names and the JSON text of each value."""
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in members.items()) + "}"


def status_list_payload(lst: str, **members: Any) -> str:
    """The payload text of a Status List Token with ``members`` and a 1-bit list ``lst`` (JSON text)."""
    return object_text({**{k: json_dumps(v) for k, v in members.items()}, "status_list": f'{{"bits":1,"lst":{lst}}}'})


# A status list that inflates to 64 MiB: about 64 kB of text.
BOMB = json.dumps(b64url_encode(zlib.compress(bytes(64 * MiB), 9)))

_NUMBERS = st.sampled_from(
    ["1e400", "-1e400", "1e308", "-1e308", "1E-400", "-0", "-1", "0", "1.5", "2e9", "18446744073709551616", "9" * 4000]
)
_WORDS = ["true", "false", "null", '""', '"ES256"', '"https://x.example"', BOMB]
_SCALARS = st.one_of(
    _NUMBERS,
    st.integers(0, len(_WORDS) - 1).map(_WORDS.__getitem__),  # by index: the bomb would bloat every repr
    st.text(max_size=30).map(json.dumps),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
_DEEP = st.sampled_from([40, 1_000, 100_000]).map(lambda depth: "[" * depth + "1" + "]" * depth)


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.dictionaries(st.text(max_size=8), children, max_size=4).map(object_text),
    )


VALUES = st.one_of(st.recursive(_SCALARS, _compound, max_leaves=10), _DEEP)


@st.composite
def mutated(draw: st.DrawFn, base: Mapping[str, Any]) -> str:
    """The JSON text of ``base`` with members dropped, replaced by hostile values, or added.

    A member whose value is a strategy is drawn from it, as JSON text.
    """
    members: dict[str, str] = {}
    for name, value in base.items():
        choice = draw(st.sampled_from(["keep", "keep", "drop", "replace"]))
        if choice == "keep":
            members[name] = draw(value) if isinstance(value, st.SearchStrategy) else json_dumps(value)
        elif choice == "replace":
            members[name] = draw(VALUES)
    members.update(draw(st.dictionaries(st.text(max_size=8), VALUES, max_size=3)))
    return object_text(members)


def refused_or_accepted(call: Callable[[], Any]) -> ProtocolError | None:
    """Run a verifier: it may accept or refuse with a ProtocolError, nothing else, in bounded memory."""
    tracemalloc.start()
    try:
        call()
    except ProtocolError as exc:
        return exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MEMORY_LIMIT, f"the verifier used {peak // MiB} MiB"
    return None
