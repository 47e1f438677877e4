"""kopf's per-object memory, not kept.

kopf remembers every object it has seen, for the life of the object: a
`ResourceMemory` with a copy of the memo, an error throttler, and the state
of daemons, timers, indexes and change handlers (about 1 KiB each, 10 MiB
for 10,000 PipelineJobs). Conveyor uses none of these: its handlers are
`on.event` only, they never raise (k8s/quarantine.py) and what they need to
remember per object is in its own store and books. So each event gets a
fresh memory, as kopf gives admission webhooks for objects not yet created.
The test of this module fails if a kopf upgrade changes `recall`.
"""

from __future__ import annotations

from typing import Any

from kopf._core.reactor import inventory


class Ephemeral(inventory.ResourceMemories):
    """ResourceMemories that remember nothing between events."""

    async def recall(
        self,
        raw_body: Any,
        *,
        memobase: Any = None,
        noticed_by_listing: bool = False,
        ephemeral: bool = False,
    ) -> inventory.ResourceMemory:
        return await super().recall(
            raw_body, memobase=memobase, noticed_by_listing=noticed_by_listing, ephemeral=True
        )
