// Health when the engine runs no health checks. Docker runs the image's HEALTHCHECK itself; Podman runs
// it from systemd timers, and where there are none (containers, CI, WSL, many servers) the container's
// health stays `starting` for good. When a running container's health is still `starting` although the
// engine should have recorded a check by now (its first interval and timeout have passed, plus a margin)
// and has none on record, the health comes from our own readiness probe: /readyz answering 200 is
// `healthy`, anything else `unhealthy`.
import type { ServiceStatus } from '../stack/ServiceStatus.js';
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

/** The row with its health from the readiness probe when the engine runs no health checks. */
export async function withHealthFallback(row: ServiceStatus, inspect: HealthInspect | null, nowMs = Date.now()): Promise<ServiceStatus> {
	if (!inspect || !row.endpoint || !engineRunsNoHealthChecks(inspect, nowMs)) return row;
	return { ...row, health: (await probeHttp(`${row.endpoint}/readyz`, 1000)) ? 'healthy' : 'unhealthy' };
}

/**
 * While health reads `starting`, or comes from the probe, nothing from the engine will tell the
 * dashboard that it changed (no health_status event): it looks again after this many ms.
 */
export function healthRecheckMs(inspect: HealthInspect | null, nowMs = Date.now()): number | null {
	if (!inspect?.State.Running || inspect.State.Health?.Status !== 'starting') return null;
	const started = Date.parse(inspect.State.StartedAt);
	const due = Number.isFinite(started) ? started + firstCheckDueMs(inspect) - nowMs : 0;
	return due > 0 ? Math.min(due + 50, 5000) : 5000;
}
