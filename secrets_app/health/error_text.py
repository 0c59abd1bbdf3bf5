"""The part of a mount error worth reading first.

Every failed mount reaches the portal wrapped by the kubelet and the CSI
driver (``design/DOMAIN.md``, "What the cluster tells about a mount")::

    MountVolume.SetUp failed for volume "<vol>" : rpc error: code = Unknown
    desc = failed to mount secrets store objects for pod <ns>/<pod>, err:
    rpc error: code = Unknown desc = <provider error>

A dashboard column of those shows the same hundred characters on every row
and cuts off the provider's words, the only ones that differ. The pages show
what is left after the wrappers, with the whole text a click away.
"""

from __future__ import annotations

import re

# The wrappers, in any order and any number of times: the kubelet's, its CSI
# client's, the driver's, and each gRPC hop's status. Only whole, known
# prefixes are removed, so an unknown text stays as it is.
_WRAPPERS = re.compile(
    r"""(?:
        MountVolume\.SetUp\ failed\ for\ volume\ "[^"]*"\ :\s*
      | kubernetes\.io/csi:\ mounter\.SetUpAt\ failed\ to\ get\ CSI\ client:\s*
      | rpc\ error:\ code\ =\ \w+\ desc\ =\s*
      | failed\ to\ mount\ secrets\ store\ objects\ for\ pod\ \S+,\ err:\s*
    )""",
    re.VERBOSE,
)


def distinctive(message: str) -> str:
    """``message`` without the kubelet's and the driver's wrappers in front;
    the message itself when nothing (or nothing but wrappers) would be left."""
    rest = message.strip()
    while match := _WRAPPERS.match(rest):
        rest = rest[match.end() :]
    return rest or message.strip()
