"""The nightly hardware-emulation matrix: matrix files (``spec``), their items and shards (``plan``),
running them (``run``), the HTML report (``html``), merging shard results and the KCIDB export
(``results``)."""
