"""python-dateutil >= 2.5.0 no longer parses '15/08/14,10:52:07' (a comma between date and time).

Upstream: https://github.com/dateutil/dateutil/issues/203 (open).
2.4.2 returns datetime(2014, 8, 15, 10, 52, 7); from 2.5.0 on, parse() raises ValueError whose
wording changed three times:
  2.5.0-2.6.1   ValueError: Unknown string format
  2.7.0-2.8.0   ValueError: ('Unknown string format:', '15/08/14,10:52:07')
  2.8.1-        dateutil.parser._parser.ParserError (a ValueError): Unknown string format: 15/08/14,10:52:07
"""

import collections
import collections.abc

# dateutil <= 2.4.2 uses collections.Callable, removed in Python 3.10; restore the alias so
# those old (good) releases can be imported on 3.11. Newer releases never look at it.
if not hasattr(collections, "Callable"):
    collections.Callable = collections.abc.Callable

from dateutil import parser


def replay(text: str = "15/08/14,10:52:07") -> None:
    parser.parse(text)


if __name__ == "__main__":
    replay()
