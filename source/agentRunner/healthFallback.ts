// Health while the engine still says `starting`. The engine's own check answers late or never: Docker
// before 25 runs the image's first check one interval (30 s) after the start; Docker 25+ after its start
// interval (0.5 s, set at create); Podman runs it from systemd timers only, and where there are none
// (containers, CI, WSL, many servers) the health stays `starting` for good. So while it says `starting`,
// our own readiness probe decides: /readyz answering 200 is `healthy` (the service answers, as `server
// start` said when it returned); anything else leaves `starting`, or is `unhealthy` once the engine's
// first check was due (its interval and timeout, plus a margin) and none is on record: it runs none.
// An engine's `unhealthy` or `healthy` always stands.
import type { ServiceStatus } from '../serviceStatus.js';
import { probeHttp } from '../supervisor/readiness.js';

/** The parts of a container inspection this needs (Docker and Podman both answer them). */
export interface HealthInspect {
	State: { Running: boolean; StartedAt: string; Health?: { Status: string; Log?: unknown[] | null } };
	Config: { Healthcheck?: { Interval?: number; Timeout?: number } | null; [key: string]: unknown };
}

/** Docker's defaults when the image's HEALTHCHECK names no interval or timeout (nanoseconds). */
const defaultIntervalNs = 30e9;
const defaultTimeoutNs = 30e9;
const marginMs = 2000;

/** How long after its start a container's first check should be on record. */
export function firstCheckDueMs(inspect: HealthInspect): number {
	const check = inspect.Config.Healthcheck ?? {};
	return ((check.Interval || defaultIntervalNs) + (check.Timeout || defaultTimeoutNs)) / 1e6 + marginMs;
}

/** True when the engine has recorded no health check although one was due (it runs none). */
export function engineRunsNoHealthChecks(inspect: HealthInspect, nowMs = Date.now()): boolean {
	const health = inspect.State.Health;
	if (!inspect.State.Running || health?.Status !== 'starting' || (health.Log?.length ?? 0) > 0) return false;
	const started = Date.parse(inspect.State.StartedAt);
	return Number.isFinite(started) && nowMs - started >= firstCheckDueMs(inspect);
}

/** The row with its health from the readiness probe while the engine says `starting`. */
export async function withHealthFallback(row: ServiceStatus, inspect: HealthInspect | null, nowMs = Date.now()): Promise<ServiceStatus> {
	if (!inspect || !row.endpoint || !inspect.State.Running || inspect.State.Health?.Status !== 'starting') return row;
	if (await probeHttp(`${row.endpoint}/readyz`, 1000)) return { ...row, health: 'healthy' };
	return engineRunsNoHealthChecks(inspect, nowMs) ? { ...row, health: 'unhealthy' } : row;
}

/** While the service starts, the dashboard asks the probe this often (a cold start takes ≈0.5–1 s). */
const startingRecheckMs = 500;
/** ...for this long after the container's start; then every 5 s */
const startingWindowMs = 60_000;

/**
 * While health reads `starting`, or comes from the probe, nothing from the engine will tell the
 * dashboard that it changed (no health_status event until its own check runs): it looks again after
 * this many ms. `shown` is the health the dashboard shows now (the probe's, when it answered).
 */
export function healthRecheckMs(inspect: HealthInspect | null, nowMs = Date.now(), shown: ServiceStatus['health'] = 'starting'): number | null {
	if (!inspect?.State.Running || inspect.State.Health?.Status !== 'starting') return null;
	const started = Date.parse(inspect.State.StartedAt);
	if (shown === 'starting' && Number.isFinite(started) && nowMs - started < startingWindowMs) return startingRecheckMs;
	const due = Number.isFinite(started) ? started + firstCheckDueMs(inspect) - nowMs : 0;
	return due > 0 ? Math.min(due + 50, 5000) : 5000;
}
