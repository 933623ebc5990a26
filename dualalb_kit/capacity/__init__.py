"""What one task of a service can serve within an SLO, read from its measured ALB and ECS metrics.

The unit of load is **requests per minute per running task**: all of a service's requests (every
ALB it sits behind, ``RequestCount`` summed) divided by its running tasks (``RunningTaskCount``,
else the larger ``HealthyHostCount`` of its target groups). One point per minute (or per load-test
step).

**What breaks the SLO is measured, per minute.** A minute breaks it when its p99 (the larger of the
service's target groups) is above ``slo.p99_ms``, its CPU above ``slo.max_cpu``, or its target 5xx
above what ``slo.max_5xx_per_1k`` allows: more errors than a Poisson count at the SLO's rate reaches
in 99 % of minutes with that many requests (one error in 900 requests is noise at a 1 per 1,000 SLO;
one in 5 is not). Slow, hot or failing minutes are data, never outliers.

**The capacity is where the data show the SLO stop holding.** Minutes are grouped by load into
100 bands of equal width (between the 0.1 % and 99.9 % quantiles of the load; each load-test step is
its own band). The capacity is the highest load up to which at most 1 % of minutes break the SLO
(:data:`BREACH_SHARE`; for load-test steps, half of them: one short step's p99 is often noise): the
load above which the minutes, taken together, break it more often than that. This is where a
monotone (isotonic) fit of the breaking share against load crosses 1 %, found as the band from
which the excess of breaking minutes over 1 % of minutes, summed up to the busiest band, is
largest. ``held_requests_per_task`` is the load of the 10th busiest minute below that band
(:data:`HELD_MINUTES`, so that one spike minute is no evidence; with fewer than 1,000 minutes below
it, the busiest 1 % of them, :data:`HELD_SHARE`, at least one; the busiest step that held for a load
test); ``limited_by`` is the signal (``latency``, ``cpu``, ``errors``) whose own breaking minutes
cross first.

**Curves may extend it, a little.** Between the held load and the first band that breaks the SLO,
or past the busiest minute when nothing broke, two fitted curves predict where the SLO is reached:
CPU as a line (``cpu = a + b x``, minutes below 95 % CPU) and p99 as an M/M/1-shaped queueing curve
(``p99 = p0 / (1 - x / x_sat)``, a line in ``1 / p99``), both over the minutes below the band that
breaks. The capacity is the nearest prediction, but never more than :data:`MAX_EXTRAPOLATION` (15 %)
past the held load and never past the first breaking band; ``extrapolated_by`` says how far it went,
as a fraction of the held load (0: measured). A prediction further out is cut at +15 % and the
confidence is ``low``; with no prediction at all (flat p99, flat CPU: a knee gives no warning, and
5xx are never extrapolated) the capacity is the held load, a lower bound, also ``low``. A load test
is a measurement: its capacity is never extrapolated, and when no step broke the SLO it is the
busiest step, a lower bound (``note`` says so).

**Changes over time.** Within the window the relation between load and p99 or CPU may change (a
release, a noisy neighbour). Per signal, each minute is compared with the median of its load band
(p99 and CPU as fractions of their SLO limits, capped at 2), averaged per hour; the hour that best
splits those residuals into a before and an after is a change when the two sides differ by at least
10 % of the limit (:data:`CHANGE_SHIFT`) and by 6 standard errors of the hourly means
(:data:`CHANGE_Z`), and it is dated to the minute (the largest cumulative residual within an hour of
it). The search repeats on what follows, so the capacity is fitted on the most recent stable
stretch; ``change_at`` is the last change, ``capacity_before_change`` the capacity of the stretch
before it, and a stretch shorter than a day (:data:`MIN_STRETCH_HOURS`) is too short to decide
(``low``). 5xx are too sparse per hour to date a change and are not used for it.

**The interval and the confidence.** The whole estimate is repeated on 200 block-bootstrap
resamples of the stretch's hours (hours drawn with replacement, seeded: the same data give the same
interval); ``capacity_low`` and ``capacity_high`` are their 5th and 95th percentiles (a 90 %
interval; for load-test steps, the held step and the first step that broke; ``capacity_low`` is
empty when more than 5 % of the resamples find no capacity). ``confidence`` is ``high`` when that
interval lies within ±15 % of the capacity (:data:`NARROW`), ``medium`` within ±30 %, and ``low``
when it is wider, when the capacity is a lower bound or was cut at the extrapolation limit, when
the stretch fitted has fewer than 24 hours with data (a day's cycle; for the stretch since a
change: "too short to decide"), or when there is no capacity. Where the
data cannot support an answer (too few minutes, or the SLO already broken at the lowest load seen)
``requests_per_task_at_slo`` is NaN and ``note`` says why (with the SLO broken everywhere,
``capacity_high`` is the lowest load seen: the capacity lies below it).

The fitted curves also describe the service: ``cpu_per_1k_requests`` and ``idle_cpu_percent`` (the
CPU line over every minute below 95 % CPU), ``p99_at_no_load_ms`` and ``saturation_requests_per_task``
(the queueing curve below the breaking band, or over all points when fewer than 10 are below it);
``fit_r2`` is the R² of the limiting signal's curve (for 5xx a weighted hinge ``base + slope
max(0, x - knee)`` over minutes with at least 100 requests and at most 100 errors per 1,000). They
set the capacity only as far as ``extrapolated_by`` says. The banded shares are :func:`slo_bands`;
the recommendation (:func:`dualalb_kit.scaling.recommend_policies`) judges its replayed minutes by
them (:func:`breaking_share`).

**Limits.** The breaking share is assumed not to fall as load rises (a service slow only when
quiet has its quiet breaches pooled with busier minutes); the capacity is the 1 % level, so with
noisy signals it lies below the load at which the *average* signal reaches the limit (by a few
per cent for the generator's CPU noise of 1 point); the resolution is a band, 1 % of the load range.
Load per task assumes the tasks share the load evenly. Nothing is known past 15 % beyond what was
measured, and nothing past the held load for 5xx or a knee. Changes are dated in p99 and CPU only,
need 3 hours of data on either side and a shift of 10 % of the limit (a slow drift is not dated).
The bootstrap draws whole hours, so it sees correlation within an hour but not between days: when
days differ for reasons other than load the interval is too narrow.

One concern per module: ``slo`` (the SLO, the points and which signal breaks it), ``bands`` (load
bands and their breaking shares), ``curves`` (the fitted lines and the 5xx hinge), ``estimate``
(held load, extrapolation, the limiting signal), ``changes`` (change points), ``bootstrap`` (the
interval and the confidence) and ``fit`` (:func:`fit_capacity`, the row and its note).
"""

from .bands import BAND_COLUMNS, BANDS, BREACH_SHARE, SATURATED_CPU, STEP_BREACH_SHARE, breaking_share
from .bootstrap import BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED, INTERVAL, MEDIUM, MISSING_SHARE, NARROW
from .changes import CHANGE_BANDS, CHANGE_SHIFT, CHANGE_Z, MAX_CHANGES, MIN_SIDE_HOURS, SIGNAL_CAP
from .curves import FAILING_PER_1K, MIN_POINTS, MIN_POINTS_PAST_KNEE, MIN_REQUESTS_FOR_RATE
from .estimate import HELD_MINUTES, HELD_SHARE, MAX_EXTRAPOLATION
from .fit import (
    CAPACITY_COLUMNS,
    MIN_STRETCH_HOURS,
    capacity_and_bands,
    capacity_from_points,
    capacity_table,
    fit_capacity,
    slo_bands,
)
from .slo import ERROR_QUANTILE, POINT_COLUMNS, SIGNALS, SLO, service_points, slo_breaches

__all__ = [
    "BANDS",
    "BAND_COLUMNS",
    "BOOTSTRAP_SAMPLES",
    "BOOTSTRAP_SEED",
    "BREACH_SHARE",
    "CAPACITY_COLUMNS",
    "CHANGE_BANDS",
    "CHANGE_SHIFT",
    "CHANGE_Z",
    "ERROR_QUANTILE",
    "FAILING_PER_1K",
    "HELD_MINUTES",
    "HELD_SHARE",
    "INTERVAL",
    "MAX_CHANGES",
    "MAX_EXTRAPOLATION",
    "MEDIUM",
    "MIN_POINTS",
    "MIN_POINTS_PAST_KNEE",
    "MIN_REQUESTS_FOR_RATE",
    "MIN_SIDE_HOURS",
    "MIN_STRETCH_HOURS",
    "MISSING_SHARE",
    "NARROW",
    "POINT_COLUMNS",
    "SATURATED_CPU",
    "SIGNALS",
    "SIGNAL_CAP",
    "SLO",
    "STEP_BREACH_SHARE",
    "breaking_share",
    "capacity_and_bands",
    "capacity_from_points",
    "capacity_table",
    "fit_capacity",
    "service_points",
    "slo_bands",
    "slo_breaches",
]
