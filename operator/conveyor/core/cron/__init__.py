"""PipelineCronJob: a PipelineJob created from `jobTemplate` at each scheduled time.

The semantics are Kubernetes CronJob's, with its edge cases:

- Schedule times are computed by croniter in `spec.timeZone` (IANA; default
  UTC). Grammar: five fields (minute hour day-of-month month day-of-week; `*`,
  `?` in the day fields, numbers, 3-letter names, ranges, lists, steps) or
  @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly: what both
  croniter and CronJob (robfig/cron) accept. croniter's extensions (L, W, #,
  H, seconds and year fields) and CronJob's @every are refused.
- Daylight saving time, e.g. Europe/Berlin:
  * spring forward (02:00 -> 03:00 on the last Sunday in March): a wall time
    inside the gap, such as 02:30 of "30 2 * * *", runs once at 03:00 CEST, the
    first instant after the gap (croniter's behaviour, as Vixie cron; CronJob's
    robfig/cron skips it instead). Hourly schedules simply have 23 runs that day.
  * fall back (03:00 -> 02:00 on the last Sunday in October): a wall time in
    the repeated hour runs once, at its first occurrence, when the hour field
    names hours ("30 2 * * *", "0 */2 * * *"); when it is `*` ("0 * * * *",
    "*/15 * * * *") the schedule follows elapsed time and runs in both hours.
- Missed times after downtime (or while suspended): among the times in
  (status.lastScheduleTime, or the creation time, now], only the most recent
  runs (at most one catch-up); more than MAX_MISSED missed (counted only within
  startingDeadlineSeconds when set) start none, with an Event and a status
  message; a most recent time older than startingDeadlineSeconds is skipped
  (MissedSchedule). Either way lastScheduleTime moves on, so it does not repeat.
- Each run is a PipelineJob named `<cron>-<minutes since 1970 of the schedule
  time>`: a restart re-derives the same name, and AlreadyExists means done.
- Forbid skips a time while a run is unfinished (SkippedForbid); Replace
  revokes the unfinished runs and starts the new one; Allow starts it.
- Auto-suspend: after spec.maxConsecutiveFailures FAILED runs in a row (in
  schedule order; REVOKED runs neither count nor reset), status.suspended is
  set with reason TooManyFailures. The operator never writes spec (GitOps), so
  a person resumes it by changing the spec: any later metadata.generation with
  spec.suspend false resumes, e.g. set spec.suspend to true and back to false.
- History: of the finished runs, the newest successfulJobsHistoryLimit
  SUCCESS and failedJobsHistoryLimit FAILED (or REVOKED) are kept.

Pure: no I/O; `now` is passed in.
"""

from __future__ import annotations

from conveyor.core.cron import cronspec, cronstatus, decisions, grammar, runs, times

# The package's public names, defined in its modules (the shell and tests use these).
MACROS = grammar.MACROS
SCHEDULE_PATTERN = grammar.SCHEDULE_PATTERN
zone_of = grammar.zone_of
ConcurrencyPolicy = cronspec.ConcurrencyPolicy
CronSpec = cronspec.CronSpec
Schedule = times.Schedule
Reason = cronstatus.Reason
CronStatus = cronstatus.CronStatus
CRONJOB_LABEL = runs.CRONJOB_LABEL
SCHEDULED_AT_ANNOTATION = runs.SCHEDULED_AT_ANNOTATION
Child = runs.Child
parse_child = runs.parse_child
child_name = runs.child_name
child_manifest = runs.child_manifest
MAX_MISSED = decisions.MAX_MISSED
Decision = decisions.Decision
parse = decisions.parse
invalid = decisions.invalid
decide = decisions.decide
