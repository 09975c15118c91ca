"""Seed data for SIEM integration: ZPA's default log-streaming formats (json, csv, tsv), which
`lssConfig/logType/formats` returns and a new LSS config uses when no format is given.

The mock answers every logType with the same document (it does not key documents by query), so
these are the User Activity (zpn_trans_log) formats, shortened to their first fields.
"""

from __future__ import annotations

import random

from ._seed import SeedData

__all__ = ["LSS_FORMATS", "seed_siem"]

_FIELDS = ("LogTimestamp:time", "Customer", "SessionID", "ConnectionID", "ConnectionStatus", "Username",
           "ServicePort", "ClientPublicIP", "Application", "AppGroup", "Server", "ConnectionHost")
LSS_FORMATS = {
    "json": "{" + ",".join(f'"{f.split(":")[0]}": %j{{{f}}}' for f in _FIELDS) + "}\\n",
    "csv": ",".join(f"%s{{{f}}}" for f in _FIELDS) + "\\n",
    "tsv": "\\t".join(f"%s{{{f}}}" for f in _FIELDS) + "\\n",
}


def seed_siem(data: SeedData, rng: random.Random) -> None:
    formats = dict(LSS_FORMATS)
    for template in ("/zpa/mgmtconfig/v2/admin/lssConfig/logType/formats",
                     "/zpa/mgmtconfig/v2/admin/customers/{customerId}/lssConfig/logType/formats"):
        data.documents[("zpa", template, ())] = formats
