"""Write-back, the doing half: the outbox's actions sent to FreshBooks and M3, exactly once in effect.

``runner.Pusher`` claims due actions per target system and hands them to that system's handlers
(``m3``, ``freshbooks``); ``outcomes`` decides, from the error's class alone, whether an attempt is
retried, in doubt (looked up before anything is resent) or dead. No Dagster here: the push assets and
``finsync push`` both call ``Pusher``.
"""

from finsync_dagster.push.runner import TARGETS, Pusher, PushReport, settled

__all__ = ["TARGETS", "PushReport", "Pusher", "settled"]
