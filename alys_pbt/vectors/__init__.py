"""Conformance vectors: generated from the references, replayed against any target (docs/vectors.md).

`python -m alys_pbt.vectors generate --out DIR` writes them; `python -m alys_pbt.vectors run DIR
--target SPEC` replays them. Families of rules live in `alys_pbt.vectors.families` (one module
each, exporting `RULES`; the contract is `alys_pbt.vectors.rule`).
"""
