"""Top-level import names whose distribution on PyPI is named otherwise (``yaml`` is PyYAML's): data only.

The repair of an undeclared dependency asks the index for a project named as the module first when the name
is not listed here; this table covers only the mismatches, the widely known ones that tools such as pipreqs
(its ``mapping`` file) and pip's own error hints list as well. One distribution per name: where several
provide a module (``cv2``), the one a user gets from ``pip install`` in the usual case is named. It is data,
kept small on purpose: a module missing from it falls back to its own name, and a user can always write the
distribution into the case's ``requirements``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

IMPORT_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "attr": "attrs",
        "bs4": "beautifulsoup4",
        "Crypto": "pycryptodome",
        "cv2": "opencv-python",
        "dateutil": "python-dateutil",
        "docx": "python-docx",
        "dotenv": "python-dotenv",
        "fitz": "PyMuPDF",
        "gi": "PyGObject",
        "git": "GitPython",
        "google_auth_oauthlib": "google-auth-oauthlib",
        "jose": "python-jose",
        "jwt": "PyJWT",
        "magic": "python-magic",
        "MySQLdb": "mysqlclient",
        "OpenSSL": "pyOpenSSL",
        "PIL": "pillow",
        "pkg_resources": "setuptools",
        "pptx": "python-pptx",
        "psycopg2": "psycopg2-binary",
        "pydispatch": "PyDispatcher",
        "serial": "pyserial",
        "sklearn": "scikit-learn",
        "skimage": "scikit-image",
        "slugify": "python-slugify",
        "telegram": "python-telegram-bot",
        "usb": "pyusb",
        "win32api": "pywin32",
        "wx": "wxPython",
        "yaml": "PyYAML",
        "zmq": "pyzmq",
    }
)
