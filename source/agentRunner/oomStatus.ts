// OOM kills in the status row (status and the dashboard alike): the home's record (home/OomRecord.ts)
// brought up to date with the engine's events (agentRunner/oomEvents.ts) and, for the processes killed
// inside a running container, with the container's cgroup counter where it is on this machine
// (platform/cgroupOomKills.ts: a local Docker or Podman; not a remote engine, a VM, docker in docker with
// its own pids): the one source every engine has, `oom` event or not. The events then only date the kill;
// with no `oom` event (Podman, or a Docker whose shim sent none), a kill inside is dated when it was first
// read (the dashboard reads at each `oom` event's inspection on Docker, and watches it where no `oom` event
// comes, dashboard/containerFeed.ts; `status` reads when it runs). Elsewhere the `oom` events count.
import type { DockerApi } from '../engine/DockerApi.js';
import { type OomRecord, oomSeen, readOomRecord, writeOomRecord } from '../home/OomRecord.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { cgroupOomKills } from '../platform/cgroupOomKills.js';
import type { ServiceStatus } from '../serviceStatus.js';
import type { ContainerInspect } from './ContainerService.js';
import { foldOomEvents, type OomEvent, oomUndecided, pastOomEvents } from './oomEvents.js';

export interface OomState {
	record: OomRecord | null;
	/** an `oom` came less than dieWindowMs ago with no `die` yet: ask again after that window */
	undecided: boolean;
}

/** The record of the container, with what the engine's events add to it (written back when they do). */
export async function refreshOomRecord(api: DockerApi, home: StigmerHome, inspect: ContainerInspect | null, nowMs = Date.now()): Promise<OomState> {
	const stored = readOomRecord(home);
	if (!inspect) return { record: null, undecided: false };
	const known = stored?.containerId === inspect.Id ? stored : null;
	const sinceMs = Math.max(Date.parse(inspect.Created) || 0, (known?.seenUntilNano ?? 0) / 1e6);
	let events: Awaited<ReturnType<typeof pastOomEvents>>;
	try {
		events = await pastOomEvents(api, inspect.Id, sinceMs, nowMs);
	} catch {
		return { record: known, undecided: false }; // an engine that cannot list past events: what the home knows
	}
	const cgroupCount = inspect.State.Running ? cgroupOomKills(inspect.State.Pid, inspect.Id) : null;
	const record = foldOomEvents(known, inspect.Id, events, nowMs, cgroupCount === null);
	if (cgroupCount !== null) countFromCgroup(record, inspect, cgroupCount, events, nowMs);
	if (oomSeen(record) && JSON.stringify(record) !== JSON.stringify(known)) {
		try {
			home.ensureLayout();
			writeOomRecord(home, record);
		} catch {
			// a home that cannot be written: shown now, not kept
		}
	}
	return { record: oomSeen(record) ? record : null, undecided: oomUndecided(events, record) };
}

/**
 * Kills inside the container the cgroup counted since the container's start and the record does not hold
 * yet, dated by the latest `oom` event since the last one counted when the engine sent one, else now.
 */
function countFromCgroup(record: OomRecord, inspect: ContainerInspect, count: number, events: OomEvent[], nowMs: number): void {
	const counted = record.cgroup?.startedAt === inspect.State.StartedAt ? record.cgroup.count : 0;
	if (count > counted) {
		const after = Math.max(Date.parse(inspect.State.StartedAt) || 0, record.lastProcessKillAt ? Date.parse(record.lastProcessKillAt) : 0) * 1e6;
		const oomTimes = events.filter((e) => e.action === 'oom' && e.timeNano > after).map((e) => e.timeNano);
		record.processKills += count - counted;
		record.lastProcessKillAt = new Date(oomTimes.length > 0 ? Math.round(Math.max(...oomTimes) / 1e6) : nowMs).toISOString();
	}
	if (count > 0 || record.cgroup) record.cgroup = { startedAt: inspect.State.StartedAt, count };
}

/** The row with what the record says: oomKilled and when, and the processes killed inside. */
export function withOom(row: ServiceStatus, record: OomRecord | null): ServiceStatus {
	if (!record || record.containerId !== row.id) return row;
	const next: ServiceStatus = { ...row };
	if (record.killedAt) {
		next.oomKilled = true;
		next.oomKilledAt = record.killedAt;
	}
	if (record.processKills > 0 && record.lastProcessKillAt) next.oomKills = { count: record.processKills, lastAt: record.lastProcessKillAt };
	return next;
}

/** "OOM-killed at 21:58:03; 2 processes OOM-killed, the last at 22:01:10" (local time), or null. */
export function oomNote(row: ServiceStatus): string | null {
	const time = (at: string) => new Date(at).toLocaleTimeString('en-GB', { hour12: false });
	const parts: string[] = [];
	if (row.oomKilledAt) parts.push(`OOM-killed at ${time(row.oomKilledAt)}`);
	if (row.oomKills) parts.push(`${row.oomKills.count} process${row.oomKills.count === 1 ? '' : 'es'} OOM-killed, the last at ${time(row.oomKills.lastAt)}`);
	return parts.length > 0 ? parts.join('; ') : null;
}
