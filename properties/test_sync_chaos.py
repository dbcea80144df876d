"""Sync under the chaos issue 16 asks for (models/machines/sync.py SyncUnderFaultsMachine): two
syncs of one node running at once, parallel downloads meeting faulty, lying and forked peers, and
a disk that runs full and stays full until space is freed."""

from __future__ import annotations

import pytest

from alys_pbt.killing import kills
from alys_pbt.machines import machine_test
from alys_pbt.models.machines.sync import SyncUnderFaultsMachine

pytestmark = pytest.mark.sync

TestSyncUnderFaults = machine_test(
    kills(
        "sync-health-per-engine",
        "sync-parallel-bad-block-uncharged",
        "sync-parallel-ignores-backoff",
        "sync-head-moves-before-store",
    )(SyncUnderFaultsMachine)
)
