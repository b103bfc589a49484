"""packaging 22.0-25.0: a version comparison marker on a non-PEP 440 platform_release raises InvalidVersion.

Upstream: https://github.com/pypa/packaging/issues/774
Linux kernel releases such as '5.15.0-91-generic' are not PEP 440 versions. Up to 21.3 they were
compared as LegacyVersion (the marker evaluates to False); 22.0 removed LegacyVersion and
Marker.evaluate() raises packaging.version.InvalidVersion instead. From 26.0 Specifier.contains()
returns False for an invalid version (PR #932), so evaluate() returns False again.
The environment is passed explicitly, so the result does not depend on the machine's kernel.
"""

from packaging.markers import Marker


def replay(marker: str = 'platform_release >= "5.0"', platform_release: str = "5.15.0-91-generic") -> None:
    Marker(marker).evaluate({"platform_release": platform_release})


if __name__ == "__main__":
    replay()
